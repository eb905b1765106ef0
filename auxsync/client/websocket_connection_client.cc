#include "auxsync/client/websocket_connection_client.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <deque>
#include <type_traits>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "auxsync/bots/json.h"
#include "auxsync/inst/message_codec.h"
#include "boost/asio/ip/address.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/ssl.hpp"
#include "boost/beast/websocket.hpp"
#include "boost/beast/websocket/ssl.hpp"

namespace auxsync::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

// One connection attempt and, once open, one websocket. Owned by its
// pending asynchronous operations; the client only keeps a handle. After
// Close() it reports nothing more and finishes on its own.
class WebsocketConnectionClient::Socket {
 public:
  struct Handlers {
    std::function<void()> open;
    std::function<void(std::string text)> text;
    // `failed` is false for a close the server initiated cleanly.
    std::function<void(std::string reason, bool failed)> closed;
  };
  virtual ~Socket() = default;
  virtual void Start() = 0;
  // Queues one text frame; only valid while open.
  virtual void Write(std::string frame) = 0;
  // Detaches the handlers and closes: with a close handshake after the
  // queued frames when open, at once otherwise.
  virtual void Close() = 0;
};

namespace {

template <bool kTls>
using WsStream =
    std::conditional_t<kTls,
                       websocket::stream<beast::ssl_stream<beast::tcp_stream>>,
                       websocket::stream<beast::tcp_stream>>;

template <bool kTls>
class SocketImpl final : public WebsocketConnectionClient::Socket,
                         public std::enable_shared_from_this<SocketImpl<kTls>> {
 public:
  SocketImpl(asio::io_context& io, const internal::WebsocketUrl& url,
             const WebsocketConnectionOptions& options, ssl::context* tls,
             Handlers handlers)
      : resolver_(io),
        ws_(MakeStream(io, tls)),
        url_(url),
        connect_timeout_(options.connect_timeout),
        ping_timeout_(options.ping_timeout),
        max_frame_bytes_(options.limits.max_frame_bytes),
        handlers_(std::move(handlers)) {}

  void Start() override {
    resolver_.async_resolve(
        url_.host, std::to_string(url_.port),
        [self = this->shared_from_this()](beast::error_code ec,
                                          tcp::resolver::results_type results) {
          self->OnResolve(ec, std::move(results));
        });
  }

  void Write(std::string frame) override {
    if (!open_ || closing_ || done_) return;
    queue_.push_back(std::move(frame));
    if (!writing_) DoWrite();
  }

  void Close() override {
    handlers_ = Handlers();
    if (closing_ || done_) return;
    closing_ = true;
    if (!open_) {
      Abort();
    } else if (!writing_) {
      DoClose();
    }
  }

 private:
  static WsStream<kTls> MakeStream(asio::io_context& io, ssl::context* tls) {
    if constexpr (kTls) {
      return WsStream<kTls>(io, *tls);
    } else {
      (void)tls;
      return WsStream<kTls>(io);
    }
  }

  void Abort() {
    resolver_.cancel();
    beast::get_lowest_layer(ws_).close();
  }

  // Ends the socket with a failure at `step` (reported once).
  void Fail(std::string_view step, beast::error_code ec,
            std::string detail = "") {
    if (done_) return;
    done_ = true;
    std::string reason =
        absl::StrCat(std::string(step), " failed: ", ec.message());
    if (!detail.empty()) absl::StrAppend(&reason, " (", detail, ")");
    Abort();
    Finish(std::move(reason), true);
  }

  void Finish(std::string reason, bool failed) {
    done_ = true;
    auto closed = std::move(handlers_.closed);
    handlers_ = Handlers();
    if (closed) closed(std::move(reason), failed);
  }

  void OnResolve(beast::error_code ec, tcp::resolver::results_type results) {
    if (closing_) return;
    if (ec) return Fail(absl::StrCat("resolving ", url_.host), ec);
    beast::get_lowest_layer(ws_).expires_after(connect_timeout_);
    beast::get_lowest_layer(ws_).async_connect(
        results, [self = this->shared_from_this()](beast::error_code ec,
                                                   const tcp::endpoint&) {
          self->OnConnect(ec);
        });
  }

  void OnConnect(beast::error_code ec) {
    if (closing_) return;
    if (ec) return Fail(absl::StrCat("connecting to ", url_.host_header), ec);
    // Frames are small and latency matters: no Nagle delay.
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true),
                                                     ignored);
    if constexpr (kTls) {
      SSL* native = ws_.next_layer().native_handle();
      beast::error_code ip_ec;
      asio::ip::make_address(url_.host, ip_ec);
      bool is_ip = !ip_ec;
      // SNI names hosts only; an IP literal is checked as an IP.
      if (!is_ip) SSL_set_tlsext_host_name(native, url_.host.c_str());
      X509_VERIFY_PARAM* param = SSL_get0_param(native);
      if (is_ip) {
        X509_VERIFY_PARAM_set1_ip_asc(param, url_.host.c_str());
      } else {
        X509_VERIFY_PARAM_set_hostflags(param,
                                        X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        X509_VERIFY_PARAM_set1_host(param, url_.host.c_str(), 0);
      }
      ws_.next_layer().async_handshake(
          ssl::stream_base::client,
          [self = this->shared_from_this()](beast::error_code ec) {
            self->OnTlsHandshake(ec);
          });
    } else {
      Handshake();
    }
  }

  void OnTlsHandshake(beast::error_code ec) {
    if (closing_) return;
    if (ec) {
      std::string detail;
      if constexpr (kTls) {
        long verify = SSL_get_verify_result(ws_.next_layer().native_handle());
        if (verify != X509_V_OK) {
          detail = absl::StrCat("certificate of ", url_.host, ": ",
                                X509_verify_cert_error_string(verify));
        }
      }
      return Fail("TLS handshake", ec, std::move(detail));
    }
    Handshake();
  }

  void Handshake() {
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout timeout;
    timeout.handshake_timeout = connect_timeout_;
    if (ping_timeout_.has_value()) {
      timeout.idle_timeout = *ping_timeout_;
      timeout.keep_alive_pings = true;
    } else {
      timeout.idle_timeout = websocket::stream_base::none();
      timeout.keep_alive_pings = false;
    }
    ws_.set_option(timeout);
    ws_.set_option(
        websocket::stream_base::decorator([](websocket::request_type& req) {
          req.set(beast::http::field::user_agent, "auxsync");
        }));
    ws_.read_message_max(max_frame_bytes_);
    ws_.async_handshake(url_.host_header, url_.target,
                        [self = this->shared_from_this()](
                            beast::error_code ec) { self->OnHandshake(ec); });
  }

  void OnHandshake(beast::error_code ec) {
    if (closing_) return;
    if (ec) return Fail("websocket handshake", ec);
    open_ = true;
    Read();
    // Copies: a handler may Close() this socket, which drops handlers_.
    if (auto open = handlers_.open) open();
  }

  void Read() {
    ws_.async_read(buffer_,
                   [self = this->shared_from_this()](
                       beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec) {
      if (closing_ || done_) return;
      if (ec == websocket::error::closed) {
        websocket::close_reason reason = ws_.reason();
        done_ = true;
        beast::get_lowest_layer(ws_).close();
        return Finish(
            absl::StrCat(
                "closed by the server (code ", reason.code,
                reason.reason.empty() ? "" : ", ",
                std::string(reason.reason.data(), reason.reason.size()), ")"),
            false);
      }
      return Fail("reading", ec);
    }
    bool text = ws_.got_text();
    std::string frame = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    if (closing_ || done_) return;
    Read();
    // Binary frames are not part of the protocol; ignore them.
    if (text && handlers_.text) {
      // The handler may Close() this socket; the pending read then ends.
      auto keep = this->shared_from_this();
      auto handler = handlers_.text;
      handler(std::move(frame));
    }
  }

  void DoWrite() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(queue_.front()),
                    [self = this->shared_from_this()](
                        beast::error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(beast::error_code ec) {
    writing_ = false;
    queue_.pop_front();
    if (ec) {
      if (!closing_) Fail("writing", ec);
      return;
    }
    if (!queue_.empty()) {
      DoWrite();
    } else if (closing_ && !done_) {
      DoClose();
    }
  }

  void DoClose() {
    done_ = true;
    ws_.async_close(websocket::close_code::normal,
                    [self = this->shared_from_this()](beast::error_code) {
                      beast::get_lowest_layer(self->ws_).close();
                    });
  }

  tcp::resolver resolver_;
  WsStream<kTls> ws_;
  internal::WebsocketUrl url_;
  std::chrono::milliseconds connect_timeout_;
  std::optional<std::chrono::milliseconds> ping_timeout_;
  size_t max_frame_bytes_;
  Handlers handlers_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  bool open_ = false;
  bool writing_ = false;
  bool closing_ = false;  // Close() was called
  bool done_ = false;     // finished or closing; reports nothing more
};

bool IsTruthyObject(const bots::Value& value) { return value.is_object(); }

}  // namespace

absl::StatusOr<std::unique_ptr<WebsocketConnectionClient>>
WebsocketConnectionClient::Create(asio::io_context& io, std::string_view url,
                                  partitions::PartitionAuthSource& auth,
                                  WebsocketConnectionOptions options) {
  absl::StatusOr<internal::WebsocketUrl> parsed =
      internal::ParseWebsocketUrl(url);
  if (!parsed.ok()) return parsed.status();
  if (parsed->tls && options.tls_context == nullptr) {
    auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
    beast::error_code ec;
    context->set_options(ssl::context::default_workarounds |
                             ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                             ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                         ec);
    if (!ec) context->set_default_verify_paths(ec);
    if (!ec) context->set_verify_mode(ssl::verify_peer, ec);
    if (ec) {
      return absl::InternalError(
          absl::StrCat("cannot set up TLS: ", ec.message()));
    }
    options.tls_context = std::move(context);
  }
  return std::unique_ptr<WebsocketConnectionClient>(
      new WebsocketConnectionClient(io, *std::move(parsed), auth,
                                    std::move(options)));
}

WebsocketConnectionClient::WebsocketConnectionClient(
    asio::io_context& io, internal::WebsocketUrl url,
    partitions::PartitionAuthSource& auth, WebsocketConnectionOptions options)
    : io_(io),
      url_(std::move(url)),
      auth_(auth),
      options_(std::move(options)),
      origin_(options_.origin.empty() ? url_.origin : options_.origin),
      state_(ClientConnectionState{}),
      reconnect_timer_(io) {
  // 3.7: the UI's permission requests and answers for this origin go to
  // the server (dropped, as any send, while there is no socket).
  permission_requests_ =
      auth_.OnAuthPermissionRequest([this](const bots::Value& request) {
        const bots::Value& request_origin = request["origin"];
        if (!request_origin.is_string() ||
            request_origin.as_string() != origin_)
          return;
        bots::Value object = bots::Value::NewObject();
        object.as_object().Set("type", "permission/request/missing");
        object.as_object().Set("reason", request["reason"]);
        absl::StatusOr<inst::Message> message =
            inst::DecodeMessage(object, inst::Direction::kClientToServer);
        if (!message.ok()) {
          Log(absl::StrCat("permission request not sent: ",
                           message.status().message()));
          return;
        }
        if (absl::Status s = Send(*message); !s.ok()) Log(s.ToString());
      });
  permission_results_ =
      auth_.OnAuthPermissionResult([this](const bots::Value& result) {
        const bots::Value& result_origin = result["origin"];
        if (!result_origin.is_string() ||
            result_origin.as_string() != origin_ || !result.is_object())
          return;
        // {...result, type: "permission/request/missing/response"}
        bots::Value object(result.as_object().ShallowCopy());
        object.as_object().Set("type", "permission/request/missing/response");
        absl::StatusOr<inst::Message> message =
            inst::DecodeMessage(object, inst::Direction::kClientToServer);
        if (!message.ok()) {
          Log(absl::StrCat("permission result not sent: ",
                           message.status().message()));
          return;
        }
        if (absl::Status s = Send(*message); !s.ok()) Log(s.ToString());
      });
}

WebsocketConnectionClient::~WebsocketConnectionClient() {
  alive_.reset();
  CloseSocket();
  reconnect_timer_.cancel();
}

rx::Subscription WebsocketConnectionClient::OnConnectionState(
    ConnectionStateCallback callback) {
  return state_.Subscribe(std::move(callback));
}

rx::Subscription WebsocketConnectionClient::OnMessage(
    MessageCallback callback) {
  return messages_.Subscribe(std::move(callback));
}

rx::Subscription WebsocketConnectionClient::OnError(
    ConnectionErrorCallback callback) {
  return errors_.Subscribe(std::move(callback));
}

const ClientConnectionState& WebsocketConnectionClient::state() const {
  return state_.value();
}

bots::Value WebsocketConnectionClient::indicator() const {
  return auth_.GetConnectionIndicatorForOrigin(origin_);
}

absl::Status WebsocketConnectionClient::Send(const inst::Message& message) {
  switch (phase_) {
    case Phase::kNone:
      return absl::OkStatus();  // dropped, as by a closed browser socket
    case Phase::kConnecting:
      return absl::FailedPreconditionError(
          absl::StrCat("cannot send ", std::string(inst::MessageType(message)),
                       ": the websocket is still connecting"));
    case Phase::kOpen:
      return SendNow(message);
  }
  return absl::OkStatus();
}

absl::Status WebsocketConnectionClient::SendNow(const inst::Message& message) {
  double id = next_frame_id_++;
  socket_->Write(inst::EncodeMessageFrame(message, id));
  return absl::OkStatus();
}

void WebsocketConnectionClient::Connect() {
  want_connected_ = true;
  if (forced_offline_ || phase_ != Phase::kNone) return;
  Open();
}

void WebsocketConnectionClient::Disconnect() {
  want_connected_ = false;
  CloseSocket();
  SetState(ClientConnectionState{});
}

void WebsocketConnectionClient::set_forced_offline(bool offline) {
  if (offline == forced_offline_) return;
  forced_offline_ = offline;
  if (offline) {
    CloseSocket();
    SetState(ClientConnectionState{});
  } else {
    // aux-common's InstRecordsClient calls connect() when going online.
    Connect();
  }
}

void WebsocketConnectionClient::Log(std::string_view text) const {
  if (options_.log)
    options_.log(absl::StrCat(url_.url, ": ", std::string(text)));
}

void WebsocketConnectionClient::Open() {
  CloseSocket();
  uint64_t generation = ++generation_;
  Socket::Handlers handlers;
  handlers.open = [this, generation] { OnSocketOpen(generation); };
  handlers.text = [this, generation](std::string text) {
    OnSocketText(generation, std::move(text));
  };
  handlers.closed = [this, generation](std::string reason, bool failed) {
    OnSocketClosed(generation, std::move(reason), failed);
  };
  if (url_.tls) {
    socket_ = std::make_shared<SocketImpl<true>>(
        io_, url_, options_, options_.tls_context.get(), std::move(handlers));
  } else {
    socket_ = std::make_shared<SocketImpl<false>>(io_, url_, options_, nullptr,
                                                  std::move(handlers));
  }
  phase_ = Phase::kConnecting;
  Log("connecting");
  socket_->Start();
}

void WebsocketConnectionClient::CloseSocket() {
  // A pending reconnect belongs to the socket that is going away.
  reconnect_scheduled_ = false;
  reconnect_timer_.cancel();
  auth_responses_.Unsubscribe();
  login_pending_ = false;
  if (socket_ != nullptr) {
    std::shared_ptr<Socket> socket = std::move(socket_);
    socket->Close();
  }
  phase_ = Phase::kNone;
}

void WebsocketConnectionClient::ScheduleReconnect() {
  reconnect_scheduled_ = true;
  uint64_t generation = generation_;
  reconnect_timer_.expires_after(options_.reconnect_delay);
  reconnect_timer_.async_wait(
      [this, alive = std::weak_ptr<bool>(alive_),
       generation](const boost::system::error_code& ec) {
        if (alive.expired() || ec) return;
        if (!reconnect_scheduled_ || generation != generation_) return;
        reconnect_scheduled_ = false;
        if (ShouldBeConnected() && phase_ == Phase::kNone) Open();
      });
}

void WebsocketConnectionClient::SetState(ClientConnectionState state) {
  if (!state.connected && !state_.value().connected) return;
  state_.Next(std::move(state));
}

void WebsocketConnectionClient::ReportTransportError(std::string_view message) {
  last_transport_error_ = std::string(message);
  Log(message);
  errors_.Next(inst::MakeErrorInfo(kWebsocketErrorCode, message));
}

void WebsocketConnectionClient::OnSocketOpen(uint64_t generation) {
  if (generation != generation_ || phase_ != Phase::kConnecting) return;
  phase_ = Phase::kOpen;
  ++sockets_opened_;
  Log("open");
  StartLogin();
}

void WebsocketConnectionClient::StartLogin() {
  // Every successful response for this origin logs in again on this
  // socket (3.6 step 5), including the one a request below provokes.
  auth_responses_ = auth_.OnAuthResponseForOrigin(
      origin_, [this](const bots::Value& response) {
        const bots::Value& success = response["success"];
        if (success.is_bool() && success.as_bool()) {
          LoginWith(response["indicator"]);
        }
      });
  bots::Value current = indicator();
  if (IsTruthyObject(current)) {
    LoginWith(current);
  } else {
    auth_.SendAuthRequest(partitions::NeedIndicatorRequest(origin_));
  }
}

void WebsocketConnectionClient::LoginWith(const bots::Value& indicator) {
  if (phase_ != Phase::kOpen) return;
  inst::LoginMessage login;
  if (indicator.is_object()) {
    const bots::Value& token = indicator["connectionToken"];
    const bots::Value& id = indicator["connectionId"];
    if (token.is_string()) login.connection_token = token.as_string();
    if (id.is_string()) login.connection_id = id.as_string();
  }
  login_pending_ = true;
  login_indicator_ = indicator;
  Log(login.connection_token.has_value() ? "login with a connection token"
                                         : "login with a connection id");
  (void)SendNow(login);
}

void WebsocketConnectionClient::OnLoginResult(
    const inst::LoginResultMessage& result) {
  if (result.success) {
    Log("logged in");
    SetState(ClientConnectionState{true, result.info});
    return;
  }
  Log(absl::StrCat("login failed: ", result.error_code, " ",
                   result.error_message));
  // Ask for another indicator; its response logs in again (StartLogin).
  auth_.SendAuthRequest(partitions::InvalidIndicatorRequest(
      origin_, login_indicator_, bots::Value(result.error_code),
      bots::Value(result.error_message), result.reason));
}

void WebsocketConnectionClient::OnServerPermissionMessage(
    const inst::Message& message, std::string_view frame) {
  // 3.7: what other users ask for and answer reaches the UI through the
  // auth source's external streams. Upstream passes the received object on
  // as it is (key order included), so read it from the frame itself (which
  // already decoded, so it parses within the limits).
  bots::JsonParseOptions parse_options;
  parse_options.max_depth = options_.limits.max_depth + 1;
  absl::StatusOr<bots::Value> event = bots::ParseJson(frame, parse_options);
  if (!event.ok() || !event->is_array() || event->as_array().items.size() < 3)
    return;
  bots::Value object = event->as_array().items[2];
  if (!object.is_object()) return;
  if (std::holds_alternative<inst::RequestMissingPermissionMessage>(message)) {
    auth_.SendAuthExternalPermissionRequest(
        partitions::AuthExternalPermissionRequest(origin_, object["reason"],
                                                  object["user"]));
  } else {
    // {...response, type: "external_permission_result", origin}
    object.as_object().Set("type",
                           partitions::kAuthExternalPermissionResultType);
    object.as_object().Set("origin", origin_);
    auth_.SendAuthExternalPermissionResult(object);
  }
}

void WebsocketConnectionClient::OnSocketText(uint64_t generation,
                                             std::string text) {
  if (generation != generation_ || phase_ != Phase::kOpen) return;
  absl::StatusOr<inst::Event> event = inst::DecodeFrame(
      text, inst::Direction::kServerToClient, options_.limits);
  if (!event.ok()) {
    ++bad_frames_;
    std::string message =
        absl::StrCat("dropped a frame: ", event.status().message());
    Log(message);
    errors_.Next(inst::MakeErrorInfo(kBadFrameErrorCode, message));
    return;
  }
  std::weak_ptr<bool> alive = alive_;
  if (auto* error = std::get_if<inst::ErrorEvent>(&*event)) {
    errors_.Next(error->info);
    return;
  }
  auto* message_event = std::get_if<inst::MessageEvent>(&*event);
  if (message_event == nullptr) {
    Log("ignored an upload/download event (not supported)");
    return;
  }
  const inst::Message& message = message_event->message;
  if (std::holds_alternative<inst::RequestMissingPermissionMessage>(message) ||
      std::holds_alternative<inst::RequestMissingPermissionResponseMessage>(
          message)) {
    OnServerPermissionMessage(message, text);
    if (alive.expired() || generation != generation_) return;
  }
  messages_.Next(message);
  if (alive.expired() || generation != generation_) return;
  if (const auto* login = std::get_if<inst::LoginResultMessage>(&message);
      login != nullptr && login_pending_) {
    login_pending_ = false;
    OnLoginResult(*login);
  }
}

void WebsocketConnectionClient::OnSocketClosed(uint64_t generation,
                                               std::string reason,
                                               bool failed) {
  if (generation != generation_) return;
  socket_.reset();
  phase_ = Phase::kNone;
  auth_responses_.Unsubscribe();
  login_pending_ = false;
  std::weak_ptr<bool> alive = alive_;
  if (failed) {
    ReportTransportError(reason);
  } else {
    Log(reason);
  }
  if (alive.expired() || generation != generation_) return;
  SetState(ClientConnectionState{});
  if (alive.expired() || generation != generation_) return;
  if (ShouldBeConnected()) ScheduleReconnect();
}

}  // namespace auxsync::client
