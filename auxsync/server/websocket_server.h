// The websocket transport of `auxsync serve`: accepts upgrades on any path
// (CasualOS clients use /websocket, 2.1), echoes the first offered
// subprotocol (casualos.records), hands every text message to the
// InstServer and writes its frames back. Binary messages are ignored;
// messages above the size limit close the socket (websocket close 1009),
// invalid UTF-8 in a text message too (1007), protocol violations with 1002.
//
// The HTTP upgrade is Boost.Beast's; after it a socket speaks RFC 6455
// itself (internal/websocket_frame.h) on the bare asio socket, so that an
// idle socket costs little memory: it waits for readability without a
// buffer (reads go to one buffer shared by all sockets), and its send queue
// exists only while frames are queued.
//
// Threading: everything runs on the one thread that runs the io_context
// given to the constructor, so the InstServer needs no locking; a socket's
// frames are handled one by one in arrival order, and each handler finishes
// its store writes before the next frame (of any socket) is handled.

#ifndef AUXSYNC_SERVER_WEBSOCKET_SERVER_H_
#define AUXSYNC_SERVER_WEBSOCKET_SERVER_H_

#include <chrono>
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
  // A socket that sent nothing for half of this gets a ping; one that sent
  // nothing (not even the pong) for all of it is closed. CasualOS clients
  // send no pings of their own and may stay silent for long (2.6). Also
  // bounds the upgrade and the closing handshake.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(300)};
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
  class Handshake;
  class Session;
  struct Hub;
  void Accept();
  // Pings idle sockets and closes the ones past their deadline, then
  // schedules itself again.
  void Sweep();

  boost::asio::io_context& io_;
  // What the sockets share (options, the read buffer, the list of open
  // sockets); sockets keep it alive, since they may outlive this object
  // until the io_context destroys their handlers.
  std::shared_ptr<Hub> hub_;
  boost::asio::ip::tcp::acceptor acceptor_;
  // The pause before accepting again after a failed accept (EMFILE, ...);
  // a member so that Stop() and destruction cancel it.
  boost::asio::steady_timer accept_pause_;
  boost::asio::steady_timer sweep_;
};

}  // namespace auxsync::server

#endif  // AUXSYNC_SERVER_WEBSOCKET_SERVER_H_
