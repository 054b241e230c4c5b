#pragma once
// --timeline: where one data-parallel step's time goes, bucket by bucket, on the device's clock. The step is
// one more after the timed ones (launched directly, never timed: recording events per bucket costs the host
// time a timed step would pay for). Each mark is a timing event recorded on the instance whose progress it
// marks (host backends: the host's clock after a fence, exec_event.hpp); as few per bucket as tell the phases
// apart, since each costs the host an enqueue:
//   handshake[k]  p2p only: bucket k's part was sent (push) and its flags' handshake starts (comm instance)
//   reduced[k]    bucket k's reduction (or handshake) is complete (comm instance; it reaches bucket k after
//                 reduced[k-1], in the order of its work)
//   updated[k]    bucket k's update is complete (its update instance, k mod --update-streams; it waits for
//                 reduced[k] first; host backends have one instance)
// and per step: start (the compute instance, before the gradients), gradients (after them, before the event
// the reductions wait for), updates_end (the update instance after the last update, before the
// communicator's finish()). Beside each bucket mark, the host's clock when it was enqueued (from when the
// host saw the start mark happen): a mark that comes only the few microseconds an enqueue takes after it
// found its instance waiting for the host; a later one, busy.
#include <Kokkos_Core.hpp>
#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nagbench/comm/buckets.hpp"
#include "nagbench/core/exec_event.hpp"

namespace nagbench {

enum class BucketMark { handshake, reduced, updated };
constexpr int kBucketMarks = 3;
constexpr std::array<const char*, kBucketMarks> kBucketMarkNames = {"handshake", "reduced", "updated"};

template <class Exec>
class StepTimeline {
 public:
  // No events at all unless enabled (a run without --timeline pays nothing).
  StepTimeline(bool enabled, size_t buckets) : enabled_(enabled) {
    if (!enabled_) return;
    for (auto& row : events_)
      for (size_t k = 0; k < buckets; ++k)
        row.emplace_back(true);
    for (auto& row : seen_)
      row.assign(buckets, false);
    for (auto& row : enqueued_)
      row.assign(buckets, 0.0);
  }
  bool enabled() const { return enabled_; }
  // Marks count only in the armed step.
  void arm(bool on) { armed_ = enabled_ && on; }
  bool armed() const { return armed_; }

  void mark(BucketMark m, size_t k, const Exec& exec) {
    if (!armed_) return;
    const auto enqueued = std::chrono::steady_clock::now();  // before the record (hosts: it fences)
    events_[size_t(m)][k].record(exec);
    seen_[size_t(m)][k] = true;
    enqueued_[size_t(m)][k] = std::chrono::duration<double>(enqueued - host_start_).count();
  }
  // `exec` waits for a mark too (the update instance for reduced[k], recorded on the comm instance just after
  // the communicator's own event that the update waits for: without it a short update could end between the
  // two, before its reduction's mark).
  void wait_for(BucketMark m, size_t k, const Exec& exec) const {
    if (armed_ && seen_[size_t(m)][k]) events_[size_t(m)][k].make_wait(exec);
  }
  // The host's clock starts once the start mark has happened (the device is idle: microseconds; a shared GPU
  // may run another process first), so that no mark can seem to happen before the host enqueued it.
  void mark_start(const Exec& exec) {
    if (!armed_) return;
    start_.record(exec);
    start_.synchronize();
    host_start_ = std::chrono::steady_clock::now();
  }
  void mark_gradients(const Exec& exec) {
    if (armed_) gradients_.record(exec);
  }
  void mark_updates_end(const Exec& exec) {
    if (armed_) updates_end_.record(exec);
  }

  // After the armed step has completed (fenced): this rank's marks in seconds from the step's start; marks
  // a path does not make are null. Bucket k was updated on instance k mod update_streams.
  nlohmann::json read(const BucketPlan& plan, double host_comm_update_s, int update_streams) const {
    nlohmann::json buckets = nlohmann::json::array();
    for (size_t k = 0; k < plan.buckets.size(); ++k) {
      nlohmann::json b = {{"bucket", k},
                          {"elements", plan.buckets[k].length},
                          {"update_stream", int(k % size_t(update_streams))}};
      for (int m = 0; m < kBucketMarks; ++m) {
        const bool seen = seen_[size_t(m)][k];
        const std::string name = kBucketMarkNames[size_t(m)];
        b[name + "_s"] = seen ? nlohmann::json(events_[size_t(m)][k].seconds_since(start_)) : nullptr;
        b[name + "_enqueued_s"] = seen ? nlohmann::json(enqueued_[size_t(m)][k]) : nullptr;
      }
      buckets.push_back(b);
    }
    return {{"gradients_s", gradients_.seconds_since(start_)},
            {"updates_end_s", updates_end_.seconds_since(start_)},
            {"host_comm_update_s", host_comm_update_s},
            {"update_streams", update_streams},
            {"buckets", buckets}};
  }

 private:
  bool enabled_ = false, armed_ = false;
  std::array<std::vector<ExecEvent<Exec>>, kBucketMarks> events_;
  std::array<std::vector<bool>, kBucketMarks> seen_;
  std::array<std::vector<double>, kBucketMarks> enqueued_;  // host seconds from host_start_
  std::chrono::steady_clock::time_point host_start_{};
  ExecEvent<Exec> start_{true}, gradients_{true}, updates_end_{true};
};

}  // namespace nagbench
