// The load client of the inst server benchmark: many websocket sockets in
// one process, each speaking the CasualOS inst protocol like a browser tab
// (spec/inst-protocol.md 5): login with a connectionId, watch a branch,
// then send small repo/add_updates at a fixed rate. It measures the
// fan-out latency (send -> receipt by every other watcher of the inst),
// the acknowledgement latency and rate, and what went wrong.
//
// Threading: one io_context run by the calling thread; nothing is shared
// with other threads. Sender and receivers live in the same process, so
// both timestamps come from the same steady clock.

#ifndef AUXSYNC_BENCH_INST_LOAD_CLIENT_H_
#define AUXSYNC_BENCH_INST_LOAD_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"

namespace auxsync::bench {

struct LoadOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string path = "/websocket";
  // Sockets to open; each is one client with its own connectionId.
  int clients = 100;
  // Clients per inst (consecutive clients share an inst); 0 = all on one.
  int clients_per_inst = 10;
  // Also watch the player's temporary branch and the inst's devices, as a
  // full CasualOS session does (8.7); the load goes to `default` only.
  bool casualos_session = false;
  // add_updates per second and client during the run (0 = idle).
  double rate_per_client = 1.0;
  // Sending starts after setup; latencies of updates sent during the
  // warm-up are not counted.
  double warmup_s = 2;
  double duration_s = 10;
  // After the last send, how long to wait for outstanding deliveries;
  // whatever has not arrived then is counted as lost.
  double drain_s = 3;
  // Connects in flight at once (the listen backlogs are finite).
  int max_concurrent_connects = 200;
  // Give up when not every client is watching after this long.
  double setup_timeout_s = 120;
  // The server's process (0 = unknown): its CPU time over the measured
  // window is read from /proc, so the result says what a frame costs it
  // whatever share of the (shared) machine it got.
  int64_t server_pid = 0;
  // Names the insts and connectionIds, so runs do not share data.
  std::string run_id = "run";
  // Every Nth add_updates/updates_received frame read by the fast path is
  // also decoded with auxsync/inst's codec and compared (1 = all).
  int verify_every = 64;
};

// What a run measured. Latencies in milliseconds.
struct LoadResult {
  int clients = 0;
  int insts = 0;
  int ready = 0;           // clients watching when the run started
  int connect_errors = 0;  // sockets that failed before being ready
  int closed_during_run = 0;
  double setup_s = 0;             // first connect -> every client watching
  int64_t sent = 0;               // updates sent in the measured window
  int64_t acked = 0;              // ... of which acknowledged
  int64_t ack_errors = 0;         // acknowledgements with an errorCode
  int64_t expected = 0;           // deliveries due for them (watchers - 1 each)
  int64_t delivered = 0;          // ... that arrived before the drain ended
  int64_t lost = 0;               // expected - delivered
  int64_t unknown_updates = 0;    // broadcasts of updates nobody sent
  int64_t error_frames = 0;       // [5, ...] events and refusals
  int64_t decode_mismatches = 0;  // fast path disagreed with the codec
  double fanout_p50 = 0, fanout_p90 = 0, fanout_p99 = 0, fanout_max = 0;
  double ack_p50 = 0, ack_p99 = 0;
  double acked_per_s = 0;      // acknowledged updates / measured window
  double delivered_per_s = 0;  // broadcast frames received / window
  double send_lag_p99 = 0;     // how late the client's send timers fired
  double client_cpu = 0;       // client CPU seconds / wall seconds
  double server_cpu = -1;      // server CPU seconds / wall seconds
  // Server CPU microseconds per frame it sent (deliveries + acks) in the
  // measured window; -1 without a server pid.
  double server_us_per_frame = -1;
  std::string first_error;

  // One line of JSON with every field.
  std::string ToJson() const;
};

// Runs one load: connect and watch every client, then (if the rate is not
// 0) the warm-up, measured window and drain. Errors: only invalid options;
// everything that goes wrong on the wire is counted in the result.
class LoadClient {
 public:
  explicit LoadClient(LoadOptions options);
  ~LoadClient();
  LoadClient(const LoadClient&) = delete;
  LoadClient& operator=(const LoadClient&) = delete;

  // Opens every socket, logs in and watches; returns when all are watching
  // (or failed, or the setup timeout passed).
  absl::Status Connect();
  // Keeps the sockets open and served (pings answered) for `seconds`.
  void Hold(double seconds);
  // The timed load on the connected sockets.
  void RunLoad();
  const LoadResult& result() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace auxsync::bench

#endif  // AUXSYNC_BENCH_INST_LOAD_CLIENT_H_
