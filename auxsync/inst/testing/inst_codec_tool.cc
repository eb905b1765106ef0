// inst_codec_tool: the C++ side of interop/inst_codec_test.sh.
//
//   inst_codec_tool decode c2s|s2c   < frames.jsonl
//
// For each input line (one frame) prints one JSON line:
//   {"ok":true,"frame":"<our re-encoding>"}
//   {"ok":false,"kind":"ignored|envelope|message|unexpected",
//    "error":"...","reply":"<server reply frame>"|null}

#include <iostream>
#include <string>

#include "auxsync/bots/json.h"
#include "auxsync/inst/frame.h"

namespace {

std::string_view KindName(auxsync::inst::FrameErrorKind kind) {
  using auxsync::inst::FrameErrorKind;
  switch (kind) {
    case FrameErrorKind::kIgnored:
      return "ignored";
    case FrameErrorKind::kBadEnvelope:
      return "envelope";
    case FrameErrorKind::kBadMessage:
      return "message";
    case FrameErrorKind::kUnexpectedEvent:
      return "unexpected";
  }
  return "ignored";
}

}  // namespace

int main(int argc, char** argv) {
  using auxsync::bots::MakeObject;
  using auxsync::bots::ToJson;
  using auxsync::bots::Value;
  using namespace auxsync::inst;
  if (argc != 3 || std::string(argv[1]) != "decode" ||
      (std::string(argv[2]) != "c2s" && std::string(argv[2]) != "s2c")) {
    std::cerr << "usage: inst_codec_tool decode c2s|s2c < frames.jsonl\n";
    return 2;
  }
  const Direction direction = std::string(argv[2]) == "c2s"
                                  ? Direction::kClientToServer
                                  : Direction::kServerToClient;
  std::string line;
  while (std::getline(std::cin, line)) {
    absl::StatusOr<Event> event = DecodeFrame(line, direction);
    Value out;
    if (event.ok()) {
      out = MakeObject({{"ok", true}, {"frame", EncodeFrame(*event)}});
    } else {
      std::optional<std::string> reply = ServerReplyToBadFrame(event.status());
      out = MakeObject(
          {{"ok", false},
           {"kind", std::string(KindName(FrameErrorOf(event.status()).kind))},
           {"error", std::string(event.status().message())},
           {"reply", reply ? Value(*reply) : Value(nullptr)}});
    }
    std::cout << ToJson(out) << '\n';
  }
  return 0;
}
