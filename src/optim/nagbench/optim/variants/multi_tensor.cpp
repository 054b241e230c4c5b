#include "nagbench/optim/variants/multi_tensor.hpp"

namespace nagbench {

std::vector<Chunk> make_chunks(const std::vector<Segment>& segments, int64_t chunk_elements) {
  std::vector<Chunk> chunks;
  for (const Segment& s : segments) {
    for (int64_t lo = 0; lo < s.numel; lo += chunk_elements) {
      const int64_t n = s.numel - lo < chunk_elements ? s.numel - lo : chunk_elements;
      chunks.push_back({s.offset + lo, n});
    }
  }
  return chunks;
}

}  // namespace nagbench
