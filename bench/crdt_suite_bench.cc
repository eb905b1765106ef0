#include "bench/crdt_suite_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <span>
#include <utility>

#include "absl/strings/str_cat.h"
#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/encoding.h"
#include "auxsync/crdt/events.h"
#include "auxsync/crdt/types.h"
#include "nlohmann/json.hpp"

namespace auxsync::bench {
namespace {

using Clock = std::chrono::steady_clock;
using crdt::JsValue;
using nlohmann::json;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Value constructors that compile against both spellings of the engine's
// value type (it is being unified with the codec's crdt::Any).
template <typename A = JsValue>
A Num(double d) {
  if constexpr (requires { A::MakeNumber(d); }) {
    return A::MakeNumber(d);
  } else {
    return A::Number(d);
  }
}
template <typename A = JsValue>
A Str(std::string s) {
  if constexpr (requires { A::MakeString(s); }) {
    return A::MakeString(std::move(s));
  } else {
    return A::String(std::move(s));
  }
}
template <typename A = JsValue>
A Arr(std::vector<A> v) {
  if constexpr (requires { A::MakeArray(v); }) {
    return A::MakeArray(std::move(v));
  } else {
    return A::Array(std::move(v));
  }
}
template <typename A = JsValue>
A Obj(std::vector<std::pair<std::string, A>> entries) {
  if constexpr (requires { A::MakeMap(entries); }) {
    return A::MakeMap(std::move(entries));
  } else {
    A o = A::Object();
    for (auto& [k, v] : entries) o.Set(k, std::move(v));
    return o;
  }
}

std::u16string U16(const std::string& ascii) {
  return std::u16string(ascii.begin(), ascii.end());
}

// A doc of the suite: text "text", array "array", map "map" (as the suite's
// yjs factory), its v2 update events handed to `on_update`.
struct SuiteDoc {
  std::unique_ptr<crdt::Doc> doc;
  crdt::YText text;
  crdt::YArray array;
  crdt::YMap map;
  crdt::Subscription sub;

  explicit SuiteDoc(uint64_t client) {
    crdt::DocOptions o;
    o.client_id = client;
    doc = std::make_unique<crdt::Doc>(std::move(o));
    array = doc->GetArray("array");
    map = doc->GetMap("map");
    text = doc->GetText("text");
  }
  template <typename F>
  void OnUpdate(F f) {
    sub = doc->OnUpdateV2(
        [f](std::span<const uint8_t> u, const crdt::Transaction&) { f(u); });
  }
  absl::Status Apply(std::span<const uint8_t> u) {
    return crdt::ApplyUpdateV2(*doc, u);
  }
};

// One edit of a B1/B2 input: ["t", i, "word"], ["d", i, n], ["a", i, [...]].
absl::Status ApplyOp(SuiteDoc& d, const json& op) {
  const std::string& t = op[0].get_ref<const std::string&>();
  auto index = op[1].get<uint64_t>();
  if (t == "t") {
    d.text.Insert(index, U16(op[2].get<std::string>()));
  } else if (t == "d") {
    d.text.Delete(index, op[2].get<uint64_t>());
  } else if (t == "a") {
    std::vector<crdt::Input> values;
    for (const auto& v : op[2]) values.emplace_back(Num(v.get<double>()));
    return d.array.Insert(index, std::move(values));
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown op ", t));
  }
  return absl::OkStatus();
}

bool SameContent(const SuiteDoc& a, const SuiteDoc& b) {
  return a.text.ToString16() == b.text.ToString16() &&
         a.array.ToJson() == b.array.ToJson() &&
         a.map.ToJson() == b.map.ToJson();
}

// Encode + parse of `from`; the parsed doc must equal `expect`.
absl::Status EncodeAndParse(SuiteDoc& from, const SuiteDoc& expect,
                            SuiteCaseResult& r) {
  auto t0 = Clock::now();
  absl::StatusOr<std::vector<uint8_t>> enc =
      crdt::EncodeStateAsUpdateV2(*from.doc);
  r.encode_ms = MsSince(t0);
  if (!enc.ok()) return enc.status();
  r.doc_size = enc->size();
  t0 = Clock::now();
  SuiteDoc loaded(999999);
  absl::Status s = loaded.Apply(*enc);
  bool same = SameContent(loaded, expect);
  r.parse_ms = MsSince(t0);
  r.ok = r.ok && same;
  return s;
}

absl::Status RunB1(const json& c, SuiteCaseResult& r) {
  SuiteDoc doc2(c["clients"][1].get<uint64_t>());
  SuiteDoc doc1(c["clients"][0].get<uint64_t>());
  std::vector<std::vector<uint8_t>> updates;
  doc1.OnUpdate([&](std::span<const uint8_t> u) {
    updates.emplace_back(u.begin(), u.end());
  });
  const json& ops = c["ops"];
  auto t0 = Clock::now();
  for (const auto& op : ops) {
    absl::Status s = ApplyOp(doc1, op);
    if (!s.ok()) return s;
  }
  for (const auto& u : updates) {
    absl::Status s = doc2.Apply(u);
    if (!s.ok()) return s;
  }
  bool ok = SameContent(doc1, doc2);
  if (c["expect"].contains("text")) {
    ok = ok &&
         doc1.text.ToString16() == U16(c["expect"]["text"].get<std::string>());
  } else {
    std::vector<JsValue> want;
    for (const auto& v : c["expect"]["array"])
      want.push_back(Num(v.get<double>()));
    ok = ok && doc1.array.ToJson() == Arr(std::move(want));
  }
  r.time_ms = MsSince(t0);
  r.ok = ok;
  r.updates = updates.size();
  for (const auto& u : updates) r.update_bytes += u.size();
  return EncodeAndParse(doc1, doc2, r);
}

absl::Status RunB2(const json& c, SuiteCaseResult& r) {
  SuiteDoc doc1(c["clients"][0].get<uint64_t>());
  SuiteDoc doc2(c["clients"][1].get<uint64_t>());
  bool busy = false;  // the suite's mutex: no echo of a received update
  absl::Status err;
  auto relay = [&](SuiteDoc& to) {
    return [&](std::span<const uint8_t> u) {
      if (busy) return;
      busy = true;
      ++r.updates;
      r.update_bytes += u.size();
      absl::Status s = to.Apply(u);
      if (!s.ok()) err = s;
      busy = false;
    };
  };
  doc1.OnUpdate(relay(doc2));
  doc2.OnUpdate(relay(doc1));
  doc1.text.Insert(0, U16(c["init"].get<std::string>()));
  absl::Status s;
  auto t0 = Clock::now();
  doc1.doc->Transact([&](crdt::Transaction&) {
    for (const auto& op : c["ops1"]) {
      if (s.ok()) s = ApplyOp(doc1, op);
    }
  });
  doc2.doc->Transact([&](crdt::Transaction&) {
    for (const auto& op : c["ops2"]) {
      if (s.ok()) s = ApplyOp(doc2, op);
    }
  });
  bool ok = doc1.text.ToString16() == doc2.text.ToString16();
  if (c.contains("expectLength")) {
    ok = ok && doc1.text.Length() == c["expectLength"].get<uint64_t>();
  }
  r.time_ms = MsSince(t0);
  if (!s.ok()) return s;
  if (!err.ok()) return err;
  r.ok = ok;
  return EncodeAndParse(doc1, doc2, r);
}

void B3Change(SuiteDoc& d, const std::string& kind, int i, int m) {
  std::string is = std::to_string(i);
  if (kind == "map_number") {
    d.map.Set("v", Num(i));
  } else if (kind == "map_object") {
    d.map.Set("v", Obj({{"name", Str(is)}, {"address", Str("here")}}));
  } else if (kind == "map_string") {
    std::string v;
    for (int k = 0; k < m; ++k) v += is;
    d.map.Set("v", Str(std::move(v)));
  } else if (kind == "array_text") {
    (void)d.array.Insert(0, {crdt::Input(Str(is))});
  } else {
    d.text.Insert(0, U16(is));
  }
}

absl::Status RunB3(const json& c, SuiteCaseResult& r) {
  const std::string& kind = c["change"].get_ref<const std::string&>();
  const json& clients = c["clients"];
  int m = static_cast<int>(clients.size());
  std::vector<std::unique_ptr<SuiteDoc>> docs;
  std::vector<std::vector<uint8_t>> updates;
  bool busy = false;
  for (int i = 0; i < m; ++i) {
    docs.push_back(std::make_unique<SuiteDoc>(clients[i].get<uint64_t>()));
    docs.back()->OnUpdate([&](std::span<const uint8_t> u) {
      if (!busy) updates.emplace_back(u.begin(), u.end());
    });
  }
  for (int i = 0; i < m; ++i) B3Change(*docs[i], kind, i, m);
  absl::Status s;
  busy = true;
  docs[0]->doc->Transact([&](crdt::Transaction&) {
    for (const auto& u : updates) {
      if (s.ok()) s = docs[0]->Apply(u);
    }
  });
  busy = false;
  if (!s.ok()) return s;
  auto t0 = Clock::now();
  busy = true;
  docs[1]->doc->Transact([&](crdt::Transaction&) {
    for (const auto& u : updates) {
      if (s.ok()) s = docs[1]->Apply(u);
    }
  });
  busy = false;
  bool ok = SameContent(*docs[0], *docs[1]);
  r.time_ms = MsSince(t0);
  if (!s.ok()) return s;
  r.ok = ok;
  r.updates = updates.size();
  for (const auto& u : updates) r.update_bytes += u.size();
  return EncodeAndParse(*docs[0], *docs[0], r);
}

}  // namespace

absl::StatusOr<std::vector<SuiteCaseResult>> RunCrdtSuite(
    std::string_view workload_json, int reps) {
  json w = json::parse(workload_json, nullptr, false);
  if (w.is_discarded() || !w.contains("cases")) {
    return absl::InvalidArgumentError("workload: not a suite workload");
  }
  std::vector<SuiteCaseResult> out;
  try {
    for (const auto& c : w["cases"]) {
      SuiteCaseResult best;
      for (int rep = 0; rep < std::max(1, reps); ++rep) {
        SuiteCaseResult r;
        r.id = c["id"].get<std::string>();
        const std::string& kind = c["kind"].get_ref<const std::string&>();
        absl::Status s = kind == "b1"   ? RunB1(c, r)
                         : kind == "b2" ? RunB2(c, r)
                                        : RunB3(c, r);
        if (!s.ok()) {
          return absl::Status(s.code(), absl::StrCat(r.id, ": ", s.message()));
        }
        if (rep == 0) {
          best = r;
        } else {
          best.time_ms = std::min(best.time_ms, r.time_ms);
          best.encode_ms = std::min(best.encode_ms, r.encode_ms);
          best.parse_ms = std::min(best.parse_ms, r.parse_ms);
          best.ok = best.ok && r.ok;
        }
      }
      out.push_back(std::move(best));
    }
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("workload: ", e.what()));
  }
  return out;
}

std::string SuiteCaseResultJson(const SuiteCaseResult& r) {
  auto ms = [](double v) { return std::round(v * 1000) / 1000; };
  nlohmann::ordered_json j;
  j["impl"] = "auxsync";
  j["id"] = r.id;
  j["timeMs"] = ms(r.time_ms);
  j["updates"] = r.updates;
  j["updateBytes"] = r.update_bytes;
  j["encodeMs"] = ms(r.encode_ms);
  j["docSize"] = r.doc_size;
  j["parseMs"] = ms(r.parse_ms);
  j["ok"] = r.ok;
  return j.dump();
}

}  // namespace auxsync::bench
