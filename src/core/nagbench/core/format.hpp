#pragma once
// Human-readable numbers for the tables on stdout. JSON records keep raw SI values.
#include <cstdint>
#include <string>

namespace nagbench {

std::string format_seconds(double s);       // "2.53 ms", "841 us", "1.20 s"
std::string format_count(int64_t n);        // "304,326,632"
std::string format_bytes_binary(double b);  // "3.40 GiB"
std::string format_fixed(double v, int digits);

}  // namespace nagbench
