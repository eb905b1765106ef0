#include "auxsync/server/websocket_server.h"

#include <sys/resource.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "auxsync/server/inst_server.h"
#include "auxsync/server/memory_store.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/websocket.hpp"
#include "gtest/gtest.h"

namespace auxsync::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

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

}  // namespace
}  // namespace auxsync::server
