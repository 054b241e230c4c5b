#include "nagbench/core/json_io.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "nagbench/core/errors.hpp"

namespace nagbench {
namespace {
std::string parent_dir(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}
}  // namespace

void check_output_path_writable(const std::string& path) {
  if (path.empty()) return;
  const std::string dir = parent_dir(path);
  if (access(dir.c_str(), W_OK) != 0) {
    throw InputError("cannot write output file '" + path + "': directory '" + dir + "' " +
                     (errno == ENOENT ? "does not exist" : std::strerror(errno)));
  }
  if (path.back() == '/') throw InputError("output path '" + path + "' names a directory, not a file");
}

void write_json_atomically(const std::string& path, const nlohmann::json& doc) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) throw RunError("cannot create '" + tmp + "': " + std::strerror(errno));
    out << doc.dump(2) << '\n';
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw RunError("failed writing '" + tmp + "'");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    throw RunError("cannot rename '" + tmp + "' to '" + path + "': " + why);
  }
}

}  // namespace nagbench
