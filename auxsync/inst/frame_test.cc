#include "auxsync/inst/frame.h"

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace auxsync::inst {
namespace {

using ::testing::HasSubstr;

struct TranscriptFrame {
  Direction direction;
  std::string text;
};

// The frames of the example session of spec/inst-protocol.md section 11,
// in order ("A -> server: ..." and "server -> A: ..." lines).
std::vector<TranscriptFrame> ReadTranscript() {
  std::ifstream in(std::string(AUXSYNC_SHARED_DIR) + "/spec/inst-protocol.md");
  std::vector<TranscriptFrame> frames;
  std::string line;
  bool in_section = false;
  while (std::getline(in, line)) {
    if (line.starts_with("## 11.")) in_section = true;
    if (line.starts_with("## 12.")) break;
    if (!in_section) continue;
    size_t colon = line.find(": ");
    if (colon == std::string::npos) continue;
    std::string who = line.substr(0, colon);
    std::string text = line.substr(colon + 2);
    if (who.size() == 11 && who.ends_with(" -> server")) {
      frames.push_back({Direction::kClientToServer, text});
    } else if (who.starts_with("server -> ") && who.size() == 11) {
      frames.push_back({Direction::kServerToClient, text});
    }
  }
  return frames;
}

TEST(Frame, Transcript_EveryFrameDecodesAndReencodesByteIdentically) {
  std::vector<TranscriptFrame> frames = ReadTranscript();
  ASSERT_GE(frames.size(), 50u) << "section 11 of the spec not found";
  int decoded = 0;
  for (size_t i = 0; i < frames.size(); ++i) {
    const TranscriptFrame& f = frames[i];
    absl::StatusOr<Event> event = DecodeFrame(f.text, f.direction);
    if (!event.ok()) {
      // The malformed requests of the raw-socket fragment: the next frame
      // is the server's reply, which ours must equal byte for byte.
      ASSERT_EQ(f.direction, Direction::kClientToServer) << f.text;
      ASSERT_LT(i + 1, frames.size());
      std::optional<std::string> reply = ServerReplyToBadFrame(event.status());
      ASSERT_TRUE(reply.has_value()) << f.text << ": " << event.status();
      EXPECT_EQ(*reply, frames[i + 1].text);
      continue;
    }
    EXPECT_EQ(EncodeFrame(*event), f.text);
    ++decoded;
  }
  EXPECT_EQ(decoded, 48);  // all but the two invalid requests
}

TEST(Frame, S2_S4_TranscriptMalformedFramesGetTheRealReplies) {
  auto bad = DecodeFrame(R"({"foo":1})", Direction::kClientToServer);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(FrameErrorOf(bad.status()).kind, FrameErrorKind::kBadEnvelope);
  EXPECT_EQ(
      *ServerReplyToBadFrame(bad.status()),
      R"([5,null,{"success":false,"errorCode":"unacceptable_request","errorMessage":"The request was invalid. One or more fields were invalid.","issues":[{"expected":"tuple","code":"invalid_type","path":[],"message":"Invalid input: expected tuple, received object"}]}])");
  auto upload = DecodeFrame("[2,9]", Direction::kClientToServer);
  ASSERT_TRUE(upload.ok());
  EXPECT_EQ(std::get<UploadRequestEvent>(*upload).id, 9);
  EXPECT_EQ(
      UploadNotSupportedFrame(9),
      R"([5,9,{"success":false,"errorCode":"not_supported","errorMessage":"Upload requests are not supported."}])");
}

struct Classified {
  std::string text;
  FrameErrorKind kind;
  std::optional<double> id;
};

TEST(Frame, S2_MalformedClientFramesAreClassified) {
  const std::vector<Classified> cases = {
      {"", FrameErrorKind::kIgnored, std::nullopt},
      {"not json", FrameErrorKind::kIgnored, std::nullopt},
      {"[1,2", FrameErrorKind::kIgnored, std::nullopt},
      {"5", FrameErrorKind::kIgnored, std::nullopt},
      {"\"x\"", FrameErrorKind::kIgnored, std::nullopt},
      {"true", FrameErrorKind::kIgnored, std::nullopt},
      {"null", FrameErrorKind::kBadEnvelope, std::nullopt},
      {"{}", FrameErrorKind::kBadEnvelope, std::nullopt},
      {"[]", FrameErrorKind::kBadEnvelope, std::nullopt},
      {"[1]", FrameErrorKind::kBadEnvelope, std::nullopt},
      {"[0,1,{}]", FrameErrorKind::kBadEnvelope, std::nullopt},
      {"[6,1,{}]", FrameErrorKind::kBadEnvelope, std::nullopt},
      {"[1.5,1,{}]", FrameErrorKind::kBadEnvelope, std::nullopt},
      {"[\"1\",1,{}]", FrameErrorKind::kBadEnvelope, std::nullopt},
      {"[1,null,{}]", FrameErrorKind::kBadEnvelope, std::nullopt},
      {"[1,\"1\",{}]", FrameErrorKind::kBadEnvelope, std::nullopt},
      {"[1,3]", FrameErrorKind::kBadMessage, 3},
      {"[1,3,null]", FrameErrorKind::kBadMessage, 3},
      {"[1,3,[]]", FrameErrorKind::kBadMessage, 3},
      {"[1,4,{\"type\":\"login_result\",\"success\":true}]",
       FrameErrorKind::kBadMessage, 4},
      {"[4,5,\"u\"]", FrameErrorKind::kBadMessage, 5},
      {"[4,5,\"u\",\"GET\",{\"a\":1}]", FrameErrorKind::kBadMessage, 5},
      {"[3,1,\"u\",\"PUT\",{}]", FrameErrorKind::kUnexpectedEvent, 1},
      {"[5,1,{\"errorCode\":\"x\",\"errorMessage\":\"y\"}]",
       FrameErrorKind::kUnexpectedEvent, 1},
  };
  for (const Classified& c : cases) {
    auto event = DecodeFrame(c.text, Direction::kClientToServer);
    ASSERT_FALSE(event.ok()) << c.text;
    FrameError error = FrameErrorOf(event.status());
    EXPECT_EQ(error.kind, c.kind) << c.text << ": " << event.status();
    if (c.kind == FrameErrorKind::kBadMessage) {
      EXPECT_EQ(error.request_id, c.id) << c.text;
      std::optional<std::string> reply = ServerReplyToBadFrame(event.status());
      ASSERT_TRUE(reply);
      EXPECT_TRUE(reply->starts_with("[5," + std::to_string(int(*c.id)) + ","))
          << *reply;
    } else if (c.kind == FrameErrorKind::kBadEnvelope) {
      EXPECT_TRUE(
          ServerReplyToBadFrame(event.status())->starts_with("[5,null,"));
    } else {
      EXPECT_FALSE(ServerReplyToBadFrame(event.status()).has_value());
    }
  }
}

TEST(Frame, FractionalIdsAreAccepted) {
  auto event = DecodeFrame(R"([1,1.5,{"type":"login","connectionId":"c"}])",
                           Direction::kClientToServer);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(std::get<MessageEvent>(*event).id, 1.5);
}

// The issue lists the real server's zod parse gives (checked against
// aux-common 3.10.5's websocketEventSchema / websocketRequestMessageSchema):
// every failing tuple element is listed, and a number that overflowed to
// Infinity is named in "received" whatever its sign.
TEST(Frame, S2_EnvelopeIssuesAreTheRealServers) {
  const std::string prefix =
      R"([5,null,{"success":false,"errorCode":"unacceptable_request",)"
      R"("errorMessage":"The request was invalid. One or more fields were )"
      R"(invalid.","issues":[)";
  const std::string bad_type =
      R"({"code":"invalid_value","values":[1,2,3,4,5],"path":[0],)"
      R"("message":"Invalid option: expected one of 1|2|3|4|5"})";
  auto bad_id = [](const std::string& received) {
    return absl::StrCat(
        R"({"expected":"number","code":"invalid_type","path":[1],)"
        R"("message":"Invalid input: expected number, received )",
        received, R"("})");
  };
  auto reply = [](std::string_view text) {
    return ServerReplyToBadFrame(
               DecodeFrame(text, Direction::kClientToServer).status())
        .value_or("none");
  };
  EXPECT_EQ(reply("[]"),
            absl::StrCat(prefix, bad_type, ",", bad_id("undefined"), "]}]"));
  EXPECT_EQ(reply("[0]"),
            absl::StrCat(prefix, bad_type, ",", bad_id("undefined"), "]}]"));
  EXPECT_EQ(reply(R"([0,"x"])"),
            absl::StrCat(prefix, bad_type, ",", bad_id("string"), "]}]"));
  EXPECT_EQ(reply("[1]"), absl::StrCat(prefix, bad_id("undefined"), "]}]"));
  EXPECT_EQ(reply("[7,1,{}]"), absl::StrCat(prefix, bad_type, "]}]"));
  const std::string infinite =
      R"({"expected":"number","code":"invalid_type","received":"Infinity",)"
      R"("path":[1],"message":"Invalid input: expected number, received )"
      R"(number"})";
  EXPECT_EQ(reply("[1,1e999,{}]"), absl::StrCat(prefix, infinite, "]}]"));
  EXPECT_EQ(reply("[1,-1e999,{}]"), absl::StrCat(prefix, infinite, "]}]"));
  EXPECT_EQ(
      reply(R"([1,1,{"type":"sync/time","id":1,"clientRequestTime":-1e999}])"),
      R"([5,1,{"success":false,"errorCode":"unacceptable_request",)"
      R"("errorMessage":"The request was invalid. One or more fields were )"
      R"(invalid.","issues":[{"expected":"number","code":"invalid_type",)"
      R"("received":"Infinity","path":["clientRequestTime"],"message":)"
      R"("Invalid input: expected number, received number"}]}])");
}

TEST(Frame, S2_ErrorsNameTheField) {
  auto event = DecodeFrame(
      R"([1,8,{"type":"repo/watch_branch","recordName":"","inst":"x","branch":"y"}])",
      Direction::kClientToServer);
  ASSERT_FALSE(event.ok());
  EXPECT_THAT(std::string(event.status().message()),
              HasSubstr("message.recordName"));
  EXPECT_THAT(*ServerReplyToBadFrame(event.status()),
              HasSubstr(R"("path":["recordName"])"));
}

TEST(Frame, C2_ClientSideDropsWhatTheCasualOsClientDrops) {
  for (std::string_view text :
       {"[1,-1]", "[1,-1,null]", "[1,-1,5]", "{}", "[1,-1,{\"type\":\"x\"}]",
        "[5,-1,{\"errorCode\":1,\"errorMessage\":\"m\"}]"}) {
    auto event = DecodeFrame(text, Direction::kServerToClient);
    ASSERT_FALSE(event.ok()) << text;
    EXPECT_EQ(FrameErrorOf(event.status()).kind, FrameErrorKind::kIgnored);
  }
  auto error = DecodeFrame(
      R"([5,null,{"success":false,"errorCode":"unacceptable_request","errorMessage":"m","issues":[]}])",
      Direction::kServerToClient);
  ASSERT_TRUE(error.ok()) << error.status();
  EXPECT_EQ(std::get<ErrorEvent>(*error).id, std::nullopt);
  EXPECT_EQ(std::get<ErrorEvent>(*error).info.error_code(),
            "unacceptable_request");
}

TEST(Frame, TransferEventsRoundTrip) {
  for (auto [text, dir] : std::vector<std::pair<std::string, Direction>>{
           {R"([3,4,"https://s3/x?sig=1","PUT",{"x-a":"b"}])",
            Direction::kServerToClient},
           {R"([4,-1,"https://s3/y","GET",{}])", Direction::kServerToClient},
           {R"([4,7,"https://s3/y","GET",{}])", Direction::kClientToServer},
       }) {
    auto event = DecodeFrame(text, dir);
    ASSERT_TRUE(event.ok()) << text << event.status();
    EXPECT_EQ(EncodeFrame(*event), text);
  }
  EXPECT_EQ(
      DownloadNotFoundFrame(7),
      R"([5,7,{"success":false,"errorCode":"message_not_found","errorMessage":"Message not found."}])");
}

TEST(Frame, S3_BranchErrorsCarryTheNamespace) {
  ErrorInfo info = MakeBranchErrorInfo(
      "not_authorized", "You are not authorized to access this inst.",
      {std::nullopt, "i", "b"}, bots::MakeObject({{"type", "invalid_token"}}));
  EXPECT_EQ(
      EncodeFrame(ErrorEvent{-1, info}),
      R"([5,-1,{"success":false,"errorCode":"not_authorized","errorMessage":"You are not authorized to access this inst.","recordName":null,"inst":"i","branch":"b","reason":{"type":"invalid_token"}}])");
  ASSERT_TRUE(info.branch().has_value());
  EXPECT_EQ(info.branch()->inst, "i");
  EXPECT_FALSE(MakeErrorInfo("x", "y").branch().has_value());
}

TEST(Frame, HttpRequestsGetANotSupportedResponse) {
  EXPECT_EQ(
      EncodeMessageFrame(HttpNotSupportedResponse(3)),
      R"([1,-1,{"type":"http_response","id":3,"response":{"statusCode":501,"headers":{"content-type":"application/json"},"body":"{\"success\":false,\"errorCode\":\"not_supported\",\"errorMessage\":\"HTTP requests over websockets are not supported.\"}"}}])");
}

TEST(Frame, LimitsAreEnforced) {
  FrameLimits limits{.max_frame_bytes = 64, .max_depth = 8};
  std::string big = R"([1,1,{"type":"login","connectionId":")" +
                    std::string(100, 'x') + "\"}]";
  auto event = DecodeFrame(big, Direction::kClientToServer, limits);
  ASSERT_FALSE(event.ok());
  EXPECT_EQ(FrameErrorOf(event.status()).kind, FrameErrorKind::kIgnored);

  std::string deep =
      R"([1,1,{"type":"repo/send_action","recordName":null,"inst":"i","branch":"b","action":{"type":"remote","event":)";
  for (int i = 0; i < 100000; ++i) deep += "[";
  auto deep_event = DecodeFrame(deep, Direction::kClientToServer);
  ASSERT_FALSE(deep_event.ok());
  EXPECT_EQ(FrameErrorOf(deep_event.status()).kind, FrameErrorKind::kIgnored);
}

// Random mutations of real frames: decoding must never crash (the
// sanitizer build checks memory safety) and a success must re-encode to
// something that decodes to the same bytes again.
TEST(Frame, MutatedFramesNeverCrash) {
  std::vector<TranscriptFrame> frames = ReadTranscript();
  ASSERT_FALSE(frames.empty());
  std::mt19937 rng(12345);
  const std::string alphabet = "[]{}\",:0123456789-.eEnultrfas\\ \x80\xff";
  for (int iter = 0; iter < 20000; ++iter) {
    const TranscriptFrame& f = frames[rng() % frames.size()];
    std::string text = f.text;
    int edits = 1 + rng() % 4;
    for (int e = 0; e < edits && !text.empty(); ++e) {
      size_t pos = rng() % text.size();
      switch (rng() % 3) {
        case 0:
          text[pos] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          text.erase(pos, 1 + rng() % 8);
          break;
        default:
          text.insert(pos, 1, alphabet[rng() % alphabet.size()]);
      }
    }
    for (Direction d :
         {Direction::kClientToServer, Direction::kServerToClient}) {
      absl::StatusOr<Event> event = DecodeFrame(text, d);
      if (!event.ok()) {
        (void)ServerReplyToBadFrame(event.status());
        continue;
      }
      std::string once = EncodeFrame(*event);
      absl::StatusOr<Event> again = DecodeFrame(once, d);
      ASSERT_TRUE(again.ok()) << once;
      EXPECT_EQ(EncodeFrame(*again), once);
    }
  }
}

}  // namespace
}  // namespace auxsync::inst
