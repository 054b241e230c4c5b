#include "nagbench/core/json_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
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

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

const char* kind_of(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISSOCK(m)) return "a socket";
  if (S_ISLNK(m)) return "a symbolic link";
  return "not a regular file";
}

// Writes all of `data` to `fd`; false with errno set on failure (a full disk gives ENOSPC).
bool write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) {
      errno = EIO;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

bool is_json_lines_path(const std::string& path) {
  return path.size() > 6 && path.compare(path.size() - 6, 6, ".jsonl") == 0;
}

void check_output_path(const std::string& path) {
  const std::string name = "output file '" + path + "'";
  if (path.empty()) throw InputError("--output needs a file name (got an empty one)");
  if (path.back() == '/') throw InputError(name + " names a directory, not a file");
  const std::string base = base_name(path);
  if (base == "." || base == "..") throw InputError(name + " names a directory, not a file");
  const std::string dir = parent_dir(path);
  const long name_max = pathconf(dir.c_str(), _PC_NAME_MAX);
  if (base.size() > static_cast<size_t>(name_max > 0 ? name_max : NAME_MAX))
    throw InputError(name + ": the file name is " + std::to_string(base.size()) + " bytes, longer than the " +
                     std::to_string(name_max > 0 ? name_max : NAME_MAX) + " this file system allows");
  struct stat dst;
  if (stat(dir.c_str(), &dst) != 0)
    throw InputError("cannot write " + name + ": directory '" + dir + "' " +
                     (errno == ENOENT ? "does not exist" : std::strerror(errno)));
  if (!S_ISDIR(dst.st_mode)) throw InputError("cannot write " + name + ": '" + dir + "' is not a directory");
  if (access(dir.c_str(), W_OK) != 0)
    throw InputError("cannot write " + name + ": directory '" + dir + "': " + std::strerror(errno));
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;  // a new file
    throw InputError("cannot write " + name + ": " + std::strerror(errno));
  }
  if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX] = {0};
    const ssize_t n = readlink(path.c_str(), target, sizeof(target) - 1);
    throw InputError(name + " is a symbolic link" +
                     (n > 0 ? " to '" + std::string(target, size_t(n)) + "'" : "") +
                     "; give the target path itself (the result would replace the link)");
  }
  if (!S_ISREG(st.st_mode))
    throw InputError(name + " is " + kind_of(st.st_mode) +
                     ", not a regular file; nagbench writes only files");
  if (access(path.c_str(), W_OK) != 0) throw InputError("cannot write " + name + ": " + std::strerror(errno));
}

void write_json_atomically(const std::string& path, const nlohmann::json& doc) {
  const std::string dir = parent_dir(path);
  // A short temporary name (mkstemp in the same directory) so a long result name still fits NAME_MAX.
  std::string tmp = dir + "/.nagbench-XXXXXX";
  const int fd = mkstemp(tmp.data());
  if (fd < 0) throw RunError("cannot create a temporary file in '" + dir + "': " + std::strerror(errno));
  struct stat st;
  mode_t mode;
  if (stat(path.c_str(), &st) == 0) {
    mode = st.st_mode & 07777;  // keep the existing file's permissions
  } else {
    const mode_t mask = umask(0);
    umask(mask);
    mode = 0666 & ~mask;
  }
  const std::string text = doc.dump(2) + "\n";
  const auto fail = [&](const std::string& what) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    std::remove(tmp.c_str());
    throw RunError(what + " '" + path + "': " + why);
  };
  if (fchmod(fd, mode) != 0) fail("cannot set the mode of the temporary file for");
  if (!write_all(fd, text)) fail("failed writing");
  if (fsync(fd) != 0) fail("failed writing");
  if (::close(fd) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    throw RunError("failed writing '" + path + "': " + why);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    throw RunError("cannot rename the temporary file to '" + path + "': " + why);
  }
}

void append_json_line(const std::string& path, const nlohmann::json& record) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) throw RunError("cannot open '" + path + "' for appending: " + std::strerror(errno));
  const std::string line = record.dump() + "\n";
  // One write(2) of the whole line on an O_APPEND descriptor: no other writer's line can land inside it.
  const ssize_t n = ::write(fd, line.data(), line.size());
  const int err = errno;
  const bool ok = n == static_cast<ssize_t>(line.size()) && fsync(fd) == 0;
  const std::string why = std::strerror(n < 0 ? err : (ok ? 0 : (errno ? errno : EIO)));
  ::close(fd);
  if (!ok)
    throw RunError("failed appending a record to '" + path +
                   "': " + (n >= 0 && n < ssize_t(line.size()) ? "short write (" + why + ")" : why));
}

}  // namespace nagbench
