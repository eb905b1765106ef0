// inst_codec_tool: the C++ side of interop/inst_codec_test.sh.
//
//   inst_codec_tool decode c2s|s2c   < frames.jsonl
//   inst_codec_tool token            < tokens.jsonl   (JSON strings)
//   inst_codec_tool hmac             < args.jsonl
//       ([secret, connectionId, recordName|null, inst])
//
// For each input line (one frame) prints one JSON line:
//   {"ok":true,"frame":"<our re-encoding>"}
//   {"ok":false,"kind":"ignored|envelope|message|unexpected",
//    "error":"...","reply":"<server reply frame>"|null}
// token: [userId, sessionId, connectionId, recordName|null, inst, hash] or
// null per line; hmac: the hex HMAC (a JSON string) or null per line.

#include <iostream>
#include <string>

#include "auxsync/bots/json.h"
#include "auxsync/inst/connection_token.h"
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
  const std::string mode = argc > 1 ? argv[1] : "";
  if (argc == 2 && (mode == "token" || mode == "hmac")) {
    std::string line;
    while (std::getline(std::cin, line)) {
      absl::StatusOr<Value> in = auxsync::bots::ParseJson(line);
      Value out(nullptr);
      if (in.ok() && mode == "token" && in->is_string()) {
        absl::StatusOr<ConnectionToken> t =
            ParseConnectionToken(in->as_string());
        if (t.ok()) {
          out = auxsync::bots::MakeArray(
              {t->user_id, t->session_id, t->connection_id,
               t->record_name ? Value(*t->record_name) : Value(nullptr),
               t->inst, t->hash_hex});
        }
      } else if (in.ok() && mode == "hmac" && in->is_array() &&
                 in->as_array().items.size() == 4 &&
                 in->as_array().items[0].is_string() &&
                 in->as_array().items[1].is_string() &&
                 in->as_array().items[3].is_string()) {
        const auto& a = in->as_array().items;
        RecordName record;
        if (a[2].is_string()) record = a[2].as_string();
        absl::StatusOr<std::string> h = ConnectionTokenHmacHex(
            a[0].as_string(), a[1].as_string(), record, a[3].as_string());
        if (h.ok()) out = *h;
      }
      std::cout << ToJson(out) << '\n';
    }
    return 0;
  }
  if (argc != 3 || mode != "decode" ||
      (std::string(argv[2]) != "c2s" && std::string(argv[2]) != "s2c")) {
    std::cerr << "usage: inst_codec_tool decode c2s|s2c | token | hmac\n";
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
