// The websocket transport of `auxsync serve` on Boost.Beast: accepts
// upgrades on any path (CasualOS clients use /websocket, 2.1), echoes the
// first offered subprotocol (casualos.records), hands every text frame to
// the InstServer and writes its frames back. Binary frames are ignored;
// frames above the size limit close the socket (websocket close 1009).
//
// Threading: everything runs on the one thread that runs the io_context
// given to the constructor, so the InstServer needs no locking; a socket's
// frames are handled one by one in arrival order, and each handler finishes
// its store writes before the next frame (of any socket) is handled.

#ifndef AUXSYNC_SERVER_WEBSOCKET_SERVER_H_
#define AUXSYNC_SERVER_WEBSOCKET_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "auxsync/server/inst_server.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/steady_timer.hpp"

namespace auxsync::server {

struct WebsocketServerOptions {
  // The largest incoming message; larger ones close the socket.
  size_t max_frame_bytes = 64u << 20;
  // Frames queued for one socket beyond this many bytes close it (a client
  // that stopped reading).
  size_t max_queued_bytes = 256u << 20;
  // Receives one readable line per event (connects, closes, errors);
  // nullptr = silent.
  std::function<void(std::string_view)> log;
};

class WebsocketServer {
 public:
  // `io` and `server` must outlive this object.
  WebsocketServer(boost::asio::io_context& io, InstServer& server,
                  WebsocketServerOptions options = {});
  ~WebsocketServer();
  WebsocketServer(const WebsocketServer&) = delete;
  WebsocketServer& operator=(const WebsocketServer&) = delete;

  // Binds and starts accepting; returns the bound port (useful with port
  // 0). Errors: the address cannot be parsed or bound.
  absl::StatusOr<uint16_t> Listen(const std::string& host, uint16_t port);

  // Stops accepting and closes every socket (each closes after its queued
  // frames are written). io_context::run returns once they are gone.
  void Stop();

  size_t open_sockets() const;

 private:
  class Session;
  void Accept();

  boost::asio::io_context& io_;
  InstServer& server_;
  WebsocketServerOptions options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  // The pause before accepting again after a failed accept (EMFILE, ...);
  // a member so that Stop() and destruction cancel it.
  boost::asio::steady_timer accept_pause_;
  // Live sessions (owned by their pending operations).
  std::shared_ptr<std::map<uint64_t, std::weak_ptr<Session>>> sessions_;
  uint64_t next_session_ = 1;
};

}  // namespace auxsync::server

#endif  // AUXSYNC_SERVER_WEBSOCKET_SERVER_H_
