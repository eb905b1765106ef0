// Copyright 2025 The auxsync Authors.
//
// Test-only: loads the golden vectors (shared/vectors/yjs) and collects the
// updates they record, for the codec tests. Header-only; include only from
// *_test.cc files.

#ifndef AUXSYNC_CRDT_INTERNAL_CODEC_VECTORS_FOR_TEST_H_
#define AUXSYNC_CRDT_INTERNAL_CODEC_VECTORS_FOR_TEST_H_

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "nlohmann/json.hpp"

namespace auxsync::crdt::testing_codec {

using Json = nlohmann::ordered_json;
using Bytes = std::vector<uint8_t>;

// Set by auxsync/crdt/CMakeLists.txt for crdt_test.
inline std::string VectorsDir() { return AUXSYNC_YJS_VECTORS_DIR; }

inline Bytes FromBase64(const std::string& b64) {
  std::string out;
  if (!absl::Base64Unescape(b64, &out)) return {};
  return Bytes(out.begin(), out.end());
}

inline std::string Hex(const Bytes& b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (uint8_t x : b) {
    s.push_back(kHex[x >> 4]);
    s.push_back(kHex[x & 15]);
    s.push_back(' ');
  }
  return s;
}

struct VectorFile {
  std::string name;
  Json json;
};

inline std::vector<VectorFile> LoadVectors() {
  std::vector<VectorFile> out;
  for (const auto& e : std::filesystem::directory_iterator(VectorsDir())) {
    if (e.path().extension() != ".json" ||
        e.path().filename() == "package.json")
      continue;
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    out.push_back({e.path().stem().string(), Json::parse(ss.str())});
  }
  std::sort(
      out.begin(), out.end(),
      [](const VectorFile& a, const VectorFile& b) { return a.name < b.name; });
  return out;
}

// An update in both formats, as recorded by yjs (v2 may be missing).
struct RecordedUpdate {
  std::string where;  // "file: id"
  Bytes v1;
  Bytes v2;
};

// Every update id of a vector (emitted updates and `as` results).
inline std::map<std::string, RecordedUpdate> UpdateRegistry(
    const VectorFile& f) {
  std::map<std::string, RecordedUpdate> reg;
  for (const Json& step : f.json["steps"]) {
    if (!step.contains("expect")) continue;
    const Json& ex = step["expect"];
    if (ex.contains("emitted")) {
      for (const Json& em : ex["emitted"]) {
        reg[em["id"]] = {f.name + ": " + em["id"].get<std::string>(),
                         FromBase64(em["v1"]), FromBase64(em["v2"])};
      }
    }
    if (step.contains("as") && ex.contains("v1") && ex.contains("v2")) {
      reg[step["as"]] = {f.name + ": " + step["as"].get<std::string>(),
                         FromBase64(ex["v1"]), FromBase64(ex["v2"])};
    }
  }
  return reg;
}

// Every v1/v2 pair a vector records for the same content: emitted updates,
// encodeStateAsUpdate results and the final full updates.
inline std::vector<RecordedUpdate> AllUpdatePairs(const VectorFile& f) {
  std::vector<RecordedUpdate> out;
  int step_no = 0;
  for (const Json& step : f.json["steps"]) {
    ++step_no;
    if (!step.contains("expect")) continue;
    const Json& ex = step["expect"];
    if (ex.contains("emitted")) {
      for (const Json& em : ex["emitted"]) {
        out.push_back({f.name + ": emitted " + em["id"].get<std::string>(),
                       FromBase64(em["v1"]), FromBase64(em["v2"])});
      }
    }
    if (step["op"] == "encodeStateAsUpdate" || step["op"] == "mergeUpdates" ||
        step["op"] == "diffUpdate") {
      out.push_back({f.name + ": step " + std::to_string(step_no) + " " +
                         step["op"].get<std::string>(),
                     FromBase64(ex["v1"]), FromBase64(ex["v2"])});
    }
  }
  if (f.json.contains("final")) {
    for (auto it = f.json["final"].begin(); it != f.json["final"].end(); ++it) {
      out.push_back({f.name + ": final " + it.key(),
                     FromBase64(it.value()["update"]),
                     FromBase64(it.value()["updateV2"])});
    }
  }
  return out;
}

}  // namespace auxsync::crdt::testing_codec

#endif  // AUXSYNC_CRDT_INTERNAL_CODEC_VECTORS_FOR_TEST_H_
