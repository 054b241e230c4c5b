#include "nagbench/core/format.hpp"

#include <cmath>
#include <cstdio>

namespace nagbench {

std::string format_fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

std::string format_seconds(double s) {
  const double a = std::fabs(s);
  if (a >= 1.0) return format_fixed(s, 3) + " s";
  if (a >= 1e-3) return format_fixed(s * 1e3, 3) + " ms";
  return format_fixed(s * 1e6, 1) + " us";
}

std::string format_count(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (n < 0 ? "-" : "") + out;
}

std::string format_bytes_binary(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024.0 && u < 4) {
    b /= 1024.0;
    ++u;
  }
  return format_fixed(b, u == 0 ? 0 : 2) + " " + units[u];
}

}  // namespace nagbench
