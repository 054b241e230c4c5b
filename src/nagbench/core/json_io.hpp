#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace nagbench {

// Writes `doc` to `path` through a temporary file in the same directory and an atomic rename, so a reader (or
// a crash) never sees a half-written result. Throws RunError on failure.
void write_json_atomically(const std::string& path, const nlohmann::json& doc);

// Fails early (as an InputError) when a result could not be written later: the directory does not exist or is
// not writable. Called before any work starts.
void check_output_path_writable(const std::string& path);

}  // namespace nagbench
