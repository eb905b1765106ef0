#include "auxsync/cli/doc_command.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/escaping.h"
#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/encoding.h"
#include "auxsync/crdt/types.h"
#include "auxsync/crdt/wire_struct.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace auxsync::cli {
namespace {

using ::testing::HasSubstr;

DocCommand Cmd(std::string action, std::vector<std::string> files,
               std::string sv = "") {
  DocCommand c;
  c.action = std::move(action);
  c.files = std::move(files);
  c.target_sv = std::move(sv);
  return c;
}

class DocCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("auxsync_doc_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& data) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << data;
    return path;
  }

  // Two updates of one doc: a map entry, then a text edit.
  std::vector<std::string> MakeUpdates() {
    crdt::DocOptions options;
    options.client_id = 7;
    crdt::Doc doc(options);
    std::vector<std::string> updates;
    auto sub =
        doc.OnUpdate([&](std::span<const uint8_t> u, const crdt::Transaction&) {
          updates.emplace_back(u.begin(), u.end());
        });
    doc.GetMap("m").Set("k", crdt::JsValue::MakeNumber(1.5));
    doc.GetText("t").Insert(0, u"héllo");
    return updates;
  }

  std::filesystem::path dir_;
};

// `argv` (after "auxsync") parsed as the real command line is, into
// `command`; an error for what CLI11 refuses.
absl::Status Parse(const std::vector<std::string>& args, DocCommand& command) {
  CLI::App app;
  CLI::App* doc = AddDocCommand(app, command);
  std::vector<const char*> argv = {"auxsync"};
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    return absl::InvalidArgumentError(e.what());
  }
  return doc->parsed() ? absl::OkStatus()
                       : absl::InvalidArgumentError("doc not parsed");
}

TEST_F(DocCommandTest, ShowAppliesBase64LinesAndInfersRootKinds) {
  std::vector<std::string> u = MakeUpdates();
  ASSERT_EQ(u.size(), 2u);
  std::string file = Write("u.b64", absl::Base64Escape(u[0]) + "\n" +
                                        absl::Base64Escape(u[1]) + "\n");
  DocCommand cmd = Cmd("show", {file});
  absl::StatusOr<std::string> out = RunDocCommand(cmd);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, R"({"m":{"k":1.5},"t":"héllo"})");
}

TEST_F(DocCommandTest, RawFilesApplyInOrderAndSvMatchesEncode) {
  std::vector<std::string> u = MakeUpdates();
  std::string a = Write("a.bin", u[0]), b = Write("b.bin", u[1]);
  DocCommand sv = Cmd("sv", {a, b});
  absl::StatusOr<std::string> out = RunDocCommand(sv);
  ASSERT_TRUE(out.ok()) << out.status();
  // Everything the doc has is missing from an empty state vector, and
  // nothing from its own.
  DocCommand encode = Cmd("encode", {a, b}, *out);
  absl::StatusOr<std::string> rest = RunDocCommand(encode);
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(*rest, absl::Base64Escape(std::string("\x00\x00", 2)));
  DocCommand merge = Cmd("merge", {a, b});
  absl::StatusOr<std::string> merged = RunDocCommand(merge);
  ASSERT_TRUE(merged.ok()) << merged.status();
  DocCommand show = Cmd("show", {Write("m.b64", *merged + "\n")});
  EXPECT_EQ(*RunDocCommand(show), R"({"m":{"k":1.5},"t":"héllo"})");
}

TEST_F(DocCommandTest, MalformedUpdateNamesFileAndUpdate) {
  std::vector<std::string> u = MakeUpdates();
  std::string bad = u[1].substr(0, u[1].size() / 2);
  std::string file = Write("bad.b64", absl::Base64Escape(u[0]) + "\n" +
                                          absl::Base64Escape(bad) + "\n");
  DocCommand cmd = Cmd("show", {file});
  absl::StatusOr<std::string> out = RunDocCommand(cmd);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("bad.b64, update 2: "));
  // The offset comes from the engine's reader: the same as the codec's.
  absl::StatusOr<crdt::DecodedUpdate> direct = crdt::ReadUpdate(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bad.data()),
                               bad.size()),
      crdt::UpdateVersion::kV1);
  ASSERT_FALSE(direct.ok());
  std::string expected(direct.status().message());
  ASSERT_EQ(expected.rfind("update: ", 0), 0u);
  EXPECT_EQ(out.status().message(), file + ", update 2: " + expected.substr(8));
}

TEST_F(DocCommandTest, MalformedRawFileNamesItsByteOffset) {
  // A raw file holds one update: a client section whose string runs past
  // the end of the input. The error names the file, the update and where
  // decoding failed.
  std::string raw(
      "\x01\x01\x07\x00\x04\x01\x01t\x09"
      "ab",
      11);
  std::string file = Write("bad.bin", raw);
  absl::StatusOr<std::string> out = RunDocCommand(Cmd("show", {file}));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(std::string(out.status().message()),
            file +
                ", update 1: declared length 9 exceeds the 2 remaining bytes "
                "at byte 9");
  // After a good update, the bad file still fails the command, naming it.
  std::vector<std::string> u = MakeUpdates();
  DocCommand two = Cmd("show", {Write("good.bin", u[0]), file});
  absl::StatusOr<std::string> both = RunDocCommand(two);
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.status().message(), out.status().message());
}

TEST_F(DocCommandTest, MissingFileAndBadStateVectorAreErrors) {
  DocCommand missing = Cmd("show", {(dir_ / "nope").string()});
  EXPECT_FALSE(RunDocCommand(missing).ok());
  std::vector<std::string> u = MakeUpdates();
  DocCommand diff = Cmd("diff", {Write("a.bin", u[0])}, "%%%");
  EXPECT_FALSE(RunDocCommand(diff).ok());
}

TEST_F(DocCommandTest, CommandLinesOfEveryAction) {
  std::vector<std::string> u = MakeUpdates();
  std::string a = Write("a.bin", u[0]), b = Write("b.bin", u[1]);

  DocCommand show;
  ASSERT_TRUE(
      Parse({"doc", "show", "--no-gc", "--text", "t", a, b}, show).ok());
  EXPECT_EQ(show.action, "show");
  EXPECT_EQ(show.files, (std::vector<std::string>{a, b}));
  EXPECT_FALSE(show.gc);
  EXPECT_EQ(show.texts, std::vector<std::string>{"t"});
  EXPECT_EQ(*RunDocCommand(show), R"({"m":{"k":1.5},"t":"héllo"})");

  DocCommand sv;
  ASSERT_TRUE(Parse({"doc", "sv", a}, sv).ok());
  absl::StatusOr<std::string> sv_a = RunDocCommand(sv);
  ASSERT_TRUE(sv_a.ok()) << sv_a.status();

  DocCommand encode;
  ASSERT_TRUE(
      Parse({"doc", "encode", "--v2", "--sv", *sv_a, a, b}, encode).ok());
  EXPECT_EQ(encode.action, "encode");
  EXPECT_TRUE(encode.v2);
  EXPECT_EQ(encode.target_sv, *sv_a);
  EXPECT_EQ(encode.files, (std::vector<std::string>{a, b}));

  // diff takes one file and then the state vector: what the merged
  // updates hold beyond the first update's state is the second update.
  DocCommand merge;
  ASSERT_TRUE(Parse({"doc", "merge", a, b}, merge).ok());
  absl::StatusOr<std::string> merged = RunDocCommand(merge);
  ASSERT_TRUE(merged.ok()) << merged.status();
  std::string both = Write("both.b64", *merged + "\n");
  DocCommand diff;
  absl::Status parsed = Parse({"doc", "diff", both, *sv_a}, diff);
  ASSERT_TRUE(parsed.ok()) << parsed;
  EXPECT_EQ(diff.action, "diff");
  EXPECT_EQ(diff.files, std::vector<std::string>{both});
  EXPECT_EQ(diff.target_sv, *sv_a);
  absl::StatusOr<std::string> rest = RunDocCommand(diff);
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(*rest, absl::Base64Escape(u[1]));
  DocCommand show_rest = Cmd("show", {a, Write("rest.b64", *rest + "\n")});
  EXPECT_EQ(*RunDocCommand(show_rest), R"({"m":{"k":1.5},"t":"héllo"})");

  DocCommand extra;
  EXPECT_FALSE(Parse({"doc", "diff", a, b, *sv_a}, extra).ok());
  DocCommand no_sv;
  EXPECT_FALSE(Parse({"doc", "diff", a}, no_sv).ok());
}

}  // namespace
}  // namespace auxsync::cli
