#include "bench/inst_load_client.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <deque>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <sstream>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "auxsync/inst/frame.h"
#include "auxsync/inst/message_codec.h"
#include "auxsync/inst/messages.h"
#include "bench/inst_load_updates.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/websocket.hpp"
#include "nlohmann/json.hpp"

namespace auxsync::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// The bytes both servers put in front of the two frames that make up
// nearly all of the traffic; they are read without a full JSON parse so
// that the load client stays much cheaper than the server it loads.
constexpr std::string_view kBroadcastPrefix =
    R"([1,-1,{"type":"repo/add_updates",)";
constexpr std::string_view kAckPrefix =
    R"([1,-1,{"type":"repo/updates_received",)";

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) /
             1e6;
}

// User + system CPU seconds of another process (from /proc/PID/stat);
// nullopt if unreadable.
std::optional<double> ProcessCpuSeconds(int64_t pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  // Fields after the parenthesised command name; utime and stime are
  // the 14th and 15th fields of the whole line.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The q-quantile (0..1) of `samples` (reordered); 0 when empty.
double Quantile(std::vector<float>& samples, double q) {
  if (samples.empty()) return 0;
  size_t k = static_cast<size_t>(q * static_cast<double>(samples.size() - 1));
  std::nth_element(samples.begin(), samples.begin() + k, samples.end());
  return samples[k];
}

// The strings of the first "updates":[...] array of a server frame (base64
// has no quotes or escapes). nullopt if the frame does not have one.
std::optional<std::vector<std::string_view>> ScanUpdates(
    std::string_view text) {
  constexpr std::string_view kKey = R"("updates":[)";
  size_t pos = text.find(kKey);
  if (pos == std::string_view::npos) return std::nullopt;
  pos += kKey.size();
  std::vector<std::string_view> out;
  while (pos < text.size() && text[pos] != ']') {
    if (text[pos] != '"') return std::nullopt;
    size_t end = text.find('"', pos + 1);
    if (end == std::string_view::npos) return std::nullopt;
    out.push_back(text.substr(pos + 1, end - pos - 1));
    pos = end + 1;
    if (pos < text.size() && text[pos] == ',') ++pos;
  }
  return out;
}

std::optional<double> ScanNumberAfter(std::string_view text,
                                      std::string_view key) {
  size_t pos = text.find(key);
  if (pos == std::string_view::npos) return std::nullopt;
  pos += key.size();
  double value = 0;
  auto [end, ec] =
      std::from_chars(text.data() + pos, text.data() + text.size(), value);
  if (ec != std::errc()) return std::nullopt;
  return value;
}

}  // namespace

std::string LoadResult::ToJson() const {
  // Three decimals are plenty for milliseconds and rates.
  auto r = [](double x) { return std::round(x * 1000) / 1000; };
  nlohmann::ordered_json j;
  j["clients"] = clients;
  j["insts"] = insts;
  j["ready"] = ready;
  j["connectErrors"] = connect_errors;
  j["closedDuringRun"] = closed_during_run;
  j["setupS"] = r(setup_s);
  j["sent"] = sent;
  j["acked"] = acked;
  j["ackErrors"] = ack_errors;
  j["expected"] = expected;
  j["delivered"] = delivered;
  j["lost"] = lost;
  j["unknownUpdates"] = unknown_updates;
  j["errorFrames"] = error_frames;
  j["decodeMismatches"] = decode_mismatches;
  j["fanoutP50Ms"] = r(fanout_p50);
  j["fanoutP90Ms"] = r(fanout_p90);
  j["fanoutP99Ms"] = r(fanout_p99);
  j["fanoutMaxMs"] = r(fanout_max);
  j["ackP50Ms"] = r(ack_p50);
  j["ackP99Ms"] = r(ack_p99);
  j["ackedPerS"] = r(acked_per_s);
  j["deliveredPerS"] = r(delivered_per_s);
  j["sendLagP99Ms"] = r(send_lag_p99);
  j["clientCpu"] = r(client_cpu);
  j["serverCpu"] = r(server_cpu);
  j["serverUsPerFrame"] = r(server_us_per_frame);
  j["firstError"] = first_error;
  return j.dump();
}

class LoadClient::Impl {
 public:
  explicit Impl(LoadOptions options) : options_(std::move(options)) {}

  ~Impl() {
    // Handlers refer to the sockets: stop them before the sockets go.
    io_.stop();
  }

  absl::Status Connect();
  void Hold(double seconds);
  void RunLoad();
  const LoadResult& result() const { return result_; }

 private:
  enum class State { kIdle, kConnecting, kLoggingIn, kWatching, kReady, kDead };

  struct AckWait {
    double update_id;
    Clock::time_point sent;
    bool measured;
  };

  struct Socket {
    explicit Socket(asio::io_context& io) : ws(io), timer(io) {}
    websocket::stream<beast::tcp_stream> ws;
    asio::steady_timer timer;
    beast::flat_buffer buffer;
    std::deque<std::string> out;
    bool writing = false;
    State state = State::kIdle;
    int index = 0;
    int inst = 0;
    inst::BranchNamespace ns;
    double next_frame_id = 1;
    double next_update_id = 1;
    int watch_results_due = 0;
    std::vector<std::string> updates;
    size_t next_update = 0;
    Clock::time_point next_send;
    std::deque<AckWait> acks;
  };

  struct Pending {
    Clock::time_point sent;
    int remaining = 0;
    bool measured = false;
  };

  void StartNextConnects();
  void Fail(Socket* s, std::string_view what);
  void Send(Socket* s, const inst::Message& message);
  void Write(Socket* s);
  void Read(Socket* s);
  void OnFrame(Socket* s, std::string_view text);
  void OnFrameSlow(Socket* s, std::string_view text);
  void OnDelivered(std::string_view update, Clock::time_point now);
  void OnAck(Socket* s, double update_id, bool error, Clock::time_point now);
  void Verify(std::string_view text,
              const std::vector<std::string_view>* updates,
              std::optional<double> update_id);
  void OnTimer(Socket* s);
  void SendUpdate(Socket* s, Clock::time_point now, bool measured);
  void Note(std::string_view error);

  LoadOptions options_;
  asio::io_context io_{1};
  // run_for() keeps waiting even when no operation is pending.
  asio::executor_work_guard<asio::io_context::executor_type> work_ =
      asio::make_work_guard(io_);
  std::vector<std::unique_ptr<Socket>> sockets_;
  tcp::endpoint endpoint_;
  std::string host_header_;
  size_t next_to_connect_ = 0;
  int connecting_ = 0;
  int ready_count_ = 0;
  bool running_ = false;
  std::vector<int> inst_watchers_;
  int64_t fast_frames_ = 0;
  int64_t frames_received_ = 0;  // every frame of every socket

  absl::flat_hash_map<std::string, Pending> pending_;
  int64_t outstanding_measured_ = 0;  // deliveries and acks still due
  Clock::time_point measure_start_, send_end_;
  double period_s_ = 1;
  std::vector<float> fanout_ms_, ack_ms_, lag_ms_;
  LoadResult result_;
};

void LoadClient::Impl::Note(std::string_view error) {
  if (result_.first_error.empty()) {
    result_.first_error = std::string(error.substr(0, 300));
  }
}

absl::Status LoadClient::Impl::Connect() {
  if (options_.clients <= 0) return absl::InvalidArgumentError("no clients");
  if (options_.port == 0) return absl::InvalidArgumentError("no port");
  boost::system::error_code ec;
  asio::ip::address address = asio::ip::make_address(options_.host, ec);
  if (ec) return absl::InvalidArgumentError("host must be an IP address");
  endpoint_ = tcp::endpoint(address, options_.port);
  host_header_ = absl::StrCat(options_.host, ":", options_.port);

  const int per_inst = options_.clients_per_inst > 0 ? options_.clients_per_inst
                                                     : options_.clients;
  const int insts = (options_.clients + per_inst - 1) / per_inst;
  result_.clients = options_.clients;
  result_.insts = insts;
  inst_watchers_.assign(insts, 0);

  // The updates are made before any socket opens: building them is not
  // part of what is measured.
  const int updates_per_client =
      options_.rate_per_client > 0
          ? static_cast<int>(
                std::ceil(options_.rate_per_client *
                          (options_.warmup_s + options_.duration_s + 1))) +
                4
          : 0;
  sockets_.reserve(options_.clients);
  for (int i = 0; i < options_.clients; ++i) {
    auto s = std::make_unique<Socket>(io_);
    s->index = i;
    s->inst = i / per_inst;
    s->ns.record_name = std::nullopt;
    s->ns.inst = absl::StrCat(options_.run_id, "-inst", s->inst);
    s->ns.branch = "default";
    s->updates =
        BuildWriterUpdates(1000 + static_cast<uint64_t>(i), updates_per_client);
    sockets_.push_back(std::move(s));
  }

  Clock::time_point start = Clock::now();
  Clock::time_point deadline =
      start + std::chrono::milliseconds(
                  static_cast<int64_t>(options_.setup_timeout_s * 1000));
  StartNextConnects();
  while ((connecting_ > 0 || next_to_connect_ < sockets_.size()) &&
         Clock::now() < deadline) {
    io_.run_for(std::chrono::milliseconds(20));
  }
  result_.setup_s = Ms(Clock::now() - start) / 1000;
  // Sockets still on their way in are closed: a late watcher would upset
  // the delivery counts.
  next_to_connect_ = sockets_.size();
  for (auto& s : sockets_) {
    if (s->state != State::kReady && s->state != State::kDead) {
      Fail(s.get(), "setup timeout");
    }
  }
  result_.ready = ready_count_;
  return absl::OkStatus();
}

void LoadClient::Impl::StartNextConnects() {
  while (connecting_ < options_.max_concurrent_connects &&
         next_to_connect_ < sockets_.size()) {
    Socket* s = sockets_[next_to_connect_++].get();
    ++connecting_;
    s->state = State::kConnecting;
    beast::get_lowest_layer(s->ws).expires_after(std::chrono::seconds(30));
    beast::get_lowest_layer(s->ws).async_connect(
        endpoint_, [this, s](beast::error_code ec) {
          if (ec) return Fail(s, absl::StrCat("connect: ", ec.message()));
          beast::get_lowest_layer(s->ws).socket().set_option(
              tcp::no_delay(true), ec);
          beast::get_lowest_layer(s->ws).expires_never();
          s->ws.set_option(websocket::stream_base::timeout::suggested(
              beast::role_type::client));
          s->ws.text(true);
          s->ws.async_handshake(
              host_header_, options_.path, [this, s](beast::error_code ec) {
                if (ec) {
                  return Fail(s, absl::StrCat("handshake: ", ec.message()));
                }
                s->state = State::kLoggingIn;
                inst::LoginMessage login;
                login.connection_id =
                    absl::StrCat(options_.run_id, "-c", s->index);
                Send(s, login);
                Read(s);
              });
        });
  }
}

void LoadClient::Impl::Fail(Socket* s, std::string_view what) {
  if (s->state == State::kDead) return;
  State was = s->state;
  s->state = State::kDead;
  s->timer.cancel();
  beast::error_code ignored;
  beast::get_lowest_layer(s->ws).socket().close(ignored);
  Note(absl::StrCat("client ", s->index, ": ", std::string(what)));
  if (was == State::kReady) {
    --ready_count_;
    --inst_watchers_[s->inst];
    ++result_.closed_during_run;
  } else {
    ++result_.connect_errors;
    if (was != State::kIdle) --connecting_;
    StartNextConnects();
  }
}

void LoadClient::Impl::Send(Socket* s, const inst::Message& message) {
  s->out.push_back(inst::EncodeMessageFrame(message, s->next_frame_id++));
  Write(s);
}

void LoadClient::Impl::Write(Socket* s) {
  if (s->writing || s->out.empty() || s->state == State::kDead) return;
  s->writing = true;
  s->ws.async_write(asio::buffer(s->out.front()),
                    [this, s](beast::error_code ec, size_t) {
                      s->writing = false;
                      s->out.pop_front();
                      if (ec)
                        return Fail(s, absl::StrCat("write: ", ec.message()));
                      Write(s);
                    });
}

void LoadClient::Impl::Read(Socket* s) {
  s->ws.async_read(s->buffer, [this, s](beast::error_code ec, size_t) {
    if (ec) return Fail(s, absl::StrCat("read: ", ec.message()));
    auto data = s->buffer.cdata();
    OnFrame(s, std::string_view(static_cast<const char*>(data.data()),
                                data.size()));
    s->buffer.consume(s->buffer.size());
    if (s->state != State::kDead) Read(s);
  });
}

void LoadClient::Impl::OnFrame(Socket* s, std::string_view text) {
  ++frames_received_;
  const bool verify =
      options_.verify_every > 0 && fast_frames_ % options_.verify_every == 0;
  if (s->state == State::kReady && text.starts_with(kBroadcastPrefix) &&
      text.find(R"("initial":true)") == std::string_view::npos) {
    std::optional<std::vector<std::string_view>> updates = ScanUpdates(text);
    if (updates) {
      ++fast_frames_;
      if (verify) Verify(text, &*updates, std::nullopt);
      Clock::time_point now = Clock::now();
      for (std::string_view u : *updates) OnDelivered(u, now);
      return;
    }
  } else if (text.starts_with(kAckPrefix)) {
    std::optional<double> id = ScanNumberAfter(text, R"("updateId":)");
    if (id) {
      ++fast_frames_;
      if (verify) Verify(text, nullptr, id);
      OnAck(s, *id, text.find(R"("errorCode")") != std::string_view::npos,
            Clock::now());
      return;
    }
  }
  OnFrameSlow(s, text);
}

void LoadClient::Impl::Verify(std::string_view text,
                              const std::vector<std::string_view>* updates,
                              std::optional<double> update_id) {
  absl::StatusOr<inst::Event> event =
      inst::DecodeFrame(text, inst::Direction::kServerToClient);
  bool same = false;
  if (event.ok()) {
    if (const auto* m = std::get_if<inst::MessageEvent>(&*event)) {
      if (updates != nullptr) {
        if (const auto* add =
                std::get_if<inst::AddUpdatesMessage>(&m->message)) {
          same = add->updates.size() == updates->size() &&
                 std::equal(add->updates.begin(), add->updates.end(),
                            updates->begin());
        }
      } else if (const auto* ack =
                     std::get_if<inst::UpdatesReceivedMessage>(&m->message)) {
        same = ack->update_id == update_id;
      }
    }
  }
  if (!same) {
    ++result_.decode_mismatches;
    Note(absl::StrCat("fast path disagrees with the codec: ",
                      std::string(text.substr(0, 200))));
  }
}

void LoadClient::Impl::OnFrameSlow(Socket* s, std::string_view text) {
  absl::StatusOr<inst::Event> event =
      inst::DecodeFrame(text, inst::Direction::kServerToClient);
  if (!event.ok()) {
    ++result_.error_frames;
    Note(absl::StrCat("undecodable frame: ", std::string(text.substr(0, 200))));
    return;
  }
  if (std::holds_alternative<inst::ErrorEvent>(*event)) {
    ++result_.error_frames;
    Note(absl::StrCat("error event: ", std::string(text.substr(0, 200))));
    return;
  }
  const auto* m = std::get_if<inst::MessageEvent>(&*event);
  if (m == nullptr) return;
  if (const auto* login = std::get_if<inst::LoginResultMessage>(&m->message)) {
    if (s->state != State::kLoggingIn) return;
    if (!login->success) {
      return Fail(s, absl::StrCat("login refused: ", login->error_code));
    }
    s->state = State::kWatching;
    inst::WatchBranchMessage watch;
    watch.ns = s->ns;
    Send(s, watch);
    s->watch_results_due = 1;
    if (options_.casualos_session) {
      // What a CasualOS tab adds (spec 11, anonymous session): its
      // temporary player branch and the devices of the inst.
      inst::WatchBranchMessage player;
      player.ns = s->ns;
      player.ns.branch =
          absl::StrCat("default-player-", options_.run_id, "-c", s->index);
      player.temporary = true;
      Send(s, player);
      inst::WatchBranchDevicesMessage devices;
      devices.ns = s->ns;
      Send(s, devices);
      s->watch_results_due = 2;
    }
  } else if (const auto* result =
                 std::get_if<inst::WatchBranchResultMessage>(&m->message)) {
    if (s->state != State::kWatching) return;
    if (!result->success) {
      return Fail(s, absl::StrCat("watch refused: ", result->error_code));
    }
    if (--s->watch_results_due == 0) {
      s->state = State::kReady;
      ++ready_count_;
      ++inst_watchers_[s->inst];
      --connecting_;
      StartNextConnects();
    }
  } else if (const auto* add =
                 std::get_if<inst::AddUpdatesMessage>(&m->message)) {
    if (add->initial.value_or(false)) return;  // the (empty) snapshot
    Clock::time_point now = Clock::now();
    for (const std::string& u : add->updates) OnDelivered(u, now);
  } else if (const auto* ack =
                 std::get_if<inst::UpdatesReceivedMessage>(&m->message)) {
    OnAck(s, ack->update_id.value_or(-1), ack->error_code.has_value(),
          Clock::now());
  } else if (std::holds_alternative<inst::RateLimitExceededMessage>(
                 m->message)) {
    ++result_.error_frames;
    Note("rate_limit_exceeded");
  }
  // Presence (connected_to_branch, ...) needs nothing.
}

void LoadClient::Impl::OnDelivered(std::string_view update,
                                   Clock::time_point now) {
  auto it = pending_.find(absl::string_view(update.data(), update.size()));
  if (it == pending_.end()) {
    ++result_.unknown_updates;
    return;
  }
  Pending& p = it->second;
  if (p.measured) {
    fanout_ms_.push_back(static_cast<float>(Ms(now - p.sent)));
    ++result_.delivered;
    --outstanding_measured_;
  }
  if (--p.remaining <= 0) pending_.erase(it);
}

void LoadClient::Impl::OnAck(Socket* s, double update_id, bool error,
                             Clock::time_point now) {
  if (error) {
    ++result_.ack_errors;
    Note("updates_received with an errorCode");
  }
  for (auto it = s->acks.begin(); it != s->acks.end(); ++it) {
    if (it->update_id != update_id) continue;
    if (it->measured) {
      ack_ms_.push_back(static_cast<float>(Ms(now - it->sent)));
      ++result_.acked;
      --outstanding_measured_;
    }
    s->acks.erase(it);
    return;
  }
}

void LoadClient::Impl::Hold(double seconds) {
  io_.run_for(std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)));
}

void LoadClient::Impl::RunLoad() {
  if (options_.rate_per_client <= 0) return;
  period_s_ = 1 / options_.rate_per_client;
  const auto period = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(period_s_));
  Clock::time_point t0 = Clock::now() + std::chrono::milliseconds(200);
  measure_start_ = t0 + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(options_.warmup_s));
  send_end_ =
      measure_start_ + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(options_.duration_s));
  // Each client starts at a random phase so the sends spread evenly.
  std::mt19937_64 random(42);
  std::uniform_real_distribution<double> phase(0, 1);
  for (auto& s : sockets_) {
    if (s->state != State::kReady) continue;
    s->next_send = t0 + std::chrono::duration_cast<Clock::duration>(
                            period * phase(random));
    s->timer.expires_at(s->next_send);
    Socket* raw = s.get();
    s->timer.async_wait([this, raw](beast::error_code ec) {
      if (!ec) OnTimer(raw);
    });
  }
  running_ = true;
  std::optional<double> cpu_start, cpu_end, server_cpu_start;
  int64_t frames_at_start = 0;
  Clock::time_point wall_start;
  const Clock::time_point drain_end =
      send_end_ + std::chrono::duration_cast<Clock::duration>(
                      std::chrono::duration<double>(options_.drain_s));
  while (true) {
    io_.run_for(std::chrono::milliseconds(10));
    Clock::time_point now = Clock::now();
    if (!cpu_start && now >= measure_start_) {
      cpu_start = CpuSeconds();
      server_cpu_start = ProcessCpuSeconds(options_.server_pid);
      frames_at_start = frames_received_;
      wall_start = now;
    }
    if (!cpu_end && now >= send_end_) {
      cpu_end = CpuSeconds();
      const double wall = std::max(1e-3, Ms(now - wall_start) / 1000);
      result_.client_cpu = (*cpu_end - cpu_start.value_or(*cpu_end)) / wall;
      std::optional<double> server_cpu_end =
          ProcessCpuSeconds(options_.server_pid);
      if (server_cpu_start && server_cpu_end) {
        const double used = *server_cpu_end - *server_cpu_start;
        result_.server_cpu = used / wall;
        const int64_t frames = frames_received_ - frames_at_start;
        if (frames > 0) {
          result_.server_us_per_frame =
              used * 1e6 / static_cast<double>(frames);
        }
      }
    }
    if (now >= drain_end || (now >= send_end_ && outstanding_measured_ == 0)) {
      break;
    }
  }
  running_ = false;
  for (auto& s : sockets_) s->timer.cancel();

  result_.lost = result_.expected - result_.delivered;
  result_.fanout_p50 = Quantile(fanout_ms_, 0.50);
  result_.fanout_p90 = Quantile(fanout_ms_, 0.90);
  result_.fanout_p99 = Quantile(fanout_ms_, 0.99);
  result_.fanout_max = Quantile(fanout_ms_, 1.0);
  result_.ack_p50 = Quantile(ack_ms_, 0.50);
  result_.ack_p99 = Quantile(ack_ms_, 0.99);
  result_.send_lag_p99 = Quantile(lag_ms_, 0.99);
  result_.acked_per_s =
      static_cast<double>(result_.acked) / options_.duration_s;
  result_.delivered_per_s =
      static_cast<double>(result_.delivered) / options_.duration_s;
}

void LoadClient::Impl::OnTimer(Socket* s) {
  if (!running_ || s->state != State::kReady) return;
  if (s->next_send >= send_end_) return;
  Clock::time_point now = Clock::now();
  const bool measured = s->next_send >= measure_start_;
  if (measured) lag_ms_.push_back(static_cast<float>(Ms(now - s->next_send)));
  SendUpdate(s, now, measured);
  s->next_send += std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(period_s_));
  s->timer.expires_at(s->next_send);
  s->timer.async_wait([this, s](beast::error_code ec) {
    if (!ec) OnTimer(s);
  });
}

void LoadClient::Impl::SendUpdate(Socket* s, Clock::time_point now,
                                  bool measured) {
  if (s->next_update >= s->updates.size()) return;
  const std::string& update = s->updates[s->next_update++];
  const int receivers = inst_watchers_[s->inst] - 1;
  if (receivers > 0) {
    Pending& p = pending_[update];
    p.sent = now;
    p.remaining = receivers;
    p.measured = measured;
  }
  inst::AddUpdatesMessage add;
  add.ns = s->ns;
  add.updates.push_back(update);
  add.update_id = s->next_update_id++;
  s->acks.push_back(AckWait{*add.update_id, now, measured});
  if (measured) {
    ++result_.sent;
    result_.expected += receivers;
    outstanding_measured_ += receivers + 1;
  }
  Send(s, add);
}

LoadClient::LoadClient(LoadOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
LoadClient::~LoadClient() = default;
absl::Status LoadClient::Connect() { return impl_->Connect(); }
void LoadClient::Hold(double seconds) { impl_->Hold(seconds); }
void LoadClient::RunLoad() { impl_->RunLoad(); }
const LoadResult& LoadClient::result() const { return impl_->result(); }

}  // namespace auxsync::bench
