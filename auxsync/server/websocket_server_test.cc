#include "auxsync/server/websocket_server.h"

#include <sys/resource.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "auxsync/server/inst_server.h"
#include "auxsync/server/internal/websocket_frame.h"
#include "auxsync/server/memory_store.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/read.hpp"
#include "boost/asio/read_until.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/websocket.hpp"
#include "gtest/gtest.h"

namespace auxsync::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using internal::WsFrameReader;
using internal::WsOpcode;
using Kind = WsFrameReader::Result::Kind;

// A client frame as a browser or `ws` sends it: masked with `mask`.
std::string ClientFrame(WsOpcode opcode, std::string_view payload,
                        bool fin = true, bool masked = true,
                        uint32_t mask = 0x37fa213d) {
  std::string frame;
  frame.push_back(
      static_cast<char>((fin ? 0x80 : 0) | static_cast<uint8_t>(opcode)));
  const char mask_bit = masked ? static_cast<char>(0x80) : 0;
  if (payload.size() < 126) {
    frame.push_back(static_cast<char>(mask_bit | payload.size()));
  } else if (payload.size() <= 0xffff) {
    frame.push_back(static_cast<char>(mask_bit | 126));
    frame.push_back(static_cast<char>(payload.size() >> 8));
    frame.push_back(static_cast<char>(payload.size()));
  } else {
    frame.push_back(static_cast<char>(mask_bit | 127));
    for (int i = 7; i >= 0; --i) {
      frame.push_back(static_cast<char>(uint64_t{payload.size()} >> (8 * i)));
    }
  }
  const char key[4] = {static_cast<char>(mask >> 24),
                       static_cast<char>(mask >> 16),
                       static_cast<char>(mask >> 8), static_cast<char>(mask)};
  if (masked) frame.append(key, 4);
  for (size_t i = 0; i < payload.size(); ++i) {
    frame.push_back(masked ? static_cast<char>(payload[i] ^ key[i & 3])
                           : payload[i]);
  }
  return frame;
}

// Records what a WsFrameReader hands on.
struct Recorder : internal::WsFrameHandler {
  void OnWsMessage(bool text, std::string_view payload) override {
    messages.push_back((text ? "text:" : "binary:") + std::string(payload));
  }
  void OnWsPing(std::string_view payload) override {
    messages.push_back("ping:" + std::string(payload));
  }
  void OnWsPong() override { messages.push_back("pong"); }
  std::vector<std::string> messages;
};

WsFrameReader::Result FeedAll(WsFrameReader& reader, std::string bytes,
                              Recorder& recorder, size_t max = 1000) {
  return reader.Feed(bytes.data(), bytes.size(), max, recorder);
}

TEST(WsFrameReader, WholeMessagesAndControlFrames) {
  WsFrameReader reader;
  Recorder r;
  std::string bytes = ClientFrame(WsOpcode::kText, "hello") +
                      ClientFrame(WsOpcode::kPing, "p") +
                      ClientFrame(WsOpcode::kBinary, std::string(300, 'b')) +
                      ClientFrame(WsOpcode::kPong, "") +
                      ClientFrame(WsOpcode::kText, "");
  EXPECT_EQ(FeedAll(reader, bytes, r).kind, Kind::kNeedMore);
  EXPECT_EQ(r.messages,
            (std::vector<std::string>{"text:hello", "ping:p",
                                      "binary:" + std::string(300, 'b'), "pong",
                                      "text:"}));
  EXPECT_EQ(reader.buffered_bytes(), 0u);
}

TEST(WsFrameReader, FragmentedMessageWithControlFramesBetween) {
  WsFrameReader reader;
  Recorder r;
  std::string bytes =
      ClientFrame(WsOpcode::kText, "[1,1,", false) +
      ClientFrame(WsOpcode::kPing, "x") +
      ClientFrame(WsOpcode::kContinuation, "{\"a\":", false) +
      ClientFrame(WsOpcode::kPong, "") +
      ClientFrame(WsOpcode::kContinuation, "\"\u00e9\"}]", true) +
      ClientFrame(WsOpcode::kText, "next");
  // Byte by byte: every split point of headers, masks and payloads.
  for (char c : bytes) {
    ASSERT_EQ(FeedAll(reader, std::string(1, c), r).kind, Kind::kNeedMore);
  }
  EXPECT_EQ(r.messages, (std::vector<std::string>{
                            "ping:x", "pong", "text:[1,1,{\"a\":\"\u00e9\"}]",
                            "text:next"}));
  EXPECT_EQ(reader.buffered_bytes(), 0u);
}

TEST(WsFrameReader, ProtocolViolationsFailWith1002) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"unmasked", ClientFrame(WsOpcode::kText, "hi", true, false)},
      {"reserved bit",
       [] {
         std::string f = ClientFrame(WsOpcode::kText, "hi");
         f[0] = static_cast<char>(f[0] | 0x40);
         return f;
       }()},
      {"reserved opcode", ClientFrame(static_cast<WsOpcode>(3), "hi")},
      {"continuation without a message",
       ClientFrame(WsOpcode::kContinuation, "hi")},
      {"new message inside a fragmented one",
       ClientFrame(WsOpcode::kText, "a", false) +
           ClientFrame(WsOpcode::kText, "b")},
      {"fragmented ping", ClientFrame(WsOpcode::kPing, "a", false)},
      {"long ping", ClientFrame(WsOpcode::kPing, std::string(126, 'p'))},
      {"non-minimal length",
       [] {
         std::string f = ClientFrame(WsOpcode::kText, "");
         f[1] = static_cast<char>(0x80 | 126);
         f.insert(2, std::string("\0\x05", 2));
         return f + "hello";
       }()},
      {"one-byte close", ClientFrame(WsOpcode::kClose, "x")},
      {"reserved close code",
       ClientFrame(WsOpcode::kClose, internal::WsClosePayload(1005))},
  };
  for (const auto& [name, bytes] : cases) {
    WsFrameReader reader;
    Recorder r;
    WsFrameReader::Result result = FeedAll(reader, bytes, r);
    EXPECT_EQ(result.kind, Kind::kFailed) << name;
    EXPECT_EQ(result.code, 1002) << name;
  }
}

TEST(WsFrameReader, OversizedMessagesFailWith1009BeforeTheirPayload) {
  {
    WsFrameReader reader;
    Recorder r;
    // Only the header: the reader refuses without waiting for the payload.
    std::string frame = ClientFrame(WsOpcode::kText, std::string(101, 'x'));
    auto result = FeedAll(reader, frame.substr(0, 8), r, 100);
    EXPECT_EQ(result.kind, Kind::kFailed);
    EXPECT_EQ(result.code, 1009);
  }
  {
    WsFrameReader reader;
    Recorder r;
    auto result =
        FeedAll(reader,
                ClientFrame(WsOpcode::kText, std::string(60, 'x'), false) +
                    ClientFrame(WsOpcode::kContinuation, std::string(41, 'x')),
                r, 100);
    EXPECT_EQ(result.kind, Kind::kFailed);
    EXPECT_EQ(result.code, 1009);
  }
  {
    WsFrameReader reader;
    Recorder r;
    auto result = FeedAll(
        reader, ClientFrame(WsOpcode::kText, std::string(100, 'x')), r, 100);
    EXPECT_EQ(result.kind, Kind::kNeedMore);
    EXPECT_EQ(r.messages.size(), 1u);
  }
}

TEST(WsFrameReader, InvalidUtf8FailsWith1007) {
  for (std::string bad :
       {std::string("\xff"), std::string("a\xc0\x80"),  // overlong
        std::string("\xed\xa0\x80"),                    // surrogate
        std::string("\xf4\x90\x80\x80"),                // above U+10FFFF
        std::string("\xe2\x82")}) {                     // truncated
    WsFrameReader reader;
    Recorder r;
    auto result = FeedAll(reader, ClientFrame(WsOpcode::kText, bad), r);
    EXPECT_EQ(result.kind, Kind::kFailed);
    EXPECT_EQ(result.code, 1007);
    EXPECT_TRUE(r.messages.empty());
  }
  // A character split between fragments is fine; binary is not checked.
  WsFrameReader reader;
  Recorder r;
  auto result = FeedAll(reader,
                        ClientFrame(WsOpcode::kText, "\xe2\x82", false) +
                            ClientFrame(WsOpcode::kContinuation, "\xac") +
                            ClientFrame(WsOpcode::kBinary, "\xff"),
                        r);
  EXPECT_EQ(result.kind, Kind::kNeedMore);
  EXPECT_EQ(r.messages,
            (std::vector<std::string>{"text:\xe2\x82\xac", "binary:\xff"}));
  EXPECT_TRUE(internal::IsValidUtf8("\xf0\x9f\x98\x80 caf\xc3\xa9"));
}

TEST(WsFrameReader, CloseFrames) {
  WsFrameReader reader;
  Recorder r;
  auto result = FeedAll(
      reader,
      ClientFrame(WsOpcode::kClose, internal::WsClosePayload(4001, "bye")) +
          ClientFrame(WsOpcode::kText, "after"),
      r);
  EXPECT_EQ(result.kind, Kind::kClosed);
  EXPECT_EQ(result.code, 4001);
  EXPECT_TRUE(r.messages.empty());  // nothing after the close
  WsFrameReader empty;
  result = FeedAll(empty, ClientFrame(WsOpcode::kClose, ""), r);
  EXPECT_EQ(result.kind, Kind::kClosed);
  EXPECT_EQ(result.code, 1005);
  WsFrameReader bad_reason;
  result = FeedAll(
      bad_reason,
      ClientFrame(WsOpcode::kClose, internal::WsClosePayload(1000, "\xff")), r);
  EXPECT_EQ(result.kind, Kind::kFailed);
  EXPECT_EQ(result.code, 1007);
}

TEST(WsFrameHeader, LengthEncodings) {
  EXPECT_EQ(internal::EncodeWsFrame(WsOpcode::kText, "hi"),
            std::string("\x81\x02hi", 4));
  std::string mid =
      internal::EncodeWsFrame(WsOpcode::kText, std::string(300, 'x'));
  EXPECT_EQ(mid.substr(0, 4), std::string("\x81\x7e\x01\x2c", 4));
  std::string big =
      internal::EncodeWsFrame(WsOpcode::kBinary, std::string(70000, 'x'));
  EXPECT_EQ(big.substr(0, 10),
            std::string("\x82\x7f\0\0\0\0\0\x01\x11\x70", 10));
  EXPECT_EQ(big.size(), 70010u);
}

size_t OpenDescriptors() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/self/fd")) {
    ++n;
  }
  return n;
}

// A websocket handshake and one login answered within 5 s: the server
// accepted and served this connection. (Asynchronous, because a connection
// the server never accepts is still queued by the kernel, and a blocking
// read would wait forever.)
bool LoginAnswered(uint16_t port) {
  asio::io_context io;
  beast::websocket::stream<beast::tcp_stream> ws(io);
  beast::flat_buffer buffer;
  const std::string login = R"([1,1,{"type":"login","connectionId":"c"}])";
  bool answered = false;
  beast::get_lowest_layer(ws).async_connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
      [&](beast::error_code ec) {
        if (ec) return;
        ws.async_handshake(
            "127.0.0.1", "/websocket", [&](beast::error_code ec) {
              if (ec) return;
              ws.async_write(
                  asio::buffer(login), [&](beast::error_code ec, size_t) {
                    if (ec) return;
                    ws.async_read(buffer, [&](beast::error_code ec, size_t) {
                      answered = !ec && beast::buffers_to_string(buffer.data())
                                                .find("login_result") !=
                                            std::string::npos;
                    });
                  });
            });
      });
  io.run_for(std::chrono::seconds(5));
  return answered;
}

// A full descriptor table makes accept() fail with EMFILE; once descriptors
// are free again the server must accept new connections (it used to stop
// listening after the first failed accept).
TEST(WebsocketServer, KeepsAcceptingAfterRunningOutOfDescriptors) {
  MemoryStore store;
  InstServer inst(store);
  asio::io_context io;
  WebsocketServer server(io, inst);
  absl::StatusOr<uint16_t> port = server.Listen("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.status();
  std::thread loop([&] {
    auto guard = asio::make_work_guard(io);
    io.run();
  });

  rlimit original{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &original), 0);
  // Room for a few client sockets, so the server's accept() is refused.
  rlimit tight = original;
  tight.rlim_cur = OpenDescriptors() + 6;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &tight), 0);
  {
    asio::io_context client_io;
    std::vector<std::unique_ptr<tcp::socket>> clients;
    for (int i = 0; i < 12; ++i) {
      auto socket = std::make_unique<tcp::socket>(client_io);
      boost::system::error_code ec;
      socket->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), *port),
                      ec);
      if (ec) break;  // the client side ran out first: the table is full
      clients.push_back(std::move(socket));
    }
    // Give the server time to hit EMFILE on the queued connections.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }  // the clients close: their descriptors are free again
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &original), 0);

  EXPECT_TRUE(LoginAnswered(*port));

  asio::post(io, [&] {
    server.Stop();
    io.stop();
  });
  loop.join();
}

// io_context::run returns soon after Stop() once the sockets are gone (the
// sweep timer of the idle pings does not keep it waiting for its period).
TEST(WebsocketServer, RunReturnsSoonAfterStop) {
  MemoryStore store;
  InstServer inst(store);
  asio::io_context io;
  WebsocketServer server(io, inst);
  absl::StatusOr<uint16_t> port = server.Listen("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.status();
  bool answered = false;
  std::thread client([&] {
    answered = LoginAnswered(*port);
    asio::post(io, [&] { server.Stop(); });
  });
  auto start = std::chrono::steady_clock::now();
  io.run();
  client.join();
  EXPECT_TRUE(answered);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
  EXPECT_EQ(server.open_sockets(), 0u);
}

// A server on its own thread, and a raw TCP client that speaks the
// websocket protocol byte by byte.
class RawClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WebsocketServerOptions options;
    options.max_frame_bytes = 1000;
    options.idle_timeout = std::chrono::milliseconds(400);
    inst_ = std::make_unique<InstServer>(store_);
    server_ = std::make_unique<WebsocketServer>(io_, *inst_, options);
    absl::StatusOr<uint16_t> port = server_->Listen("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
    loop_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    asio::post(io_, [this] {
      server_->Stop();
      io_.stop();
    });
    loop_.join();
  }

  // Connects and upgrades; returns the HTTP response head.
  std::string Upgrade(tcp::socket& socket) {
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    std::string request =
        "GET /websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: "
        "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: casualos.records\r\n\r\n";
    asio::write(socket, asio::buffer(request));
    size_t n =
        asio::read_until(socket, asio::dynamic_buffer(head_), "\r\n\r\n");
    std::string response = head_.substr(0, n);
    head_.erase(0, n);
    return response;
  }

  // Reads one server frame: (opcode, payload); opcode -1 at EOF.
  std::pair<int, std::string> ReadFrame(tcp::socket& socket) {
    auto need = [&](size_t n) {
      boost::system::error_code ec;
      while (head_.size() < n && !ec) {
        char buf[4096];
        size_t got = socket.read_some(asio::buffer(buf), ec);
        head_.append(buf, got);
      }
      return head_.size() >= n;
    };
    if (!need(2)) return {-1, ""};
    const auto b1 = static_cast<uint8_t>(head_[1]);
    EXPECT_EQ(b1 & 0x80, 0) << "a server never masks";
    EXPECT_NE(head_[0] & 0x80, 0) << "the server does not fragment";
    size_t header = 2;
    uint64_t length = b1 & 0x7f;
    if (length == 126) {
      if (!need(4)) return {-1, ""};
      length = (static_cast<uint8_t>(head_[2]) << 8) |
               static_cast<uint8_t>(head_[3]);
      header = 4;
    } else if (length == 127) {
      if (!need(10)) return {-1, ""};
      length = 0;
      for (int i = 2; i < 10; ++i) {
        length = (length << 8) | static_cast<uint8_t>(head_[i]);
      }
      header = 10;
    }
    if (!need(header + length)) return {-1, ""};
    std::pair<int, std::string> frame{head_[0] & 0x0f,
                                      head_.substr(header, length)};
    head_.erase(0, header + length);
    return frame;
  }

  static uint16_t CloseCode(const std::string& payload) {
    if (payload.size() < 2) return 0;
    return static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                 static_cast<uint8_t>(payload[1]));
  }

  // After the close frame the server ends the TCP connection.
  bool ServerClosesTcp(tcp::socket& socket) {
    boost::system::error_code ec;
    char buf[256];
    for (int i = 0; i < 100 && !ec; ++i)
      socket.read_some(asio::buffer(buf), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

  const std::string login_ = R"([1,1,{"type":"login","connectionId":"c"}])";
  MemoryStore store_;
  asio::io_context io_;
  std::unique_ptr<InstServer> inst_;
  std::unique_ptr<WebsocketServer> server_;
  uint16_t port_ = 0;
  std::thread loop_;
  asio::io_context client_io_;
  std::string head_;
};

TEST_F(RawClientTest, UpgradeEchoesTheSubprotocolAndAnswersALogin) {
  tcp::socket socket(client_io_);
  std::string response = Upgrade(socket);
  EXPECT_NE(response.find("101"), std::string::npos) << response;
  EXPECT_NE(response.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos);
  EXPECT_NE(response.find("casualos.records"), std::string::npos);
  asio::write(socket, asio::buffer(ClientFrame(WsOpcode::kText, login_)));
  auto [opcode, payload] = ReadFrame(socket);
  EXPECT_EQ(opcode, 1);
  EXPECT_NE(payload.find("login_result"), std::string::npos) << payload;
}

TEST_F(RawClientTest, FragmentedMessageWithPingBetweenIsOneFrame) {
  tcp::socket socket(client_io_);
  Upgrade(socket);
  std::string bytes =
      ClientFrame(WsOpcode::kText, login_.substr(0, 10), false) +
      ClientFrame(WsOpcode::kPing, "are you there") +
      ClientFrame(WsOpcode::kContinuation, login_.substr(10));
  // In pieces, so the server sees every split.
  for (size_t i = 0; i < bytes.size(); i += 7) {
    asio::write(socket, asio::buffer(bytes.substr(i, 7)));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto pong = ReadFrame(socket);
  EXPECT_EQ(pong.first, 10);
  EXPECT_EQ(pong.second, "are you there");
  auto answer = ReadFrame(socket);
  EXPECT_EQ(answer.first, 1);
  EXPECT_NE(answer.second.find("login_result"), std::string::npos);
}

TEST_F(RawClientTest, ProtocolErrorsCloseWithTheirCodes) {
  const std::vector<std::pair<std::string, uint16_t>> cases = {
      {ClientFrame(WsOpcode::kText, login_, true, false), 1002},  // unmasked
      {ClientFrame(WsOpcode::kText, std::string(1001, 'x')), 1009},
      {ClientFrame(WsOpcode::kText, "[1,1,\xff]"), 1007},
  };
  for (const auto& [bytes, code] : cases) {
    head_.clear();
    tcp::socket socket(client_io_);
    Upgrade(socket);
    asio::write(socket, asio::buffer(bytes));
    auto [opcode, payload] = ReadFrame(socket);
    EXPECT_EQ(opcode, 8) << code;
    EXPECT_EQ(CloseCode(payload), code);
    EXPECT_TRUE(ServerClosesTcp(socket)) << code;
  }
}

TEST_F(RawClientTest, ClientInitiatedCloseIsEchoed) {
  tcp::socket socket(client_io_);
  Upgrade(socket);
  asio::write(socket, asio::buffer(ClientFrame(WsOpcode::kText, login_)));
  EXPECT_EQ(ReadFrame(socket).first, 1);
  asio::write(socket,
              asio::buffer(ClientFrame(
                  WsOpcode::kClose, internal::WsClosePayload(4000, "going"))));
  auto [opcode, payload] = ReadFrame(socket);
  EXPECT_EQ(opcode, 8);
  EXPECT_EQ(CloseCode(payload), 4000);
  EXPECT_TRUE(ServerClosesTcp(socket));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::promise<size_t> count;
  asio::post(io_, [&] { count.set_value(inst_->socket_count()); });
  EXPECT_EQ(count.get_future().get(), 0u);
}

TEST_F(RawClientTest, ServerInitiatedCloseWaitsForTheClientsClose) {
  tcp::socket socket(client_io_);
  Upgrade(socket);
  asio::write(socket, asio::buffer(ClientFrame(WsOpcode::kText, login_)));
  EXPECT_EQ(ReadFrame(socket).first, 1);
  asio::post(io_, [&] { server_->Stop(); });
  auto [opcode, payload] = ReadFrame(socket);
  EXPECT_EQ(opcode, 8);
  EXPECT_EQ(CloseCode(payload), 1000);
  asio::write(socket, asio::buffer(ClientFrame(
                          WsOpcode::kClose, internal::WsClosePayload(1000))));
  EXPECT_TRUE(ServerClosesTcp(socket));
}

TEST_F(RawClientTest, SilentSocketIsPingedThenClosed) {
  tcp::socket socket(client_io_);
  Upgrade(socket);
  auto start = std::chrono::steady_clock::now();
  auto ping = ReadFrame(socket);
  EXPECT_EQ(ping.first, 9);
  EXPECT_GE(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(150));
  // No pong: the socket is closed at the idle timeout.
  EXPECT_TRUE(ServerClosesTcp(socket));
  EXPECT_GE(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(350));
}

TEST_F(RawClientTest, PongKeepsTheSocketOpen) {
  tcp::socket socket(client_io_);
  Upgrade(socket);
  for (int i = 0; i < 3; ++i) {
    auto ping = ReadFrame(socket);
    ASSERT_EQ(ping.first, 9);
    asio::write(socket, asio::buffer(ClientFrame(WsOpcode::kPong, "")));
  }
  asio::write(socket, asio::buffer(ClientFrame(WsOpcode::kText, login_)));
  auto answer = ReadFrame(socket);
  EXPECT_EQ(answer.first, 1);
  EXPECT_NE(answer.second.find("login_result"), std::string::npos);
}

}  // namespace
}  // namespace auxsync::server
