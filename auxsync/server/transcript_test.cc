// The example session of spec/inst-protocol.md section 11 (captured from the
// real aux-records 3.10.5 server) replayed against the InstServer: the
// server frames must be the real ones, byte for byte.
//
// Two things differ from the capture, both allowed by the protocol:
// * the tokens: the capture's session secret is unknown, so the tokens are
//   re-made for the same user, session, connection, record and inst with a
//   secret of ours (server frames never contain the token);
// * A's `repo/watch_branch` (frame 2) and `repo/watch_branch_devices`
//   (frame 3) were processed concurrently by the Node server (2.8), so its
//   device listing came first and the watch then announced A to itself as a
//   new device watcher. Handling frames one by one, the watch completes
//   first (snapshot, result) and the listing follows; there is no second
//   announcement. So A's first frames are compared as that sequence.

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "auxsync/inst/connection_token.h"
#include "auxsync/server/inst_server.h"
#include "auxsync/server/memory_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace auxsync::server {
namespace {

struct Line {
  char who;  // 'A', 'B'
  bool to_server;
  bool closes;  // "-- socket X closes"
  std::string text;
};

// The main transcript: up to the end of its code block.
std::vector<Line> ReadTranscript() {
  std::ifstream in(std::string(AUXSYNC_SHARED_DIR) + "/spec/inst-protocol.md");
  std::vector<Line> lines;
  std::string line;
  bool in_section = false, in_block = false;
  while (std::getline(in, line)) {
    if (line.starts_with("## 11.")) in_section = true;
    if (!in_section) continue;
    if (line.starts_with("```")) {
      if (in_block) break;
      in_block = true;
      continue;
    }
    if (!in_block) continue;
    if (line.starts_with("-- socket ") && line.ends_with(" closes")) {
      lines.push_back({line[10], false, true, ""});
      continue;
    }
    size_t colon = line.find(": ");
    if (colon == std::string::npos) continue;
    std::string who = line.substr(0, colon);
    std::string text = line.substr(colon + 2);
    if (who.size() == 11 && who.ends_with(" -> server")) {
      lines.push_back({who[0], true, false, text});
    } else if (who.size() == 11 && who.starts_with("server -> ")) {
      lines.push_back({who[10], false, false, text});
    }
  }
  return lines;
}

class Recorder : public Connection {
 public:
  Recorder(char who, std::vector<std::pair<char, std::string>>& log)
      : who_(who), log_(log) {}
  void Send(std::string frame) override { log_.push_back({who_, frame}); }
  void Close() override {}

 private:
  char who_;
  std::vector<std::pair<char, std::string>>& log_;
};

constexpr char kUser[] = "b7951f63-1ebb-422c-859e-c909bcc449bb";
constexpr char kSession[] = "o3Yx48YStPF2mJLb+N+P4A==";
constexpr char kSecret[] = "dGhlIHRyYW5zY3JpcHQgdGVzdCBzZWNyZXQ=";

TEST(Transcript, S1_S17_TheRealSessionGivesTheRealServerFrames) {
  std::vector<Line> lines = ReadTranscript();
  ASSERT_GT(lines.size(), 20u);
  MemoryStore store;
  ASSERT_TRUE(store.PutSession({kUser, kSession, kSecret, false, {}}).ok());
  // "Before the transcript, another socket had stored one update (bot0)."
  ASSERT_TRUE(store
                  .AppendUpdates({kUser, "myInst", "default"},
                                 {"AQOtgsfkAQAnAQRib3RzBGJvdDABJwCtgsfkAQAFbGFi"
                                  "ZWwCBACtgsfkAQEFaGVsbG8A"},
                                 1)
                  .ok());
  InstServer server(store);
  std::vector<std::pair<char, std::string>> log;
  std::map<char, std::unique_ptr<Recorder>> recorders;
  std::map<char, InstServer::SocketId> sockets;
  std::map<char, std::vector<std::string>> expected;
  for (const Line& line : lines) {
    if (line.closes) {
      server.Disconnect(sockets.at(line.who));
      continue;
    }
    if (!line.to_server) {
      expected[line.who].push_back(line.text);
      continue;
    }
    if (!sockets.contains(line.who)) {
      recorders[line.who] = std::make_unique<Recorder>(line.who, log);
      sockets[line.who] = server.Connect(recorders[line.who].get());
    }
    std::string text = line.text;
    if (size_t at = text.find("\"connectionToken\":\"");
        at != std::string::npos) {
      at += 19;
      size_t end = text.find('"', at);
      absl::StatusOr<inst::ConnectionToken> real =
          inst::ParseConnectionToken(text.substr(at, end - at));
      ASSERT_TRUE(real.ok());
      absl::StatusOr<inst::ConnectionToken> ours = inst::MakeConnectionToken(
          real->user_id, real->session_id, kSecret, real->connection_id,
          real->record_name, real->inst);
      ASSERT_TRUE(ours.ok());
      text.replace(at, end - at, inst::FormatConnectionToken(*ours));
    }
    server.HandleFrame(sockets.at(line.who), text);
  }
  std::map<char, std::vector<std::string>> actual;
  for (auto& [who, frame] : log) actual[who].push_back(frame);
  EXPECT_EQ(actual['B'], expected['B']);
  // A: login, then [listing, self-announcement, snapshot, result] in the
  // capture; one by one it is [snapshot, result, listing].
  std::vector<std::string> a = expected['A'];
  ASSERT_GE(a.size(), 5u);
  ASSERT_THAT(
      a[2],
      testing::HasSubstr(
          R"("type":"repo/connected_to_branch","broadcast":false,"branch")"));
  std::vector<std::string> sequential = {a[0], a[3], a[4], a[1]};
  sequential.insert(sequential.end(), a.begin() + 5, a.end());
  EXPECT_EQ(actual['A'], sequential);
}

}  // namespace
}  // namespace auxsync::server
