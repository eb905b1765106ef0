#include "auxsync/client/internal/websocket_url.h"

#include <cctype>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace auxsync::client::internal {

absl::StatusOr<WebsocketUrl> ParseWebsocketUrl(std::string_view text) {
  std::string_view rest = text;
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  size_t colon = rest.find("://");
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a websocket URL (no scheme): ", std::string(text)));
  }
  std::string scheme =
      absl::AsciiStrToLower(absl::string_view(rest.data(), colon));
  rest.remove_prefix(colon + 3);
  WebsocketUrl url;
  bool http = false;
  if (scheme == "ws") {
    url.tls = false;
  } else if (scheme == "wss") {
    url.tls = true;
  } else if (scheme == "http") {
    http = true;
  } else if (scheme == "https") {
    http = true;
    url.tls = true;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unsupported scheme \"", scheme, "\" (ws, wss, http or https)"));
  }
  if (rest.find('#') != std::string_view::npos) {
    return absl::InvalidArgumentError("a websocket URL has no fragment");
  }
  size_t authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view target =
      authority_end == std::string_view::npos ? "" : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return absl::InvalidArgumentError("user info is not supported in the URL");
  }
  std::string_view host;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError("unterminated IPv6 address");
    }
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return absl::InvalidArgumentError("bad text after the IPv6 address");
      }
      port_text = after.substr(1);
    }
  } else {
    size_t port_colon = authority.rfind(':');
    host = authority.substr(0, port_colon);
    if (port_colon != std::string_view::npos) {
      port_text = authority.substr(port_colon + 1);
    }
  }
  if (host.empty()) return absl::InvalidArgumentError("the URL has no host");
  uint16_t default_port = url.tls ? 443 : 80;
  url.port = default_port;
  if (!port_text.empty()) {
    uint32_t port = 0;
    bool digits = true;
    for (char c : port_text)
      digits &= std::isdigit(static_cast<unsigned char>(c)) != 0;
    if (!digits || port_text.size() > 5 ||
        !absl::SimpleAtoi(absl::string_view(port_text.data(), port_text.size()),
                          &port) ||
        port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad port \"", std::string(port_text), "\""));
    }
    url.port = static_cast<uint16_t>(port);
  }
  url.host = absl::AsciiStrToLower(absl::string_view(host.data(), host.size()));
  bool ipv6 = url.host.find(':') != std::string::npos;
  std::string host_part = ipv6 ? absl::StrCat("[", url.host, "]") : url.host;
  url.host_header = url.port == default_port
                        ? host_part
                        : absl::StrCat(host_part, ":", url.port);
  // The endpoint of a host is /websocket, whatever path the host URL had.
  if (http) {
    url.target = "/websocket";
  } else if (target.empty()) {
    url.target = "/";
  } else if (target.front() == '?') {
    url.target = absl::StrCat("/", std::string(target));
  } else {
    url.target = std::string(target);
  }
  url.origin = absl::StrCat(url.tls ? "wss://" : "ws://", url.host_header);
  url.url = absl::StrCat(url.origin, url.target);
  return url;
}

}  // namespace auxsync::client::internal
