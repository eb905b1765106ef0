// The parts of a websocket URL the client needs to open a socket
// (spec/inst-protocol.md 2.1).

#ifndef AUXSYNC_CLIENT_INTERNAL_WEBSOCKET_URL_H_
#define AUXSYNC_CLIENT_INTERNAL_WEBSOCKET_URL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace auxsync::client::internal {

struct WebsocketUrl {
  bool tls = false;         // wss
  std::string host;         // as written, without IPv6 brackets
  uint16_t port = 0;        // explicit or the scheme's default (80/443)
  std::string target;       // path and query, at least "/"
  std::string host_header;  // the Host header: host[:port], brackets kept
  std::string origin;       // "ws://host[:port]" as WHATWG URL.origin
  std::string url;          // the normalized URL: origin + target
};

// Parses ws://, wss:// (path kept) and http://, https:// (mapped to ws/wss
// with the path /websocket, as aux-common resolves a host, 2.1). The
// scheme and host are lower-cased; a default port is left out of the
// origin. Errors (kInvalidArgument): another scheme, no host, a bad port,
// user info or a fragment.
absl::StatusOr<WebsocketUrl> ParseWebsocketUrl(std::string_view text);

}  // namespace auxsync::client::internal

#endif  // AUXSYNC_CLIENT_INTERNAL_WEBSOCKET_URL_H_
