#include "auxsync/server/websocket_server.h"

#include <chrono>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/websocket.hpp"

namespace auxsync::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

// One websocket. Owned by its pending asynchronous operations (a read is
// always pending while it is open). It is the InstServer's Connection from
// the accepted handshake until Disconnect.
class WebsocketServer::Session
    : public Connection,
      public std::enable_shared_from_this<WebsocketServer::Session> {
 public:
  Session(tcp::socket socket, InstServer& server,
          const WebsocketServerOptions& options, uint64_t number,
          std::shared_ptr<std::map<uint64_t, std::weak_ptr<Session>>> registry)
      : ws_(std::move(socket)),
        server_(server),
        options_(options),
        number_(number),
        registry_(std::move(registry)) {}

  void Start() {
    beast::error_code ec;
    tcp::endpoint peer = ws_.next_layer().socket().remote_endpoint(ec);
    if (!ec) {
      address_ = peer.address().to_string();
      peer_ = absl::StrCat(address_, ":", peer.port());
    }
    ws_.next_layer().expires_after(std::chrono::seconds(30));
    http::async_read(ws_.next_layer(), buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       self->OnRequest(ec);
                     });
  }

  void Send(std::string frame) override {
    if (closing_) return;
    // A client that does not read: stop queueing and close rather than
    // grow without bound.
    if (queued_bytes_ + frame.size() > options_.max_queued_bytes) {
      // (The queue is freed by the failing write, which may still be
      // reading its front.)
      Log("send queue full: closing");
      closing_ = true;
      beast::error_code ignored;
      ws_.next_layer().socket().close(ignored);
      return;
    }
    queued_bytes_ += frame.size();
    queue_.push_back(std::move(frame));
    if (queue_.size() - head_ == 1 && !writing_) Write();
  }

  void Close() override {
    if (closing_) return;
    closing_ = true;
    if (!writing_) DoClose();
  }

 private:
  void Log(std::string_view text) {
    if (options_.log)
      options_.log(absl::StrCat("socket ", number_, " ", std::string(text)));
  }

  void OnRequest(beast::error_code ec) {
    if (ec) return;  // not even a request: drop silently
    if (!websocket::is_upgrade(request_)) {
      // A plain HTTP request: tell what this port is.
      auto res = std::make_shared<http::response<http::string_body>>(
          http::status::upgrade_required, request_.version());
      res->set(http::field::content_type, "text/plain");
      res->body() = "auxsync inst server: connect a websocket to /websocket\n";
      res->prepare_payload();
      http::async_write(
          ws_.next_layer(), *res,
          [self = shared_from_this(), res](beast::error_code, size_t) {
            beast::error_code ignored;
            self->ws_.next_layer().socket().shutdown(tcp::socket::shutdown_both,
                                                     ignored);
          });
      return;
    }
    ws_.next_layer().expires_never();
    // CasualOS clients send no pings and may stay silent for long (2.6):
    // the server pings an idle socket and closes it only when the pong
    // does not come.
    websocket::stream_base::timeout timeout =
        websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeout.keep_alive_pings = true;
    ws_.set_option(timeout);
    ws_.read_message_max(options_.max_frame_bytes);
    // Echo the first offered subprotocol (2.1: the Node server does).
    std::string protocol;
    if (auto it = request_.find(http::field::sec_websocket_protocol);
        it != request_.end()) {
      std::string_view offered(it->value().data(), it->value().size());
      protocol = std::string(offered.substr(0, offered.find(',')));
      while (!protocol.empty() && protocol.back() == ' ') protocol.pop_back();
    }
    ws_.set_option(websocket::stream_base::decorator(
        [protocol](websocket::response_type& res) {
          res.set(http::field::server, "auxsync");
          if (!protocol.empty()) {
            res.set(http::field::sec_websocket_protocol, protocol);
          }
        }));
    path_ = std::string(request_.target().data(), request_.target().size());
    ws_.async_accept(request_,
                     [self = shared_from_this()](beast::error_code ec) {
                       self->OnAccept(ec);
                     });
  }

  void OnAccept(beast::error_code ec) {
    if (ec) {
      Log(absl::StrCat("handshake failed: ", ec.message()));
      return;
    }
    // The upgrade request and its read buffer are not needed any more; an
    // idle socket should hold as little as possible.
    request_ = {};
    buffer_ = beast::flat_buffer();
    id_ = server_.Connect(this, address_);
    connected_ = true;
    (*registry_)[number_] = weak_from_this();
    Log(absl::StrCat("open from ", peer_, " path ", path_));
    Read();
  }

  void Read() {
    ws_.async_read(read_buffer_,
                   [self = shared_from_this()](beast::error_code ec, size_t) {
                     self->OnRead(ec);
                   });
  }

  void OnRead(beast::error_code ec) {
    if (ec) {
      Finish(ec == websocket::error::closed ? "closed by peer" : ec.message());
      return;
    }
    if (ws_.got_text()) {
      std::string_view text(
          static_cast<const char*>(read_buffer_.cdata().data()),
          read_buffer_.size());
      server_.HandleFrame(id_, text);
    }
    read_buffer_.consume(read_buffer_.size());
    Read();
  }

  void Write() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(queue_[head_]),
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      self->OnWrite(ec);
                    });
  }

  void OnWrite(beast::error_code ec) {
    writing_ = false;
    if (ec) {
      queue_.clear();
      head_ = 0;
      queued_bytes_ = 0;
      return;  // the pending read fails too and finishes the session
    }
    queued_bytes_ -= queue_[head_].size();
    std::string().swap(queue_[head_]);
    if (++head_ == queue_.size()) {
      queue_.clear();
      head_ = 0;
    } else if (head_ >= 64 && head_ * 2 >= queue_.size()) {
      // A socket that never drains: drop the written entries now and then.
      queue_.erase(queue_.begin(),
                   queue_.begin() + static_cast<ptrdiff_t>(head_));
      head_ = 0;
    }
    if (head_ < queue_.size()) {
      Write();
    } else if (closing_) {
      DoClose();
    }
  }

  void DoClose() {
    ws_.async_close(websocket::close_code::normal,
                    [self = shared_from_this()](beast::error_code) {});
  }

  // The socket is gone: the InstServer forgets it (7.10).
  void Finish(std::string_view why) {
    if (!connected_) return;
    connected_ = false;
    closing_ = true;
    server_.Disconnect(id_);
    registry_->erase(number_);
    Log(absl::StrCat("closed (", std::string(why), ")"));
  }

  websocket::stream<beast::tcp_stream> ws_;
  InstServer& server_;
  const WebsocketServerOptions& options_;
  uint64_t number_;
  std::shared_ptr<std::map<uint64_t, std::weak_ptr<Session>>> registry_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  beast::flat_buffer read_buffer_;
  // Frames waiting to be written, from queue_[head_] on. A vector (not a
  // deque, which allocates on construction) keeps idle sockets small.
  std::vector<std::string> queue_;
  size_t head_ = 0;
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool closing_ = false;
  bool connected_ = false;
  InstServer::SocketId id_ = 0;
  std::string peer_;
  std::string address_;
  std::string path_;
};

WebsocketServer::WebsocketServer(asio::io_context& io, InstServer& server,
                                 WebsocketServerOptions options)
    : io_(io),
      server_(server),
      options_(std::move(options)),
      acceptor_(io),
      accept_pause_(io),
      sessions_(
          std::make_shared<std::map<uint64_t, std::weak_ptr<Session>>>()) {}

WebsocketServer::~WebsocketServer() {
  // A pending pause handler must not run on a destroyed server.
  accept_pause_.cancel();
}

absl::StatusOr<uint16_t> WebsocketServer::Listen(const std::string& host,
                                                 uint16_t port) {
  beast::error_code ec;
  asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec)
    return absl::InvalidArgumentError(absl::StrCat(host, ": ", ec.message()));
  tcp::endpoint endpoint(address, port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat(host, ":", port, ": ", ec.message()));
  }
  Accept();
  return acceptor_.local_endpoint().port();
}

void WebsocketServer::Accept() {
  acceptor_.async_accept(io_, [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
      return;  // closed by Stop()
    }
    if (ec) {
      // Out of descriptors or memory, or the peer reset before the accept:
      // keep listening, after a pause so that a full descriptor table does
      // not turn this into a busy loop.
      accept_pause_.expires_after(std::chrono::milliseconds(50));
      accept_pause_.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec && acceptor_.is_open()) Accept();
      });
      return;
    }
    // Frames are small and latency matters: no Nagle delay (Node's `ws`
    // sets the same), or a frame waits for the previous one's ACK.
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto session = std::make_shared<Session>(
        std::move(socket), server_, options_, next_session_++, sessions_);
    session->Start();
    Accept();
  });
}

void WebsocketServer::Stop() {
  beast::error_code ignored;
  acceptor_.close(ignored);
  accept_pause_.cancel();
  // Copy: closing may finish sessions, which erase themselves.
  std::vector<std::shared_ptr<Session>> open;
  for (auto& [_, weak] : *sessions_) {
    if (auto s = weak.lock()) open.push_back(std::move(s));
  }
  for (auto& s : open) s->Close();
}

size_t WebsocketServer::open_sockets() const { return sessions_->size(); }

}  // namespace auxsync::server
