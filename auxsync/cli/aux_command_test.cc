#include "auxsync/cli/aux_command.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace auxsync::cli {
namespace {

std::string Temp(std::string_view name) {
  return absl::StrCat(::testing::TempDir(), "/auxsync_aux_cmd_",
                      std::string(name));
}

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::StatusOr<std::string> Parse(std::vector<std::string> args,
                                  AuxCommand& command) {
  CLI::App app;
  CLI::App* aux = AddAuxCommand(app, command);
  std::vector<std::string> argv = {"auxsync"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<const char*> cargs;
  for (const auto& a : argv) cargs.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(cargs.size()), cargs.data());
  } catch (const CLI::ParseError& e) {
    return absl::InvalidArgumentError(e.what());
  }
  if (!aux->parsed()) return absl::InvalidArgumentError("not parsed");
  return RunAux(command);
}

TEST(AuxCommand, ShowVersion1AndVersion2) {
  const std::string v1 = Temp("v1.aux");
  Write(v1, R"({"version":1,"state":{"b":{"id":"b","tags":{"x":1}}}})");
  AuxCommand c1;
  auto out = Parse({"aux", "show", v1}, c1);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, R"({"b":{"id":"b","tags":{"x":1}}})");

  const std::string v2 = Temp("v2.aux");
  Write(
      v2,
      R"({"version":2,"updates":[{"id":0,"timestamp":1,"update":"AQLNrtWDBQAnAQRib3RzBGJvdDEBKADNrtWDBQAEdGFnMQF3A2FiYwA="}]})");
  AuxCommand c2;
  out = Parse({"aux", "show", v2}, c2);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, R"({"bot1":{"id":"bot1","tags":{"tag1":"abc"}}})");
}

TEST(AuxCommand, ConvertRoundTrip) {
  const std::string in = Temp("conv_in.aux");
  const std::string mid = Temp("conv_mid.aux");
  const std::string out = Temp("conv_out.aux");
  Write(in, R"({"version":1,"state":{"b":{"id":"b","tags":{"x":"y"}}}})");
  AuxCommand c1;
  ASSERT_TRUE(Parse({"aux", "convert", "--to", "2", in, mid}, c1).ok());
  EXPECT_EQ(Read(mid).rfind(R"({"version":2,"updates":[{"id":0,)", 0), 0u);
  AuxCommand c2;
  ASSERT_TRUE(Parse({"aux", "convert", "--to", "1", mid, out}, c2).ok());
  EXPECT_EQ(Read(out),
            R"({"version":1,"state":{"b":{"id":"b","tags":{"x":"y"}}}})");
}

TEST(AuxCommand, ErrorsNameTheFile) {
  const std::string bad = Temp("bad.aux");
  Write(bad, R"({"version":7})");
  AuxCommand c;
  auto out = Parse({"aux", "show", bad}, c);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find(bad), std::string::npos);
  EXPECT_NE(out.status().message().find("unsupported aux version 7"),
            std::string::npos);
  AuxCommand c3;
  EXPECT_FALSE(Parse({"aux", "convert", "--to", "3", bad, bad}, c3).ok());
}

}  // namespace
}  // namespace auxsync::cli
