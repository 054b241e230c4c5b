#include "nagbench/core/provenance.hpp"

#include <sched.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <sstream>

namespace nagbench {

std::string executable_dir() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  std::string p(buf, static_cast<size_t>(n));
  return p.substr(0, p.find_last_of('/'));
}

std::string host_name() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown-host";
  return buf;
}

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string joined_command_line(int argc, const char* const* argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    if (i) s += ' ';
    const std::string a = argv[i];
    const bool quote = a.empty() || a.find_first_of(" \t\"'$") != std::string::npos;
    s += quote ? "'" + a + "'" : a;
  }
  return s;
}

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown CPU";
}

std::string cpu_affinity_list() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return "unknown";
  std::ostringstream out;
  int first = -1, prev = -2;
  auto flush = [&]() {
    if (first < 0) return;
    if (out.tellp() > 0) out << ',';
    out << first;
    if (prev > first) out << '-' << prev;
  };
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (!CPU_ISSET(c, &set)) continue;
    if (c != prev + 1) {
      flush();
      first = c;
    }
    prev = c;
  }
  flush();
  return out.str();
}

int cpu_affinity_count() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;
  return CPU_COUNT(&set);
}

namespace {
std::string& launch_affinity_storage() {
  static std::string s;
  return s;
}
}  // namespace

void remember_launch_affinity() {
  launch_affinity_storage() = cpu_affinity_list();
}
const std::string& launch_affinity() {
  return launch_affinity_storage();
}

int64_t last_level_cache_bytes() {
  // The highest cache index of cpu0 is the last level; sysfs writes sizes like "32768K".
  int64_t best = 0;
  for (int idx = 0; idx < 8; ++idx) {
    std::ifstream in("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(idx) + "/size");
    std::string s;
    if (!(in >> s) || s.empty()) continue;
    int64_t mult = 1;
    if (s.back() == 'K') mult = 1024;
    if (s.back() == 'M') mult = 1024 * 1024;
    try {
      best = std::max<int64_t>(best, std::stoll(s) * mult);
    } catch (...) {
    }
  }
  if (best == 0) {
    const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
    if (l3 > 0) best = l3;
  }
  return best;
}

int64_t host_memory_available_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit) {
    if (key == "MemAvailable:") return kb * 1024;
  }
  return 0;
}

}  // namespace nagbench
