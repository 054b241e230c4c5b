#include "nagbench/harness/verify.hpp"

namespace nagbench {

std::vector<int64_t> verification_indices(const ArenaLayout& layout, const std::string& requested_mode,
                                          int64_t steps_in, int64_t sample_budget, std::string* mode) {
  const int64_t steps = std::max<int64_t>(steps_in, 1);
  std::string m = requested_mode;
  if (m == "auto") m = (layout.params * steps <= (int64_t(1) << 26)) ? "full" : "sample";
  if (mode) *mode = m;
  std::vector<int64_t> idx;
  if (m == "off") return idx;
  if (m == "full") {
    idx.reserve(layout.params);
    for (const auto& t : layout.tensors)
      for (int64_t i = 0; i < t.numel; ++i)
        idx.push_back(t.offset + i);
    return idx;
  }
  // sample: the edges of every tensor, where indexing mistakes live, then an even stride over all parameters.
  const int64_t edge = 16;
  for (const auto& t : layout.tensors) {
    for (int64_t i = 0; i < std::min(edge, t.numel); ++i)
      idx.push_back(t.offset + i);
    for (int64_t i = std::max(edge, t.numel - edge); i < t.numel; ++i)
      idx.push_back(t.offset + i);
  }
  const int64_t budget = std::max<int64_t>(sample_budget, 1024);
  const int64_t stride = std::max<int64_t>(1, layout.params / budget) | 1;  // odd: every pack lane gets hit
  int64_t seen = 0;
  for (const auto& t : layout.tensors) {
    // Index in parameter order (padding skipped); stride with an odd offset so packs are hit at every lane.
    int64_t first = (stride - (seen % stride)) % stride;
    for (int64_t i = first; i < t.numel; i += stride)
      idx.push_back(t.offset + i);
    seen += t.numel;
  }
  std::sort(idx.begin(), idx.end());
  idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
  return idx;
}

}  // namespace nagbench
