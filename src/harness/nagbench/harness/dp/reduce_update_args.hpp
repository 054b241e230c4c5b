#pragma once
// The reduce-update kernel's arguments (--comm p2p) for one piece of a bucket, shared by the dp and train run
// kinds: every rank's gradient at the piece's origin (sharded push form: the peers' parts from this rank's
// inbox), the parameter arenas written (sharded: every rank's, so each element is computed once and written
// to all; replicated: this rank's own), and p and the states read here.
#include <cstdint>
#include <string>

#include "nagbench/comm/communicator.hpp"
#include "nagbench/core/errors.hpp"
#include "nagbench/optim/variants/reduce_update.hpp"

namespace nagbench {

inline void check_peer_table(const PeerArenas& peers, int ranks) {
  if (ranks > kMaxReduceRanks || int(peers.grad.size()) != ranks || int(peers.param.size()) != ranks)
    throw RunError("p2p: the peer table does not match the " + std::to_string(ranks) + " ranks");
}

// `origin`: the arena element where the piece starts (sharded: this rank's shard of the bucket, of `shard`
// elements); `states`: the states' pointers at that origin. `skip` (tests only) leaves the peers out, so the
// check must catch it.
template <class Layout>
ReduceUpdateArgs<Layout> reduce_update_args(const PeerArenas& peers, const typename Layout::param_t* p_local,
                                            int64_t origin, int64_t shard, bool sharded, int rank, int ranks,
                                            bool skip, typename Layout::state_t* const* states, int nstates) {
  using P = typename Layout::param_t;
  using G = typename Layout::grad_t;
  ReduceUpdateArgs<Layout> a;
  a.ranks = skip ? 1 : ranks;
  for (int r = 0; r < a.ranks; ++r) {
    const int from = skip ? rank : r;
    a.g[r] = (peers.inbox && sharded && from != rank)
                 ? static_cast<const G*>(peers.inbox) + origin + (from - rank) * shard
                 : static_cast<const G*>(peers.grad[size_t(from)]) + origin;
  }
  a.outputs = sharded ? ranks : 1;
  for (int o = 0; o < a.outputs; ++o)
    a.p_out[o] = static_cast<P*>(peers.param[size_t(sharded ? o : rank)]) + origin;
  a.p_in = p_local + origin;
  for (int st = 0; st < nstates; ++st)
    a.s[st] = states[st];
  return a;
}

}  // namespace nagbench
