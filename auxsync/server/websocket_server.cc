#include "auxsync/server/websocket_server.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "auxsync/server/internal/websocket_frame.h"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/websocket.hpp"
#include "boost/smart_ptr/intrusive_ptr.hpp"

namespace auxsync::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using internal::WsOpcode;

namespace {

// A concrete executor type: no type-erased executor copies per operation.
using Socket = asio::basic_stream_socket<tcp, asio::io_context::executor_type>;

// The size of the read buffer all sockets share.
constexpr size_t kReadBufferBytes = 64 * 1024;
// At most this many frames go into one gather write (two buffers each;
// asio passes up to 64 to one sendmsg).
constexpr size_t kMaxFramesPerWrite = 32;
// Full reads in a row before a socket lets the others run.
constexpr int kMaxReadsInARow = 4;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct WebsocketServer::Hub {
  Hub(InstServer& s, WebsocketServerOptions o)
      : server(s), options(std::move(o)), read_buffer(kReadBufferBytes) {}
  InstServer& server;
  asio::io_context* io = nullptr;
  const WebsocketServerOptions options;
  // Every socket reads into this, one at a time (one thread): an idle
  // socket holds no buffer.
  std::vector<char> read_buffer;
  // The sessions whose TCP connection is open: a doubly linked list
  // through them, so that keeping track allocates nothing.
  Session* first = nullptr;
  // Those of them still registered with the InstServer (open_sockets()).
  size_t open = 0;
  uint64_t next_number = 1;
  const int64_t epoch_ms = NowMs();

  // Milliseconds since the hub was made; 32 bits (wraps after 49 days:
  // compare differences only) keep the sessions small.
  uint32_t Now() const { return static_cast<uint32_t>(NowMs() - epoch_ms); }

  void Log(uint64_t number, std::string_view text) const {
    if (options.log)
      options.log(absl::StrCat("socket ", number, " ", std::string(text)));
  }
};

// One websocket after the upgrade. Owned (intrusive count) by its pending
// asynchronous operations (a wait for readability is pending until the socket
// is closed). It is the InstServer's Connection until Finish.
class WebsocketServer::Session : public Connection {
 public:
  // Sessions are many: an intrusive count instead of a shared_ptr's
  // control block and weak self-pointer.
  using Ptr = boost::intrusive_ptr<Session>;
  friend void intrusive_ptr_add_ref(Session* s) { ++s->refs_; }
  friend void intrusive_ptr_release(Session* s) {
    if (--s->refs_ == 0) std::default_delete<Session>()(s);
  }

  Session(Socket socket, std::shared_ptr<Hub> hub, uint64_t number)
      : socket_(std::move(socket)),
        hub_(std::move(hub)),
        number_(number),
        last_input_(hub_->Now()) {}

  ~Session() override { Unlink(); }

  // Registers with the InstServer and starts reading; `early` holds bytes
  // the client sent right after the upgrade request.
  void Start(const std::string& address, std::string early) {
    boost::system::error_code ignored;
    socket_.non_blocking(true, ignored);
    id_ = hub_->server.Connect(this, address);
    connected_ = true;
    next_ = hub_->first;
    if (next_ != nullptr) next_->prev_ = this;
    hub_->first = this;
    linked_ = true;
    ++hub_->open;  // until Finish
    if (!early.empty() && !Consume(early.data(), early.size())) {
      return;
    }
    WaitReadable();
  }

  void Send(std::string frame) override {
    if (closing_) return;
    Queue(WsOpcode::kText, std::move(frame));
  }

  void SendShared(std::shared_ptr<const std::string> frame) override {
    if (closing_) return;
    Queue(WsOpcode::kText, std::string(), std::move(frame));
  }

  void Close() override { StartClose(internal::kWsCloseNormal); }

  // The periodic check (WebsocketServer::Sweep): pings a silent socket,
  // closes one past its deadline.
  void Check(uint32_t now) {
    const int64_t timeout = hub_->options.idle_timeout.count();
    // (Unsigned differences: right across the wrap of the 32-bit clock.)
    if (close_queued_) {
      if (uint32_t(now - close_started_) >= timeout / 10) {
        Abort("closing handshake timed out");
      }
      return;
    }
    if (uint32_t(now - last_input_) >= timeout) {
      Abort("idle timeout");
    } else if (uint32_t(now - last_input_) >= timeout / 2 && !pinged_) {
      pinged_ = true;
      Queue(WsOpcode::kPing, std::string());
    }
  }

  Session* next() const { return next_; }

  // What the frame reader hands on (Consume).
  void OnWsMessage(bool text, std::string_view payload) {
    // After its close frame the server takes no more messages (the client
    // may have sent them before it saw the close).
    if (!text || close_queued_) return;
    hub_->server.HandleFrame(id_, payload);
  }
  void OnWsPing(std::string_view payload) {
    if (close_queued_) return;
    Queue(WsOpcode::kPong, std::string(payload));
  }

 private:
  // The send queue and the write in flight; exists only while frames are
  // queued, so an idle socket does not pay for it.
  struct Output {
    struct Frame {
      WsOpcode opcode;
      std::string payload;
      std::shared_ptr<const std::string> shared;  // instead of payload
      const std::string& bytes() const { return shared ? *shared : payload; }
    };
    std::deque<Frame> frames;
    size_t queued_bytes = 0;
    size_t in_flight = 0;  // frames.front()... being written
    std::array<std::array<char, internal::kWsMaxServerHeader>,
               kMaxFramesPerWrite>
        headers;
    std::vector<asio::const_buffer> buffers;
  };

  void Unlink() {
    if (!linked_) return;
    linked_ = false;
    if (prev_ != nullptr) {
      prev_->next_ = next_;
    } else {
      hub_->first = next_;
    }
    if (next_ != nullptr) next_->prev_ = prev_;
    prev_ = next_ = nullptr;
  }

  // Queues `payload`, or the bytes of `shared` when given.
  void Queue(WsOpcode opcode, std::string payload,
             std::shared_ptr<const std::string> shared = nullptr) {
    if (close_queued_ || !socket_.is_open()) return;
    if (!out_) out_ = std::make_unique<Output>();
    const size_t size = shared ? shared->size() : payload.size();
    // A client that does not read: stop queueing and close rather than
    // grow without bound.
    if (out_->queued_bytes + size > hub_->options.max_queued_bytes) {
      Abort("send queue full");
      return;
    }
    out_->queued_bytes += size;
    out_->frames.push_back({opcode, std::move(payload), std::move(shared)});
    if (opcode == WsOpcode::kClose) {
      close_queued_ = true;
      close_started_ = hub_->Now();
    }
    if (!writing_) Write();
  }

  // All queued frames (up to kMaxFramesPerWrite) in one gather write.
  void Write() {
    Output& out = *out_;
    out.in_flight = std::min(out.frames.size(), kMaxFramesPerWrite);
    out.buffers.clear();
    for (size_t i = 0; i < out.in_flight; ++i) {
      const Output::Frame& frame = out.frames[i];
      size_t n = internal::EncodeWsFrameHeader(
          frame.opcode, frame.bytes().size(), out.headers[i].data());
      out.buffers.emplace_back(out.headers[i].data(), n);
      if (const std::string& bytes = frame.bytes(); !bytes.empty()) {
        out.buffers.emplace_back(bytes.data(), bytes.size());
      }
    }
    writing_ = true;
    asio::async_write(socket_, out.buffers,
                      [self = Ptr(this)](const boost::system::error_code& ec,
                                         size_t) { self->OnWrite(ec); });
  }

  void OnWrite(const boost::system::error_code& ec) {
    writing_ = false;
    if (ec) {
      out_.reset();
      Abort(ec.message());
      return;
    }
    Output& out = *out_;
    bool close_sent = false;
    for (size_t i = 0; i < out.in_flight; ++i) {
      close_sent |= out.frames.front().opcode == WsOpcode::kClose;
      out.queued_bytes -= out.frames.front().bytes().size();
      out.frames.pop_front();
    }
    out.in_flight = 0;
    if (!out.frames.empty()) {
      Write();
      return;
    }
    out_.reset();  // an idle socket keeps no queue
    if (close_sent) OnCloseSent();
  }

  // Our close frame is out. The InstServer forgets the socket now (as it
  // did when Beast aborted the pending read); the TCP connection ends once
  // the client answered (or right away after a protocol error or its own
  // close).
  void OnCloseSent() {
    Finish("closed");
    if (close_received_ || failed_) Teardown();
  }

  // RFC 6455 7.1.1: the server closes the TCP connection first; it stops
  // sending, then reads (and drops) until the client closes its side.
  void Teardown() {
    if (tearing_down_) return;
    tearing_down_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
  }

  // Starts the closing handshake with `code` after the queued frames.
  void StartClose(uint16_t code) {
    if (closing_) return;
    closing_ = true;
    Queue(WsOpcode::kClose, internal::WsClosePayload(code));
  }

  // Ends the socket at once (no closing handshake).
  void Abort(std::string_view why) {
    closing_ = true;
    close_queued_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);  // the pending wait fails: no more handlers
    Unlink();
    Finish(why);
  }

  // The socket is gone for the InstServer: it forgets it (7.10).
  void Finish(std::string_view why) {
    if (!connected_) return;
    connected_ = false;
    --hub_->open;
    closing_ = true;
    hub_->server.Disconnect(id_);
    hub_->Log(number_, absl::StrCat("closed (", std::string(why), ")"));
  }

  void WaitReadable() {
    socket_.async_wait(Socket::wait_read,
                       [self = Ptr(this)](const boost::system::error_code& ec) {
                         self->OnReadable(ec);
                       });
  }

  void OnReadable(const boost::system::error_code& ec) {
    if (ec) {
      if (ec != asio::error::operation_aborted) Abort(ec.message());
      return;
    }
    std::vector<char>& buffer = hub_->read_buffer;
    for (int reads = 0;; ++reads) {
      if (reads == kMaxReadsInARow) {
        // Still more to read: let the other sockets run first. (Epoll
        // reports edges only, so this socket must not wait for one.)
        asio::post(socket_.get_executor(),
                   [self = Ptr(this)] { self->OnReadable({}); });
        return;
      }
      boost::system::error_code read_ec;
      size_t n = socket_.read_some(asio::buffer(buffer), read_ec);
      if (read_ec == asio::error::would_block ||
          read_ec == asio::error::try_again) {
        break;
      }
      if (read_ec) {
        Abort(read_ec == asio::error::eof ? "closed by peer"
                                          : read_ec.message());
        return;
      }
      last_input_ = hub_->Now();
      pinged_ = false;
      if (!Consume(buffer.data(), n)) return;
      if (n < buffer.size()) break;  // drained: the next edge wakes us
    }
    if (socket_.is_open()) WaitReadable();
  }

  // Handles received bytes; false when the socket is gone.
  bool Consume(char* data, size_t size) {
    // After the client's close frame or a protocol error everything up to
    // the end of the connection is dropped.
    if (ignore_input_) return socket_.is_open();
    using Kind = internal::WsFrameReader::Result::Kind;
    // (A handler on the stack, so a session needs no vtable pointer for it.)
    struct Handler : internal::WsFrameHandler {
      explicit Handler(Session& s) : session(s) {}
      void OnWsMessage(bool text, std::string_view payload) override {
        session.OnWsMessage(text, payload);
      }
      void OnWsPing(std::string_view payload) override {
        session.OnWsPing(payload);
      }
      void OnWsPong() override {}
      Session& session;
    } handler(*this);
    internal::WsFrameReader::Result result =
        reader_.Feed(data, size, hub_->options.max_frame_bytes, handler);
    if (result.kind == Kind::kNeedMore) return socket_.is_open();
    ignore_input_ = true;
    uint16_t reply = result.code;
    if (result.kind == Kind::kClosed) {
      close_received_ = true;
      // Echo the client's code (1000 when it gave none).
      if (reply == 1005) reply = internal::kWsCloseNormal;
      Finish("closed by peer");
    } else {
      failed_ = true;
      Finish(absl::StrCat("protocol error, close code ", result.code));
    }
    if (!close_queued_) {
      closing_ = true;
      Queue(WsOpcode::kClose, internal::WsClosePayload(reply));
    } else if (!out_) {
      Teardown();  // ours is out already
    }
    return socket_.is_open();
  }

  Socket socket_;
  std::shared_ptr<Hub> hub_;
  Session* prev_ = nullptr;
  Session* next_ = nullptr;
  internal::WsFrameReader reader_;
  std::unique_ptr<Output> out_;
  InstServer::SocketId id_ = 0;
  uint64_t number_;
  // Hub::Now() of the last bytes received / of queueing our close frame.
  uint32_t last_input_;
  uint32_t close_started_ = 0;
  uint32_t refs_ = 0;
  bool linked_ : 1 = false;
  bool writing_ : 1 = false;
  bool connected_ : 1 = false;  // registered with the InstServer
  bool closing_ : 1 = false;    // no more frames from the InstServer
  bool close_queued_ : 1 = false;
  bool close_received_ : 1 = false;
  bool failed_ : 1 = false;  // the client broke the protocol
  bool tearing_down_ : 1 = false;
  bool ignore_input_ : 1 = false;  // see Consume
  bool pinged_ : 1 = false;
};

// The HTTP upgrade, done by Beast; then the socket becomes a Session and
// this object (with Beast's stream, the request and its buffer) is freed.
class WebsocketServer::Handshake
    : public std::enable_shared_from_this<WebsocketServer::Handshake> {
 public:
  Handshake(tcp::socket socket, std::shared_ptr<Hub> hub)
      : ws_(std::move(socket)),
        hub_(std::move(hub)),
        number_(hub_->next_number++) {}

  void Start() {
    beast::error_code ec;
    tcp::endpoint peer = ws_.next_layer().socket().remote_endpoint(ec);
    if (!ec) {
      address_ = peer.address().to_string();
      peer_ = absl::StrCat(address_, ":", peer.port());
    }
    ws_.next_layer().expires_after(hub_->options.idle_timeout / 10);
    http::async_read(ws_.next_layer(), buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       self->OnRequest(ec);
                     });
  }

 private:
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
      hub_->Log(number_, absl::StrCat("handshake failed: ", ec.message()));
      return;
    }
    // Take the bare socket out of Beast's stream, onto the concrete
    // executor type.
    ws_.next_layer().expires_never();
    tcp::socket beast_socket = ws_.next_layer().release_socket();
    beast::error_code socket_ec;
    tcp protocol = beast_socket.local_endpoint(socket_ec).protocol();
    if (socket_ec) return;  // already gone
    Socket::native_handle_type fd = beast_socket.release(socket_ec);
    if (socket_ec) return;
    Socket socket(hub_->io->get_executor());
    socket.assign(protocol, fd, socket_ec);
    if (socket_ec) {
      hub_->Log(number_,
                absl::StrCat("handshake failed: ", socket_ec.message()));
      return;
    }
    // What the client sent after its request (already read by Beast).
    std::string early = beast::buffers_to_string(buffer_.data());
    hub_->Log(number_, absl::StrCat("open from ", peer_, " path ", path_));
    Session::Ptr session(
        std::make_unique<Session>(std::move(socket), hub_, number_).release());
    session->Start(address_, std::move(early));
  }

  websocket::stream<beast::tcp_stream> ws_;
  std::shared_ptr<Hub> hub_;
  uint64_t number_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  std::string address_;
  std::string peer_;
  std::string path_;
};

WebsocketServer::WebsocketServer(asio::io_context& io, InstServer& server,
                                 WebsocketServerOptions options)
    : io_(io),
      hub_(std::make_shared<Hub>(server, std::move(options))),
      acceptor_(io),
      accept_pause_(io),
      sweep_(io) {
  hub_->io = &io;
}

WebsocketServer::~WebsocketServer() {
  // Pending timer handlers must not run on a destroyed server.
  accept_pause_.cancel();
  sweep_.cancel();
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
  Sweep();
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
    std::make_shared<Handshake>(std::move(socket), hub_)->Start();
    Accept();
  });
}

void WebsocketServer::Sweep() {
  // Runs while the server listens or sockets are still closing.
  if (!acceptor_.is_open() && hub_->first == nullptr) return;
  auto period = std::max<std::chrono::milliseconds>(
      hub_->options.idle_timeout / 20, std::chrono::milliseconds(10));
  // After Stop(), io_context::run should return soon after the last socket
  // is gone, not a whole period later.
  if (!acceptor_.is_open()) {
    period = std::min<std::chrono::milliseconds>(period,
                                                 std::chrono::milliseconds(50));
  }
  sweep_.expires_after(period);
  sweep_.async_wait([this](beast::error_code ec) {
    if (ec) return;
    // Copy: checks may close sockets, which unlink themselves.
    std::vector<Session::Ptr> open;

    for (Session* s = hub_->first; s != nullptr; s = s->next()) {
      open.emplace_back(s);
    }
    uint32_t now = hub_->Now();
    for (auto& s : open) s->Check(now);
    Sweep();
  });
}

void WebsocketServer::Stop() {
  beast::error_code ignored;
  acceptor_.close(ignored);
  accept_pause_.cancel();
  // Copy: closing may finish sessions, which unlink themselves.
  std::vector<Session::Ptr> open;
  for (Session* s = hub_->first; s != nullptr; s = s->next()) {
    open.emplace_back(s);
  }
  for (auto& s : open) s->Close();
  // Reschedule the sweep for the shutdown (or let it end now).
  sweep_.cancel();
  Sweep();
}

size_t WebsocketServer::open_sockets() const { return hub_->open; }

}  // namespace auxsync::server
