#include "nagbench/optim/bytes.hpp"

#include <type_traits>

namespace nagbench {

BytesPerParam min_bytes_per_param(DtypeLayout dtype, const std::vector<StateUse>& states) {
  BytesPerParam b;
  with_layout(dtype, [&](auto L) {
    using Lt = decltype(L);
    const int P = sizeof(typename Lt::param_t), G = sizeof(typename Lt::grad_t),
              S = sizeof(typename Lt::state_t);
    b.param_read = Lt::has_master ? 0 : P;
    b.param_write = P;
    b.master_read = b.master_write = Lt::has_master ? int(sizeof(float)) : 0;
    b.grad_read = G;
    for (const auto& s : states) {
      b.state_read += s.read ? S : 0;
      b.state_write += s.written ? S : 0;
    }
  });
  return b;
}

std::string describe_bytes(DtypeLayout dtype, const std::vector<StateUse>& states) {
  std::string out;
  with_layout(dtype, [&](auto L) {
    using Lt = decltype(L);
    const auto type = [](int bytes, bool bf) {
      return bf ? std::string("bf16") : "fp" + std::to_string(8 * bytes);
    };
    const bool p_bf16 = std::is_same<typename Lt::param_t, bf16>::value;
    const bool g_bf16 = std::is_same<typename Lt::grad_t, bf16>::value;
    const std::string st = type(sizeof(typename Lt::state_t), false);
    if (Lt::has_master)
      out = "fp32 master r/w, " + type(sizeof(typename Lt::param_t), p_bf16) + " p w";
    else
      out = type(sizeof(typename Lt::param_t), p_bf16) + " p r/w";
    out += ", " + type(sizeof(typename Lt::grad_t), g_bf16) + " g r";
    for (const auto& s : states)
      out += ", " + st + " " + s.name + " " + (s.read && s.written ? "r/w" : (s.read ? "r" : "w"));
  });
  return out;
}

}  // namespace nagbench
