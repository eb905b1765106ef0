#include "bench/trace_file.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace auxsync::bench {
namespace {

constexpr size_t kMaxOutputBytes = size_t{1} << 30;

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};

// Appends the code points of UTF-8 `s` (valid: it came out of a JSON
// parser) as UTF-16 and returns how many code points there were; records
// the code-point offsets (from `base`) of characters outside the BMP.
size_t AppendUtf16(std::string_view s, std::u16string& out, uint64_t base,
                   std::vector<uint64_t>* astral) {
  size_t cps = 0;
  for (size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    uint32_t cp;
    size_t n;
    if (b < 0x80) {
      cp = b;
      n = 1;
    } else if (b < 0xE0) {
      cp = b & 0x1F;
      n = 2;
    } else if (b < 0xF0) {
      cp = b & 0x0F;
      n = 3;
    } else {
      cp = b & 0x07;
      n = 4;
    }
    for (size_t k = 1; k < n && i + k < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    i += n;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
      if (astral != nullptr) astral->push_back(base + cps);
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
    ++cps;
  }
  return cps;
}

// Code-point offsets of the characters outside the BMP in the simulated
// document, sorted. Converting a position costs a binary search and an edit
// O(number of such characters): cheap, since they are rare in text.
class AstralIndex {
 public:
  uint64_t Before(uint64_t cp_pos) const {
    return static_cast<uint64_t>(
        std::lower_bound(pos_.begin(), pos_.end(), cp_pos) - pos_.begin());
  }
  // Applies a patch given in code points.
  void Apply(uint64_t pos, uint64_t del, uint64_t ins_cps,
             const std::vector<uint64_t>& ins_astral) {
    auto first = std::lower_bound(pos_.begin(), pos_.end(), pos);
    auto last = std::lower_bound(first, pos_.end(), pos + del);
    first = pos_.erase(first, last);
    size_t at = static_cast<size_t>(first - pos_.begin());
    for (size_t i = at; i < pos_.size(); ++i) pos_[i] = pos_[i] - del + ins_cps;
    pos_.insert(pos_.begin() + static_cast<std::ptrdiff_t>(at),
                ins_astral.begin(), ins_astral.end());
  }
  uint64_t Count(uint64_t from, uint64_t to) const {
    return Before(to) - Before(from);
  }

 private:
  std::vector<uint64_t> pos_;
};

absl::Status ParsePatches(const nlohmann::json& jp, size_t txn_index,
                          bool simulate, AstralIndex& astral, uint64_t& doc_cps,
                          TraceTxn& txn) {
  if (!jp.is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat("txn ", txn_index, ": patches is not an array"));
  }
  std::vector<uint64_t> ins_astral;
  for (const auto& p : jp) {
    if (!p.is_array() || p.size() != 3 || !p[0].is_number_unsigned() ||
        !p[1].is_number_unsigned() || !p[2].is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat("txn ", txn_index, ": malformed patch"));
    }
    auto pos = p[0].get<uint64_t>();
    auto del = p[1].get<uint64_t>();
    const auto& ins = p[2].get_ref<const std::string&>();
    TracePatch patch;
    ins_astral.clear();
    size_t ins_cps = AppendUtf16(ins, patch.ins, pos, &ins_astral);
    if (simulate) {
      if (pos + del > doc_cps) {
        return absl::InvalidArgumentError(
            absl::StrCat("txn ", txn_index, ": patch [", pos, ",", del,
                         "] outside the document of ", doc_cps, " characters"));
      }
      patch.pos = pos + astral.Before(pos);
      patch.del = del + astral.Count(pos, pos + del);
      astral.Apply(pos, del, ins_cps, ins_astral);
      doc_cps = doc_cps - del + ins_cps;
    } else {
      if (!ins_astral.empty()) {
        return absl::UnimplementedError(
            absl::StrCat("txn ", txn_index,
                         ": characters outside the BMP in a concurrent trace"));
      }
      patch.pos = pos;
      patch.del = del;
    }
    txn.patches.push_back(std::move(patch));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ReadGzipFile(const std::string& path) {
  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(path.c_str(), "rb"));
  if (f == nullptr) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  }
  std::string out;
  char buf[1 << 16];
  while (true) {
    int n = gzread(f.get(), buf, sizeof(buf));
    if (n < 0) {
      int err = 0;
      const char* msg = gzerror(f.get(), &err);
      return absl::DataLossError(absl::StrCat(path, ": ", msg));
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > kMaxOutputBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": more than ", kMaxOutputBytes, " bytes"));
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

absl::StatusOr<Trace> ParseTrace(std::string_view json) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("trace: not a JSON object");
  }
  try {
    Trace t;
    t.concurrent = j.value("kind", std::string()) == "concurrent";
    if (!j.contains("endContent") || !j["endContent"].is_string() ||
        !j.contains("txns") || !j["txns"].is_array()) {
      return absl::InvalidArgumentError("trace: no endContent or txns");
    }
    AstralIndex astral;
    uint64_t doc_cps = 0;
    if (j.contains("startContent")) {
      std::vector<uint64_t> start_astral;
      doc_cps = AppendUtf16(j["startContent"].get_ref<const std::string&>(),
                            t.start_content, 0, &start_astral);
      astral.Apply(0, 0, doc_cps, start_astral);
    }
    AppendUtf16(j["endContent"].get_ref<const std::string&>(), t.end_content, 0,
                nullptr);
    if (t.concurrent) {
      if (!t.start_content.empty()) {
        return absl::InvalidArgumentError(
            "trace: a concurrent trace with startContent");
      }
      t.num_agents = j.value("numAgents", 0u);
      if (t.num_agents == 0 || t.num_agents > 4096) {
        return absl::InvalidArgumentError("trace: bad numAgents");
      }
    }
    const auto& txns = j["txns"];
    t.txns.reserve(txns.size());
    for (size_t i = 0; i < txns.size(); ++i) {
      const auto& jt = txns[i];
      if (!jt.is_object() || !jt.contains("patches")) {
        return absl::InvalidArgumentError(
            absl::StrCat("txn ", i, ": no patches"));
      }
      TraceTxn txn;
      absl::Status s =
          ParsePatches(jt["patches"], i, !t.concurrent, astral, doc_cps, txn);
      if (!s.ok()) return s;
      if (t.concurrent) {
        txn.agent = jt.value("agent", t.num_agents);
        if (txn.agent >= t.num_agents) {
          return absl::InvalidArgumentError(
              absl::StrCat("txn ", i, ": bad agent"));
        }
        for (const auto& p : jt.value("parents", nlohmann::json::array())) {
          if (!p.is_number_unsigned() || p.get<size_t>() >= i) {
            return absl::InvalidArgumentError(
                absl::StrCat("txn ", i, ": a parent is not an earlier txn"));
          }
          txn.parents.push_back(p.get<size_t>());
        }
      }
      t.ops += txn.patches.size();
      t.txns.push_back(std::move(txn));
    }
    return t;
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("trace: ", e.what()));
  }
}

absl::StatusOr<Trace> LoadTrace(const std::string& path) {
  absl::StatusOr<std::string> json = ReadGzipFile(path);
  if (!json.ok()) return json.status();
  absl::StatusOr<Trace> t = ParseTrace(*json);
  if (!t.ok()) {
    return absl::Status(t.status().code(),
                        absl::StrCat(path, ": ", t.status().message()));
  }
  return t;
}

}  // namespace auxsync::bench
