// Golden-vector conformance: every vector in shared/vectors/yjs (written by
// the real yjs 13.6.27) replayed on the engine by testing/vector_runner.h;
// one test per file, named after the vector. A failure names the vector and
// its first mismatches (step, field, expected vs actual).
#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "auxsync/crdt/testing/vector_runner.h"
#include "gtest/gtest.h"

namespace auxsync::crdt {
namespace {

namespace vt = ::auxsync::crdt::testing;

// Vectors the engine cannot run yet, with the reason. A listed vector that
// fails is reported as SKIPPED (with its first mismatch), never as passed; a
// listed vector that passes fails the test, so that it is removed from this
// list. Entries: the vector's name, and a comment saying what is missing.
// Keep this list empty once the engine is complete.
constexpr std::array<std::string_view, 0> kKnownUnsupported = {};

bool IsKnownUnsupported(std::string_view name) {
  return std::find(kKnownUnsupported.begin(), kKnownUnsupported.end(), name) !=
         kKnownUnsupported.end();
}

std::vector<std::string> VectorFiles() {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e :
       std::filesystem::directory_iterator(AUXSYNC_YJS_VECTORS_DIR, ec)) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() == ".json" && name != "package.json" &&
        name != "package-lock.json") {
      files.push_back(e.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string TestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = std::filesystem::path(info.param).stem().string();
  for (char& c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return n;
}

class YjsVectorTest : public ::testing::TestWithParam<std::string> {};

TEST_P(YjsVectorTest, ReplaysByteIdentical) {
  const std::string name = std::filesystem::path(GetParam()).stem().string();
  absl::StatusOr<vt::Json> vector = vt::ReadVectorFile(GetParam());
  ASSERT_TRUE(vector.ok()) << vector.status();
  std::vector<vt::Mismatch> mismatches = vt::CheckVector(*vector, 5);
  const bool known = IsKnownUnsupported(name);
  if (known && mismatches.empty()) {
    FAIL()
        << "vector " << name
        << " passes now: remove it from kKnownUnsupported in vectors_test.cc";
  }
  std::string report;
  for (const vt::Mismatch& m : mismatches) report += "\n  " + m.ToString();
  if (known) GTEST_SKIP() << "known unsupported: vector " << name << report;
  EXPECT_TRUE(mismatches.empty())
      << "vector " << name << " (" << GetParam() << ")" << report;
}

INSTANTIATE_TEST_SUITE_P(GoldenVectors, YjsVectorTest,
                         ::testing::ValuesIn(VectorFiles()), TestName);

TEST(YjsVectors, DirectoryHoldsTheVectors) {
  // 82 vectors in yjs 13.6.27's set; an empty or missing folder must not
  // pass silently.
  EXPECT_GE(VectorFiles().size(), 82u)
      << "vectors folder: " << AUXSYNC_YJS_VECTORS_DIR;
}

TEST(YjsVectors, CompareReportsDifferences) {
  // The comparison itself: a changed byte, a missing emission, map key order
  // (not significant) and number spelling (not significant).
  vt::Json expected = vt::Json::parse(
      R"({"steps":[{"op":"map.set","doc":"A","expect":{"emitted":[
      {"id":"A.0","doc":"A","local":true,"v1":"AQ==","v2":"Ag=="}]}}],
      "final":{"A":{"json":{"m":{"a":1,"b":2.0}},"pendingStructs":false}}})");
  vt::Json same = vt::Json::parse(
      R"({"steps":[{"op":"map.set","doc":"A","expect":{"emitted":[
      {"id":"A.0","doc":"A","local":true,"v1":"AQ==","v2":"Ag=="}]}}],
      "final":{"A":{"json":{"m":{"b":2,"a":1}},"pendingStructs":false}}})");
  EXPECT_TRUE(vt::CompareReplay(expected, same).empty());
  vt::Json changed = same;
  changed["steps"][0]["expect"]["emitted"][0]["v2"] = "Aw==";
  changed["final"]["A"]["pendingStructs"] = true;
  auto m = vt::CompareReplay(expected, changed);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].step, 0);
  EXPECT_EQ(m[0].field, "emitted[0].v2");
  EXPECT_EQ(m[1].field, "pendingStructs");
  vt::Json missing = same;
  missing["steps"][0].erase("expect");
  m = vt::CompareReplay(expected, missing);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].field, "emitted[0]");
  vt::Json error = same;
  error["steps"][0]["error"] = "unsupported op map.set";
  m = vt::CompareReplay(expected, error);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].field, "error");
  EXPECT_EQ(m[0].actual, "\"unsupported op map.set\"");
}

}  // namespace
}  // namespace auxsync::crdt
