// Fuzzes the inst protocol's frame decoder in both directions: any text
// either fails with a status the server knows how to answer (or ignore),
// or decodes to an event whose encoding decodes again to the same
// encoding.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auxsync/inst/frame.h"
#include "auxsync/inst/message_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using auxsync::inst::Direction;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (Direction direction :
       {Direction::kClientToServer, Direction::kServerToClient}) {
    absl::StatusOr<auxsync::inst::Event> event =
        auxsync::inst::DecodeFrame(text, direction);
    if (!event.ok()) {
      (void)auxsync::inst::FrameErrorOf(event.status());
      (void)auxsync::inst::ServerReplyToBadFrame(event.status());
      continue;
    }
    const std::string once = auxsync::inst::EncodeFrame(*event);
    absl::StatusOr<auxsync::inst::Event> again =
        auxsync::inst::DecodeFrame(once, direction);
    if (!again.ok() || auxsync::inst::EncodeFrame(*again) != once) abort();
  }
  return 0;
}
