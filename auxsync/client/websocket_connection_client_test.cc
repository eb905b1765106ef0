#include "auxsync/client/websocket_connection_client.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "auxsync/bots/json.h"
#include "auxsync/client/internal/websocket_url.h"
#include "auxsync/inst/connection_token.h"
#include "auxsync/server/inst_server.h"
#include "auxsync/server/memory_store.h"
#include "auxsync/server/websocket_server.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/ssl.hpp"
#include "boost/beast/websocket.hpp"
#include "boost/beast/websocket/ssl.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace auxsync::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using bots::MakeObject;
using bots::Value;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

constexpr std::string_view kSecret = "c2VjcmV0c2VjcmV0";

// Runs `io` in small slices until `done` or `limit`.
bool RunUntil(asio::io_context& io, const std::function<bool()>& done,
              milliseconds limit = milliseconds(5000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.restart();
    io.run_for(milliseconds(2));
  }
  return true;
}

void RunFor(asio::io_context& io, milliseconds time) {
  RunUntil(
      io, [] { return false; }, time);
}

std::string StateText(const ClientConnectionState& s) {
  if (!s.connected) return "disconnected";
  if (!s.info.has_value()) return "connected";
  return absl::StrCat("connected ", s.info->connection_id, " user ",
                      s.info->user_id.value_or("null"));
}

// ---------------------------------------------------------------------------
// URL parsing.

TEST(WebsocketUrl, WsAndWssKeepTheirPath) {
  auto url = internal::ParseWebsocketUrl("ws://LocalHost:2999/websocket");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_FALSE(url->tls);
  EXPECT_EQ(url->host, "localhost");
  EXPECT_EQ(url->port, 2999);
  EXPECT_EQ(url->target, "/websocket");
  EXPECT_EQ(url->origin, "ws://localhost:2999");
  EXPECT_EQ(url->host_header, "localhost:2999");

  url = internal::ParseWebsocketUrl("wss://casualos.example");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->target, "/");
  EXPECT_EQ(url->origin, "wss://casualos.example");
  EXPECT_EQ(url->url, "wss://casualos.example/");
}

TEST(WebsocketUrl, HttpHostsMapToTheWebsocketEndpoint) {
  // 2.1: the path /websocket replaces the host URL's path.
  auto url = internal::ParseWebsocketUrl("https://casualos.example/some/path");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->url, "wss://casualos.example/websocket");
  url = internal::ParseWebsocketUrl("http://[::1]:3000");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->url, "ws://[::1]:3000/websocket");
  EXPECT_EQ(url->host_header, "[::1]:3000");
}

TEST(WebsocketUrl, RejectsWhatIsNotAWebsocketUrl) {
  EXPECT_FALSE(internal::ParseWebsocketUrl("ftp://x").ok());
  EXPECT_FALSE(internal::ParseWebsocketUrl("localhost:3000").ok());
  EXPECT_FALSE(internal::ParseWebsocketUrl("ws://:3000/").ok());
  EXPECT_FALSE(internal::ParseWebsocketUrl("ws://host:99999/").ok());
  EXPECT_FALSE(internal::ParseWebsocketUrl("ws://host:12a/").ok());
  EXPECT_FALSE(internal::ParseWebsocketUrl("ws://u@host/").ok());
  EXPECT_FALSE(internal::ParseWebsocketUrl("ws://host/#x").ok());
}

// ---------------------------------------------------------------------------
// Against the in-process auxsync server.

class WebsocketClientTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(0); }

  void StartServer(uint16_t port) {
    inst_server_ = std::make_unique<server::InstServer>(store_);
    ws_server_ = std::make_unique<server::WebsocketServer>(io_, *inst_server_);
    absl::StatusOr<uint16_t> bound = ws_server_->Listen("127.0.0.1", port);
    ASSERT_TRUE(bound.ok()) << bound.status();
    port_ = *bound;
  }

  void StopServer() {
    ws_server_->Stop();
    RunUntil(io_, [&] { return ws_server_->open_sockets() == 0; });
  }

  std::string Url() const {
    return absl::StrCat("ws://127.0.0.1:", port_, "/websocket");
  }
  std::string Origin() const { return absl::StrCat("ws://127.0.0.1:", port_); }

  // Makes the client and records its states and errors.
  void MakeClient(WebsocketConnectionOptions options = {}) {
    options.reconnect_delay = milliseconds(50);
    auto made = WebsocketConnectionClient::Create(io_, Url(), auth_, options);
    ASSERT_TRUE(made.ok()) << made.status();
    client_ = *std::move(made);
    state_sub_ =
        client_->OnConnectionState([&](const ClientConnectionState& s) {
          states_.push_back(StateText(s));
        });
    error_sub_ = client_->OnError([&](const inst::ErrorInfo& e) {
      errors_.push_back(std::string(e.error_code()) + " " +
                        std::string(e.error_message()));
    });
    message_sub_ = client_->OnMessage(
        [&](const inst::Message& m) { messages_.push_back(m); });
  }

  void SetIndicator(Value indicator) {
    auth_.SendAuthResponse(
        partitions::AuthResponseSuccess(Origin(), std::move(indicator)));
  }

  bool WaitConnected() {
    return RunUntil(io_, [&] { return client_->is_connected(); });
  }

  std::string Token(std::string_view connection_id,
                    std::string_view secret = kSecret) {
    auto token = inst::MakeConnectionToken(
        "user1", "sess1", secret, connection_id, std::nullopt, "inst1");
    EXPECT_TRUE(token.ok());
    return inst::FormatConnectionToken(*token);
  }

  asio::io_context io_;
  server::MemoryStore store_;
  std::unique_ptr<server::InstServer> inst_server_;
  std::unique_ptr<server::WebsocketServer> ws_server_;
  uint16_t port_ = 0;
  partitions::PartitionAuthSource auth_;
  std::unique_ptr<WebsocketConnectionClient> client_;
  std::vector<std::string> states_;
  std::vector<std::string> errors_;
  std::vector<inst::Message> messages_;
  rx::Subscription state_sub_, error_sub_, message_sub_;
};

TEST_F(WebsocketClientTest, AnonymousLoginReportsTheServersInfo) {
  SetIndicator(MakeObject({{"connectionId", "connA"}}));
  MakeClient();
  EXPECT_EQ(client_->origin(), Origin());
  EXPECT_FALSE(client_->is_connected());
  client_->Connect();
  ASSERT_TRUE(WaitConnected());
  EXPECT_THAT(states_, ::testing::ElementsAre("disconnected",
                                              "connected connA user null"));
  ASSERT_TRUE(client_->info().has_value());
  EXPECT_EQ(client_->info()->connection_id, "connA");
  EXPECT_FALSE(client_->info()->session_id.has_value());
  ASSERT_EQ(messages_.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<inst::LoginResultMessage>(messages_[0]));
  EXPECT_TRUE(errors_.empty());
}

TEST_F(WebsocketClientTest, TokenLoginCarriesTheSessionIdentity) {
  ASSERT_TRUE(
      store_
          .PutSession(server::Session{"user1", "sess1", std::string(kSecret),
                                      false, std::nullopt})
          .ok());
  SetIndicator(MakeObject({{"connectionToken", Token("connT")}}));
  MakeClient();
  client_->Connect();
  ASSERT_TRUE(WaitConnected());
  EXPECT_THAT(states_, ::testing::ElementsAre("disconnected",
                                              "connected connT user user1"));
  EXPECT_EQ(client_->info()->session_id, "sess1");
}

TEST_F(WebsocketClientTest, WatchBranchReceivesTheInitialUpdates) {
  inst::BranchNamespace ns{std::nullopt, "inst1", "main"};
  ASSERT_TRUE(store_.AppendUpdates(ns, {"AQHIAQAoAQ==", "AgE="}, 1000).ok());
  SetIndicator(MakeObject({{"connectionId", "connA"}}));
  MakeClient();
  client_->Connect();
  ASSERT_TRUE(WaitConnected());
  ASSERT_TRUE(
      client_->Send(inst::WatchBranchMessage{ns, std::nullopt, std::nullopt})
          .ok());
  const inst::AddUpdatesMessage* initial = nullptr;
  ASSERT_TRUE(RunUntil(io_, [&] {
    for (const inst::Message& m : messages_) {
      if (auto* a = std::get_if<inst::AddUpdatesMessage>(&m)) initial = a;
    }
    return initial != nullptr;
  }));
  EXPECT_EQ(initial->ns, ns);
  EXPECT_EQ(initial->initial, true);
  EXPECT_THAT(initial->updates, ::testing::ElementsAre("AQHIAQAoAQ==", "AgE="));
}

TEST_F(WebsocketClientTest, ReconnectsAfterTheServerClosesTheSocket) {
  SetIndicator(MakeObject({{"connectionId", "connA"}}));
  MakeClient();
  client_->Connect();
  ASSERT_TRUE(WaitConnected());
  uint16_t port = port_;
  StopServer();
  ASSERT_TRUE(RunUntil(io_, [&] { return !client_->is_connected(); }));
  // Attempts fail (and are retried) while nothing listens.
  RunFor(io_, milliseconds(200));
  EXPECT_FALSE(client_->is_connected());
  EXPECT_FALSE(errors_.empty());
  ws_server_.reset();
  StartServer(port);
  ASSERT_TRUE(WaitConnected());
  // Failed attempts while the server was down are no new states (8.1).
  EXPECT_THAT(states_, ::testing::ElementsAre(
                           "disconnected", "connected connA user null",
                           "disconnected", "connected connA user null"));
  EXPECT_EQ(client_->sockets_opened(), 2u);
}

TEST_F(WebsocketClientTest, ForcedOfflineStopsReconnectingAndOnlineReconnects) {
  SetIndicator(MakeObject({{"connectionId", "connA"}}));
  MakeClient();
  client_->Connect();
  ASSERT_TRUE(WaitConnected());
  client_->set_forced_offline(true);
  EXPECT_TRUE(client_->forced_offline());
  EXPECT_FALSE(client_->is_connected());
  RunFor(io_, milliseconds(250));  // five reconnect delays
  EXPECT_FALSE(client_->is_connected());
  EXPECT_EQ(ws_server_->open_sockets(), 0u);
  EXPECT_EQ(client_->sockets_opened(), 1u);
  client_->set_forced_offline(false);
  ASSERT_TRUE(WaitConnected());
  EXPECT_EQ(client_->sockets_opened(), 2u);
  EXPECT_THAT(states_, ::testing::ElementsAre(
                           "disconnected", "connected connA user null",
                           "disconnected", "connected connA user null"));
}

TEST_F(WebsocketClientTest, DisconnectStopsUntilConnect) {
  SetIndicator(MakeObject({{"connectionId", "connA"}}));
  MakeClient();
  client_->Connect();
  ASSERT_TRUE(WaitConnected());
  client_->Disconnect();
  EXPECT_FALSE(client_->is_connected());
  RunFor(io_, milliseconds(200));
  EXPECT_EQ(client_->sockets_opened(), 1u);
  EXPECT_EQ(ws_server_->open_sockets(), 0u);
  client_->Connect();
  ASSERT_TRUE(WaitConnected());
}

TEST_F(WebsocketClientTest, SendWhileConnectingFailsAndWhileClosedDrops) {
  SetIndicator(MakeObject({{"connectionId", "connA"}}));
  MakeClient();
  inst::ConnectionCountMessage count{std::nullopt, std::nullopt, std::nullopt,
                                     std::nullopt};
  EXPECT_TRUE(client_->Send(count).ok());  // disconnected: dropped
  client_->Connect();
  absl::Status connecting = client_->Send(count);
  EXPECT_EQ(connecting.code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(WaitConnected());
  EXPECT_TRUE(client_->Send(count).ok());
  ASSERT_TRUE(RunUntil(io_, [&] {
    for (const inst::Message& m : messages_) {
      if (auto* c = std::get_if<inst::ConnectionCountMessage>(&m)) {
        return c->count == 1;
      }
    }
    return false;
  }));
}

TEST_F(WebsocketClientTest, NeedIndicatorRequestThenLogin) {
  // No indicator: the client asks the auth source and waits.
  std::vector<std::string> requests;
  auto sub = auth_.OnAuthRequest([&](const Value& request) {
    requests.push_back(bots::ToJson(request));
    asio::post(io_, [&] {
      SetIndicator(MakeObject({{"connectionId", "fromUi"}}));
    });
  });
  MakeClient();
  client_->Connect();
  ASSERT_TRUE(WaitConnected());
  EXPECT_THAT(requests, ::testing::ElementsAre(absl::StrCat(
                            R"({"type":"request","origin":")", Origin(),
                            R"(","kind":"need_indicator"})")));
  EXPECT_EQ(client_->info()->connection_id, "fromUi");
  EXPECT_EQ(bots::ToJson(client_->indicator()), R"({"connectionId":"fromUi"})");
}

TEST_F(WebsocketClientTest, NoIndicatorWaitsWithoutLoggingIn) {
  MakeClient();
  client_->Connect();
  RunFor(io_, milliseconds(150));
  EXPECT_TRUE(client_->socket_open());
  EXPECT_FALSE(client_->is_connected());
  EXPECT_THAT(states_, ::testing::ElementsAre("disconnected"));
  // A later indicator logs in on the open socket.
  SetIndicator(MakeObject({{"connectionId", "late"}}));
  ASSERT_TRUE(WaitConnected());
  EXPECT_EQ(client_->sockets_opened(), 1u);
}

// A wrong token makes an invalid_indicator request; the next indicator logs
// in on the same socket.
TEST_F(WebsocketClientTest, WrongTokenProducesInvalidIndicatorRequest) {
  ASSERT_TRUE(
      store_
          .PutSession(server::Session{"user1", "sess1", std::string(kSecret),
                                      false, std::nullopt})
          .ok());
  std::string wrong = Token("connT", "b3RoZXJzZWNyZXQ=");
  SetIndicator(MakeObject({{"connectionToken", wrong}}));
  std::vector<Value> requests;
  auto sub = auth_.OnAuthRequest([&](const Value& request) {
    requests.push_back(request);
    asio::post(io_, [&] {
      SetIndicator(MakeObject({{"connectionId", "fallback"}}));
    });
  });
  MakeClient();
  client_->Connect();
  ASSERT_TRUE(WaitConnected());
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(
      bots::ToJson(requests[0]),
      absl::StrCat(
          R"({"type":"request","origin":")", Origin(),
          R"(","kind":"invalid_indicator","indicator":{"connectionToken":")",
          wrong,
          R"("},"errorCode":"invalid_token","errorMessage":"The connection token is invalid."})"));
  EXPECT_EQ(client_->info()->connection_id, "fallback");
  EXPECT_EQ(client_->sockets_opened(), 1u);  // same socket
  EXPECT_THAT(states_, ::testing::ElementsAre("disconnected",
                                              "connected fallback user null"));
}

TEST_F(WebsocketClientTest, ExpiredSessionProducesInvalidIndicatorRequest) {
  ASSERT_TRUE(
      store_
          .PutSession(server::Session{"user1", "sess1", std::string(kSecret),
                                      false, int64_t{1}})
          .ok());
  SetIndicator(MakeObject({{"connectionToken", Token("connT")}}));
  std::vector<Value> requests;
  auto sub = auth_.OnAuthRequest(
      [&](const Value& request) { requests.push_back(request); });
  MakeClient();
  client_->Connect();
  // No hang: the request arrives, and the client waits for an answer.
  ASSERT_TRUE(RunUntil(io_, [&] { return !requests.empty(); }));
  EXPECT_EQ(requests[0]["kind"].as_string(), "invalid_indicator");
  EXPECT_EQ(requests[0]["errorCode"].as_string(), "session_expired");
  EXPECT_FALSE(client_->is_connected());
  // A fresh session and token then log in on the same socket.
  ASSERT_TRUE(
      store_
          .PutSession(server::Session{"user1", "sess1", std::string(kSecret),
                                      false, std::nullopt})
          .ok());
  SetIndicator(MakeObject({{"connectionToken", Token("connT")}}));
  ASSERT_TRUE(WaitConnected());
  EXPECT_EQ(client_->info()->user_id, "user1");
  EXPECT_EQ(client_->sockets_opened(), 1u);
}

TEST_F(WebsocketClientTest, NewIndicatorWhileConnectedLogsInAgain) {
  SetIndicator(MakeObject({{"connectionId", "first"}}));
  MakeClient();
  client_->Connect();
  ASSERT_TRUE(WaitConnected());
  SetIndicator(MakeObject({{"connectionId", "second"}}));
  ASSERT_TRUE(RunUntil(
      io_, [&] { return client_->info()->connection_id == "second"; }));
  // Connected states are not de-duplicated; no disconnected in between.
  EXPECT_THAT(states_, ::testing::ElementsAre("disconnected",
                                              "connected first user null",
                                              "connected second user null"));
}

TEST_F(WebsocketClientTest, PingsKeepALiveIdleSocketOpen) {
  SetIndicator(MakeObject({{"connectionId", "connA"}}));
  WebsocketConnectionOptions options;
  options.ping_timeout = milliseconds(150);
  MakeClient(options);
  client_->Connect();
  ASSERT_TRUE(WaitConnected());
  RunFor(io_, milliseconds(600));  // idle: only pings and pongs
  EXPECT_TRUE(client_->is_connected());
  EXPECT_EQ(client_->sockets_opened(), 1u);
}

TEST_F(WebsocketClientTest, DestroyingWithPendingOperationsIsSafe) {
  SetIndicator(MakeObject({{"connectionId", "connA"}}));
  MakeClient();
  client_->Connect();
  client_.reset();  // while connecting
  RunFor(io_, milliseconds(50));
  MakeClient();
  client_->Connect();
  ASSERT_TRUE(WaitConnected());
  ASSERT_TRUE(client_->Send(inst::ConnectionCountMessage{}).ok());
  client_.reset();  // open, with a write pending
  RunFor(io_, milliseconds(50));
  EXPECT_TRUE(RunUntil(io_, [&] { return ws_server_->open_sockets() == 0; }));
}

TEST_F(WebsocketClientTest, CallbacksMayDisconnectOrDestroyTheClient) {
  SetIndicator(MakeObject({{"connectionId", "connA"}}));
  MakeClient();
  auto sub = client_->OnConnectionState([&](const ClientConnectionState& s) {
    if (s.connected) client_.reset();
  });
  client_->Connect();
  ASSERT_TRUE(RunUntil(io_, [&] { return client_ == nullptr; }));
  RunFor(io_, milliseconds(50));
}

// ---------------------------------------------------------------------------
// A scripted raw Beast server, for what auxsync serve never sends.

std::string PemOf(std::function<int(BIO*)> write) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()),
                                                &BIO_free);
  write(bio.get());
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

// A self-signed certificate for `dns_name` and its key (PEM).
struct TestCertificate {
  std::string cert_pem;
  std::string key_pem;
};
TestCertificate MakeSelfSigned(const std::string& dns_name) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"),
                                                          &EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(
      name, "CN", MBSTRING_ASC,
      reinterpret_cast<const unsigned char*>(dns_name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  std::string san = "DNS:" + dns_name;
  X509_EXTENSION* ext =
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
  X509_add_ext(cert.get(), ext, -1);
  X509_EXTENSION_free(ext);
  X509_sign(cert.get(), key.get(), EVP_sha256());
  TestCertificate out;
  out.cert_pem =
      PemOf([&](BIO* bio) { return PEM_write_bio_X509(bio, cert.get()); });
  out.key_pem = PemOf([&](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0,
                                    nullptr, nullptr);
  });
  return out;
}

// Accepts websockets; answers every login with `replies` (in order) and
// records every frame it receives. With `stop_reading_after_login` it goes
// silent (no pongs) after the replies.
template <bool kTls>
class ScriptedServer {
 public:
  using Stream = std::conditional_t<
      kTls, websocket::stream<beast::ssl_stream<beast::tcp_stream>>,
      websocket::stream<beast::tcp_stream>>;

  ScriptedServer(asio::io_context& io, ssl::context* tls)
      : io_(io), tls_(tls), acceptor_(io, tcp::endpoint(tcp::v4(), 0)) {
    Accept();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  std::vector<std::string> replies;
  bool stop_reading_after_login = false;
  std::vector<std::string> received;
  std::vector<std::string> handshake_errors;

 private:
  struct Session : std::enable_shared_from_this<Session> {
    Session(ScriptedServer& server, tcp::socket socket)
        : server(server), ws(MakeStream(std::move(socket), server.tls_)) {}
    static Stream MakeStream(tcp::socket socket, ssl::context* tls) {
      if constexpr (kTls) {
        return Stream(std::move(socket), *tls);
      } else {
        (void)tls;
        return Stream(std::move(socket));
      }
    }
    void Start() {
      if constexpr (kTls) {
        ws.next_layer().async_handshake(
            ssl::stream_base::server,
            [self = this->shared_from_this()](beast::error_code ec) {
              if (ec) {
                self->server.handshake_errors.push_back(ec.message());
                return;
              }
              self->Accept();
            });
      } else {
        Accept();
      }
    }
    void Accept() {
      ws.async_accept([self = this->shared_from_this()](beast::error_code ec) {
        if (!ec) self->Read();
      });
    }
    void Read() {
      ws.async_read(buffer, [self = this->shared_from_this()](
                                beast::error_code ec, size_t) {
        if (ec) return;
        std::string text = beast::buffers_to_string(self->buffer.data());
        self->buffer.consume(self->buffer.size());
        self->server.received.push_back(text);
        bool login = text.find(R"("type":"login")") != std::string::npos;
        if (login) {
          for (const std::string& r : self->server.replies) self->Write(r);
          if (self->server.stop_reading_after_login) return;
        }
        self->Read();
      });
    }
    void Write(std::string frame) {
      queue.push_back(std::move(frame));
      if (queue.size() == 1) DoWrite();
    }
    void DoWrite() {
      ws.text(true);
      ws.async_write(
          asio::buffer(queue.front()),
          [self = this->shared_from_this()](beast::error_code ec, size_t) {
            if (ec) return;
            self->queue.pop_front();
            if (!self->queue.empty()) self->DoWrite();
          });
    }
    ScriptedServer& server;
    Stream ws;
    beast::flat_buffer buffer;
    std::deque<std::string> queue;
  };

  void Accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;
      // Kept: a session that stops reading has no operation owning it.
      sessions_.push_back(std::make_shared<Session>(*this, std::move(socket)));
      sessions_.back()->Start();
      Accept();
    });
  }

  asio::io_context& io_;
  ssl::context* tls_;
  tcp::acceptor acceptor_;
  std::vector<std::shared_ptr<Session>> sessions_;
};

constexpr std::string_view kLoginOk =
    R"([1,-1,{"type":"login_result","success":true,"info":{"userId":null,"sessionId":null,"connectionId":"connA"}}])";

TEST(WebsocketClientRawTest, GarbageFramesAreReportedNotFatal) {
  asio::io_context io;
  ScriptedServer<false> server(io, nullptr);
  server.replies = {
      "not json",
      "42",
      R"([1,-1,{"type":"no_such_message"}])",
      R"([1,-1,{"type":"login_result","success":"yes"}])",
      R"({"type":"login_result"})",
      std::string(kLoginOk),
      R"([5,-1,{"success":false,"errorCode":"server_error","errorMessage":"boom"}])"};
  partitions::PartitionAuthSource auth;
  std::string url =
      absl::StrCat("ws://127.0.0.1:", server.port(), "/websocket");
  auth.SendAuthResponse(partitions::AuthResponseSuccess(
      absl::StrCat("ws://127.0.0.1:", server.port()),
      MakeObject({{"connectionId", "connA"}})));
  auto client = WebsocketConnectionClient::Create(io, url, auth);
  ASSERT_TRUE(client.ok()) << client.status();
  std::vector<std::string> codes;
  auto sub = (*client)->OnError([&](const inst::ErrorInfo& e) {
    codes.push_back(std::string(e.error_code()));
  });
  (*client)->Connect();
  ASSERT_TRUE(RunUntil(io, [&] { return codes.size() == 6; }));
  EXPECT_TRUE((*client)->is_connected());
  EXPECT_EQ((*client)->bad_frames(), 5u);
  EXPECT_THAT(codes,
              ::testing::ElementsAre("unacceptable_event", "unacceptable_event",
                                     "unacceptable_event", "unacceptable_event",
                                     "unacceptable_event", "server_error"));
  ASSERT_EQ(server.received.size(), 1u);
  EXPECT_EQ(server.received[0],
            R"([1,1,{"type":"login","connectionId":"connA"}])");
}

TEST(WebsocketClientRawTest, FrameIdsCountFromOne) {
  asio::io_context io;
  ScriptedServer<false> server(io, nullptr);
  server.replies = {std::string(kLoginOk)};
  partitions::PartitionAuthSource auth(
      {{absl::StrCat("ws://127.0.0.1:", server.port()),
        MakeObject({{"connectionId", "connA"}})}});
  auto client = WebsocketConnectionClient::Create(
      io, absl::StrCat("ws://127.0.0.1:", server.port(), "/websocket"), auth);
  ASSERT_TRUE(client.ok());
  (*client)->Connect();
  ASSERT_TRUE(RunUntil(io, [&] { return (*client)->is_connected(); }));
  ASSERT_TRUE((*client)->Send(inst::SyncTimeMessage{7, 1234}).ok());
  ASSERT_TRUE(RunUntil(io, [&] { return server.received.size() == 2; }));
  EXPECT_EQ(server.received[1],
            R"([1,2,{"type":"sync/time","id":7,"clientRequestTime":1234}])");
}

TEST(WebsocketClientRawTest, MissingPermissionMessagesCrossTheAuthSource) {
  // 3.7: the UI's permission request/result for this origin go to the
  // server; the server's forwarded ones come back as external_* messages.
  asio::io_context io;
  ScriptedServer<false> server(io, nullptr);
  const std::string reason =
      R"({"type":"missing_permission","recordName":"rec","resourceKind":"inst","resourceId":"i","action":"read","subjectType":"user","subjectId":"u2"})";
  server.replies = {
      std::string(kLoginOk),
      absl::StrCat(
          R"([1,-1,{"type":"permission/request/missing","reason":)", reason,
          R"(,"connection":{"userId":"u2","sessionId":"s2","connectionId":"c2"},"user":null}])"),
      R"([1,-1,{"type":"permission/request/missing/response","success":true,"recordName":"rec","resourceKind":"inst","resourceId":"i","subjectType":"user","subjectId":"u2","connection":{"userId":"u1","sessionId":"s1","connectionId":"c1"}}])"};
  std::string origin = absl::StrCat("ws://127.0.0.1:", server.port());
  partitions::PartitionAuthSource auth(
      {{origin, MakeObject({{"connectionId", "connA"}})}});
  std::vector<std::string> external;
  auto s1 = auth.OnAuthExternalPermissionRequest(
      [&](const Value& m) { external.push_back(bots::ToJson(m)); });
  auto s2 = auth.OnAuthExternalPermissionResult(
      [&](const Value& m) { external.push_back(bots::ToJson(m)); });
  auto client = WebsocketConnectionClient::Create(
      io, absl::StrCat(origin, "/websocket"), auth);
  ASSERT_TRUE(client.ok());
  (*client)->Connect();
  ASSERT_TRUE(RunUntil(io, [&] { return external.size() == 2; }));
  EXPECT_EQ(external[0],
            absl::StrCat(R"({"type":"external_permission_request","origin":")",
                         origin, R"(","reason":)", reason, R"(,"user":null})"));
  EXPECT_EQ(
      external[1],
      absl::StrCat(
          R"({"type":"external_permission_result","success":true,"recordName":"rec","resourceKind":"inst","resourceId":"i","subjectType":"user","subjectId":"u2","connection":{"userId":"u1","sessionId":"s1","connectionId":"c1"},"origin":")",
          origin, R"("})"));

  auto parsed_reason = bots::ParseJson(reason);
  ASSERT_TRUE(parsed_reason.ok());
  auth.SendAuthPermissionRequest(
      partitions::AuthPermissionRequest(origin, *parsed_reason));
  // Another origin's request is not this connection's business.
  auth.SendAuthPermissionRequest(
      partitions::AuthPermissionRequest("ws://elsewhere", *parsed_reason));
  partitions::AuthPermissionResultFields fields;
  fields.success = true;
  fields.record_name = "rec";
  fields.resource_kind = "inst";
  fields.resource_id = "i";
  fields.subject_type = "user";
  fields.subject_id = "u2";
  auth.SendAuthPermissionResult(
      partitions::AuthPermissionResult(origin, fields));
  ASSERT_TRUE(RunUntil(io, [&] { return server.received.size() == 3; }));
  EXPECT_EQ(
      server.received[1],
      absl::StrCat(R"([1,2,{"type":"permission/request/missing","reason":)",
                   reason, "}]"));
  EXPECT_EQ(
      server.received[2],
      R"([1,3,{"type":"permission/request/missing/response","success":true,"recordName":"rec","resourceKind":"inst","resourceId":"i","subjectType":"user","subjectId":"u2"}])");
}

TEST(WebsocketClientRawTest, PingsDetectADeadPeer) {
  asio::io_context io;
  ScriptedServer<false> server(io, nullptr);
  server.replies = {std::string(kLoginOk)};
  server.stop_reading_after_login = true;  // answers no pings
  partitions::PartitionAuthSource auth(
      {{absl::StrCat("ws://127.0.0.1:", server.port()),
        MakeObject({{"connectionId", "connA"}})}});
  WebsocketConnectionOptions options;
  options.ping_timeout = milliseconds(300);
  options.reconnect_delay = milliseconds(10'000);
  auto client = WebsocketConnectionClient::Create(
      io, absl::StrCat("ws://127.0.0.1:", server.port(), "/websocket"), auth,
      options);
  ASSERT_TRUE(client.ok());
  (*client)->Connect();
  ASSERT_TRUE(RunUntil(io, [&] { return (*client)->is_connected(); }));
  ASSERT_TRUE(RunUntil(
      io, [&] { return !(*client)->is_connected(); }, milliseconds(3000)));
  EXPECT_THAT((*client)->last_transport_error(), HasSubstr("reading failed"));
}

// wss:// against a local TLS server.
class TlsTest : public ::testing::Test {
 protected:
  void Serve(const std::string& dns_name) {
    TestCertificate cert = MakeSelfSigned(dns_name);
    cert_pem_ = cert.cert_pem;
    server_tls_.use_certificate_chain(asio::buffer(cert.cert_pem));
    server_tls_.use_private_key(asio::buffer(cert.key_pem), ssl::context::pem);
    server_ = std::make_unique<ScriptedServer<true>>(io_, &server_tls_);
    server_->replies = {std::string(kLoginOk)};
  }
  std::unique_ptr<WebsocketConnectionClient> MakeClient(
      std::string_view host, std::shared_ptr<ssl::context> tls) {
    WebsocketConnectionOptions options;
    options.tls_context = std::move(tls);
    options.reconnect_delay = milliseconds(10'000);
    options.connect_timeout = milliseconds(3000);
    std::string origin =
        absl::StrCat("wss://", std::string(host), ":", server_->port());
    auth_.SendAuthResponse(partitions::AuthResponseSuccess(
        origin, MakeObject({{"connectionId", "connA"}})));
    auto client = WebsocketConnectionClient::Create(
        io_, absl::StrCat(origin, "/websocket"), auth_, options);
    EXPECT_TRUE(client.ok()) << client.status();
    return *std::move(client);
  }
  std::shared_ptr<ssl::context> Trusting() {
    auto tls = std::make_shared<ssl::context>(ssl::context::tls_client);
    tls->add_certificate_authority(asio::buffer(cert_pem_));
    tls->set_verify_mode(ssl::verify_peer);
    return tls;
  }

  asio::io_context io_;
  ssl::context server_tls_{ssl::context::tls_server};
  std::unique_ptr<ScriptedServer<true>> server_;
  std::string cert_pem_;
  partitions::PartitionAuthSource auth_;
};

TEST_F(TlsTest, SelfSignedCertificateFailsVerificationWithAClearError) {
  Serve("localhost");
  auto client = MakeClient("localhost", nullptr);  // system CAs
  std::vector<std::string> errors;
  auto sub = client->OnError([&](const inst::ErrorInfo& e) {
    errors.push_back(std::string(e.error_code()) + " " +
                     std::string(e.error_message()));
  });
  client->Connect();
  ASSERT_TRUE(RunUntil(io_, [&] { return !errors.empty(); }));
  EXPECT_FALSE(client->is_connected());
  EXPECT_THAT(errors[0], HasSubstr("websocket_error TLS handshake failed"));
  EXPECT_THAT(errors[0], HasSubstr("self-signed certificate"));
  EXPECT_TRUE(server_->received.empty());
}

TEST_F(TlsTest, TrustedCertificateConnectsWithSniAndHostnameCheck) {
  Serve("localhost");
  auto client = MakeClient("localhost", Trusting());
  client->Connect();
  ASSERT_TRUE(RunUntil(io_, [&] { return client->is_connected(); }))
      << client->last_transport_error();
  EXPECT_EQ(client->info()->connection_id, "connA");
}

TEST_F(TlsTest, CertificateForAnotherHostIsRejected) {
  Serve("other.example");
  auto client = MakeClient("localhost", Trusting());
  client->Connect();
  ASSERT_TRUE(
      RunUntil(io_, [&] { return !client->last_transport_error().empty(); }));
  EXPECT_FALSE(client->is_connected());
  EXPECT_THAT(client->last_transport_error(), HasSubstr("hostname mismatch"));
}

}  // namespace
}  // namespace auxsync::client
