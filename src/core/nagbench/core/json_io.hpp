#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace nagbench {

// Refuses, as an InputError, an output path that could not be written at the end of a run, before any work
// starts: an empty name, a directory, a name longer than the file system allows, a path through a missing or
// read-only directory, an existing file that is not a regular file (a device node, a FIFO), or a symbolic
// link (say the target instead: the result would replace the link). An existing regular file is replaced (or,
// for FILE.jsonl, appended to) and keeps its permissions.
void check_output_path(const std::string& path);

// True for paths that get JSON Lines (one record per line, appended): names ending in ".jsonl".
bool is_json_lines_path(const std::string& path);

// Writes `doc` to `path` through a temporary file in the same directory (fsync'ed) and an atomic rename, so a
// reader (or a crash) never sees a half-written result. An existing file's mode is kept. Throws RunError with
// the system's reason (e.g. "No space left on device") on failure, leaving no temporary file behind.
void write_json_atomically(const std::string& path, const nlohmann::json& doc);

// Appends `record` as one line to `path` with a single write on an O_APPEND descriptor, so concurrent writers
// and a kill leave only whole lines. Throws RunError with the system's reason on failure.
void append_json_line(const std::string& path, const nlohmann::json& record);

}  // namespace nagbench
