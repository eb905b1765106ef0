#include "bench/trace_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <span>
#include <utility>

#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/encoding.h"
#include "auxsync/crdt/events.h"
#include "auxsync/crdt/types.h"
#include "bench/heap_usage.h"
#include "nlohmann/json.hpp"

namespace auxsync::bench {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// The replaying docs' client ids: kFirstClient, then one more per agent of
// a concurrent trace. yjs draws a client id as a random 32-bit number, so
// most real ids take 5 bytes as var-ints; the reference document
// (automerge-paper: 311,038 bytes v1) was made with one. An id of 1 would
// save 4 bytes at every origin a v1 update names.
constexpr uint64_t kFirstClient = 1234567890;

// Docs of one replay and everything they emitted.
struct Replay {
  std::vector<std::unique_ptr<crdt::Doc>> docs;
  std::vector<crdt::Subscription> subs;
  std::vector<std::vector<uint8_t>> updates;  // in emission order

  void Capture(crdt::Doc& doc, bool v2) {
    auto h = [this](std::span<const uint8_t> u, const crdt::Transaction&) {
      updates.emplace_back(u.begin(), u.end());
    };
    subs.push_back(v2 ? doc.OnUpdateV2(h) : doc.OnUpdate(h));
  }
  crdt::Doc& AddDoc(uint64_t client, bool v2) {
    crdt::DocOptions o;
    o.client_id = client;
    docs.push_back(std::make_unique<crdt::Doc>(std::move(o)));
    Capture(*docs.back(), v2);
    return *docs.back();
  }
  void ReleaseUpdates() {
    subs.clear();
    std::vector<std::vector<uint8_t>>().swap(updates);
  }
};

void ApplyPatches(crdt::Doc& doc, crdt::YText& text, const TraceTxn& txn) {
  doc.Transact([&](crdt::Transaction&) {
    for (const TracePatch& p : txn.patches) {
      if (p.del > 0) text.Delete(p.pos, p.del);
      if (!p.ins.empty()) text.Insert(p.pos, p.ins);
    }
  });
}

absl::Status Apply(crdt::Doc& doc, std::span<const uint8_t> u, bool v2) {
  return v2 ? crdt::ApplyUpdateV2(doc, u) : crdt::ApplyUpdate(doc, u);
}

// Sequential trace: one doc, client id kFirstClient.
absl::Status ReplaySequential(const Trace& t, bool v2, Replay& r) {
  crdt::Doc& doc = r.AddDoc(kFirstClient, v2);
  crdt::YText text = doc.GetText("text");
  if (!t.start_content.empty()) {
    // Not part of the trace's edits; the yjs side does the same.
    doc.Transact([&](crdt::Transaction&) { text.Insert(0, t.start_content); });
  }
  for (const TraceTxn& txn : t.txns) ApplyPatches(doc, text, txn);
  return absl::OkStatus();
}

// What each txn of a concurrent trace needs: per agent, how many of that
// agent's txns its parents know (computed before the timed replay).
struct CausalPlan {
  std::vector<std::vector<size_t>> agent_txns;  // agent -> txn indexes
  std::vector<std::vector<uint32_t>> need;      // txn -> agent -> count
};

CausalPlan PlanConcurrent(const Trace& t) {
  CausalPlan plan;
  size_t n = t.num_agents;
  plan.agent_txns.resize(n);
  std::vector<std::vector<uint32_t>> reach(t.txns.size());
  plan.need.resize(t.txns.size());
  for (size_t i = 0; i < t.txns.size(); ++i) {
    std::vector<uint32_t> need(n, 0);
    for (size_t p : t.txns[i].parents) {
      for (size_t b = 0; b < n; ++b) need[b] = std::max(need[b], reach[p][b]);
    }
    uint32_t a = t.txns[i].agent;
    plan.agent_txns[a].push_back(i);
    reach[i] = need;
    reach[i][a] = static_cast<uint32_t>(plan.agent_txns[a].size());
    plan.need[i] = std::move(need);
  }
  return plan;
}

// Concurrent trace: one doc per agent (client kFirstClient + agent).
absl::Status ReplayConcurrent(const Trace& t, const CausalPlan& plan, bool v2,
                              Replay& r) {
  size_t n = t.num_agents;
  std::vector<crdt::YText> texts;
  for (size_t a = 0; a < n; ++a) {
    texts.push_back(r.AddDoc(kFirstClient + a, v2).GetText("text"));
  }
  // have[a][b]: how many of agent b's txns doc a holds.
  std::vector<std::vector<uint32_t>> have(n, std::vector<uint32_t>(n, 0));
  // txn -> index of its update in r.updates, or -1 (no change).
  std::vector<int64_t> txn_update(t.txns.size(), -1);
  std::vector<size_t> missing;
  auto catch_up = [&](size_t a, const std::vector<uint32_t>& need) {
    missing.clear();
    for (size_t b = 0; b < n; ++b) {
      for (uint32_t k = have[a][b]; k < need[b]; ++k) {
        missing.push_back(plan.agent_txns[b][k]);
      }
      have[a][b] = std::max(have[a][b], need[b]);
    }
    // Txn order is a causal order: no update waits in the pending set.
    std::sort(missing.begin(), missing.end());
    for (size_t j : missing) {
      if (txn_update[j] < 0) continue;
      // Copied: applying appends to r.updates, which may reallocate.
      std::vector<uint8_t> u = r.updates[static_cast<size_t>(txn_update[j])];
      absl::Status s = Apply(*r.docs[a], u, v2);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  };
  for (size_t i = 0; i < t.txns.size(); ++i) {
    size_t a = t.txns[i].agent;
    absl::Status s = catch_up(a, plan.need[i]);
    if (!s.ok()) return s;
    size_t before = r.updates.size();
    ApplyPatches(*r.docs[a], texts[a], t.txns[i]);
    if (r.updates.size() > before) {
      txn_update[i] = static_cast<int64_t>(r.updates.size() - 1);
    }
    ++have[a][a];
  }
  std::vector<uint32_t> all(n);
  for (size_t b = 0; b < n; ++b) {
    all[b] = static_cast<uint32_t>(plan.agent_txns[b].size());
  }
  for (size_t a = 0; a < n; ++a) {
    absl::Status s = catch_up(a, all);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

uint32_t Fnv1a(uint32_t h, const uint8_t* bytes, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    h ^= bytes[i];
    h *= 16777619u;
  }
  return h;
}

absl::StatusOr<TraceBenchResult> RunTraceBench(const Trace& t,
                                               const TraceBenchOptions& opt) {
  TraceBenchResult res;
  res.ops = t.ops;
  res.ok = true;
  CausalPlan plan;
  if (t.concurrent) plan = PlanConcurrent(t);
  int reps = std::max(1, opt.reps);
  for (int rep = 0; rep < reps; ++rep) {
    size_t heap_before = HeapInUseBytes();
    Replay r;
    r.updates.reserve(t.txns.size() * 2);
    auto t0 = Clock::now();
    absl::Status s = t.concurrent ? ReplayConcurrent(t, plan, opt.v2, r)
                                  : ReplaySequential(t, opt.v2, r);
    double replay_ms = MsSince(t0);
    if (!s.ok()) return s;

    uint64_t bytes = 0;
    uint32_t hash = 2166136261u;
    for (const auto& u : r.updates) {
      bytes += u.size();
      hash = Fnv1a(hash, u.data(), u.size());
    }
    size_t count = r.updates.size();
    r.ReleaseUpdates();
    int64_t mem = static_cast<int64_t>(HeapInUseBytes()) -
                  static_cast<int64_t>(heap_before);

    for (auto& d : r.docs) {
      res.ok = res.ok && d->GetText("text").ToString16() == t.end_content;
    }
    crdt::Doc& doc = *r.docs[0];
    t0 = Clock::now();
    absl::StatusOr<std::vector<uint8_t>> enc =
        opt.v2 ? crdt::EncodeStateAsUpdateV2(doc)
               : crdt::EncodeStateAsUpdate(doc);
    double encode_ms = MsSince(t0);
    if (!enc.ok()) return enc.status();

    // The parsed copy outlives the timed block, as the yjs side's does
    // (freeing it is not part of parsing there either).
    t0 = Clock::now();
    auto copy = std::make_unique<crdt::Doc>([] {
      crdt::DocOptions o;
      o.client_id = 1000;
      return o;
    }());
    s = Apply(*copy, *enc, opt.v2);
    std::u16string parsed = copy->GetText("text").ToString16();
    double parse_ms = MsSince(t0);
    copy.reset();
    if (!s.ok()) return s;
    res.ok = res.ok && parsed == t.end_content;

    if (rep == 0) {
      res.replay_ms = replay_ms;
      res.encode_ms = encode_ms;
      res.parse_ms = parse_ms;
      res.mem_bytes = mem;
    } else {
      res.replay_ms = std::min(res.replay_ms, replay_ms);
      res.encode_ms = std::min(res.encode_ms, encode_ms);
      res.parse_ms = std::min(res.parse_ms, parse_ms);
      res.mem_bytes = std::min(res.mem_bytes, mem);
    }
    res.updates = count;
    res.update_bytes = bytes;
    res.updates_hash = hash;
    res.doc_size = enc->size();
    res.doc = std::move(*enc);
  }
  return res;
}

std::string TraceBenchResultJson(const TraceBenchResult& r,
                                 const std::string& trace_name, bool v2) {
  auto ms = [](double v) { return std::round(v * 100) / 100; };
  nlohmann::ordered_json j;
  j["impl"] = "auxsync";
  j["trace"] = trace_name;
  j["format"] = v2 ? "v2" : "v1";
  j["ops"] = r.ops;
  j["replayMs"] = ms(r.replay_ms);
  j["updates"] = r.updates;
  j["updateBytes"] = r.update_bytes;
  j["updatesHash"] = r.updates_hash;
  j["encodeMs"] = ms(r.encode_ms);
  j["docSize"] = r.doc_size;
  j["parseMs"] = ms(r.parse_ms);
  j["memBytes"] = r.mem_bytes;
  j["ok"] = r.ok;
  return j.dump();
}

}  // namespace auxsync::bench
