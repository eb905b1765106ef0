#include "auxsync/partitions/inst_updates.h"

#include <array>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#if defined(__x86_64__)
#include <tmmintrin.h>
#endif

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "auxsync/bots/bot.h"
#include "auxsync/bots/bot_actions.h"
#include "auxsync/crdt/encoding.h"
#include "auxsync/crdt/update_utils.h"
#include "auxsync/partitions/yjs_partition.h"

namespace auxsync::partitions {

using bots::Value;

Value InstUpdate::ToValue() const& { return InstUpdate(*this).ToValue(); }

Value InstUpdate::ToValue() && {
  Value out = Value::NewObject();
  out.as_object().Set("id", Value(id));
  out.as_object().Set("timestamp", Value(timestamp));
  out.as_object().Set("update", Value(std::move(update)));
  return out;
}

namespace {

// The `update` string of an InstUpdate value; errors as FromValue's.
absl::StatusOr<const Value*> UpdateTextOf(const Value& value,
                                          std::string_view path) {
  if (!value.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(path), ": must be an object {id, timestamp, update}"));
  }
  const Value& update = value["update"];
  if (!update.is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(path), ".update: must be a base64 string"));
  }
  return &update;
}

}  // namespace

absl::StatusOr<InstUpdate> InstUpdate::FromValue(const Value& value,
                                                 std::string_view path) {
  absl::StatusOr<const Value*> update = UpdateTextOf(value, path);
  if (!update.ok()) return update.status();
  InstUpdate out;
  out.update = (*update)->as_string();
  // id and timestamp are carried, not interpreted: absent or odd values
  // read as 0. So do the non-finite ones (a JSON number past the double
  // range): JSON.stringify would write them as null, which reads as 0.
  auto finite_or_zero = [](const Value& v) {
    return v.is_number() && std::isfinite(v.as_number()) ? v.as_number() : 0;
  };
  out.id = finite_or_zero(value["id"]);
  out.timestamp = finite_or_zero(value["timestamp"]);
  return out;
}

namespace {

// `read(item, item_path)` of each item of the array `value`, in order; the
// first error (naming its item) ends it.
template <typename T, typename Read>
absl::StatusOr<std::vector<T>> ReadEachUpdate(const Value& value,
                                              std::string_view path,
                                              Read read) {
  if (!value.is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(path), ": must be an array of updates"));
  }
  std::vector<T> out;
  const auto& items = value.as_array().items;
  out.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    absl::StatusOr<T> u =
        read(items[i], absl::StrCat(std::string(path), "[", i, "]"));
    if (!u.ok()) return u.status();
    out.push_back(std::move(*u));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<InstUpdate>> InstUpdatesFromValue(
    const Value& value, std::string_view path) {
  return ReadEachUpdate<InstUpdate>(value, path, InstUpdate::FromValue);
}

absl::StatusOr<std::vector<Value>> InstUpdateTextsFromValue(
    const Value& value, std::string_view path) {
  return ReadEachUpdate<Value>(
      value, path,
      [](const Value& item,
         std::string_view item_path) -> absl::StatusOr<Value> {
        absl::StatusOr<const Value*> u = UpdateTextOf(item, item_path);
        if (!u.ok()) return u.status();
        return **u;
      });
}

Value InstUpdatesToValue(std::span<const InstUpdate> updates) {
  std::vector<Value> items;
  for (const InstUpdate& u : updates) items.push_back(u.ToValue());
  return Value(std::make_shared<bots::Array>(std::move(items)));
}

double NowMs() {
  return static_cast<double>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// The base64 loops load and store words and swap them to big-endian order
// with a byte swap, which is only right on a little-endian host.
static_assert(std::endian::native == std::endian::little,
              "ToBase64/FromBase64 assume a little-endian host");

namespace {

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The two characters of every 12-bit group, first one in the low byte
// (8 KiB): a 3-byte group is two lookups instead of four 6-bit steps.
constexpr auto kBase64Pairs = [] {
  std::array<uint16_t, 4096> t{};
  for (uint32_t i = 0; i < t.size(); ++i) {
    t[i] = static_cast<uint16_t>(
        static_cast<uint8_t>(kBase64Alphabet[i >> 6]) |
        (static_cast<uint8_t>(kBase64Alphabet[i & 63]) << 8));
  }
  return t;
}();

// Per position k in a 4-character group, the character's 6 bits already
// shifted to their place in the group's 24 bits; characters outside the
// standard alphabet (padding and web-safe ones included) map to a value
// with bit 31 set.
constexpr auto kBase64Values = [] {
  std::array<std::array<uint32_t, 256>, 4> t{};
  for (auto& row : t) row.fill(0x80000000u);
  for (uint32_t i = 0; i < 64; ++i) {
    const auto c = static_cast<uint8_t>(kBase64Alphabet[i]);
    for (uint32_t k = 0; k < 4; ++k) t[k][c] = i << (18 - 6 * k);
  }
  return t;
}();

// The 24 bits of the group at `in`, bit 31 set if a character is not in
// the standard alphabet.
inline uint32_t Base64Group(const unsigned char* in) {
  return kBase64Values[0][in[0]] | kBase64Values[1][in[1]] |
         kBase64Values[2][in[2]] | kBase64Values[3][in[3]];
}

#if defined(__x86_64__)
constexpr size_t kNotCanonical = ~size_t{0};

// Sixteen characters (four groups) a step with SSSE3, for the groups before
// `limit` (each step's 16-byte store must fit in `out`: callers pass at most
// the group count - 2); returns the groups decoded (a multiple of 4), or
// kNotCanonical when a character is outside the standard alphabet ('='
// included). Each character's class comes from two 16-entry bit tables
// indexed by its high and low nibbles (a character is valid when they share
// no bit), its 6-bit value from adding an offset chosen by the high nibble
// ('/' shares '+''s nibble and is told apart by a compare); multiply-adds
// then join each group's four 6-bit values into 24 bits, and a shuffle writes
// them big-endian. Only called when the CPU has SSSE3.
__attribute__((target("ssse3"))) size_t FromBase64Ssse3(const unsigned char* in,
                                                        size_t limit,
                                                        uint8_t* out) {
  // Bits: 0x01 '+' '/' row (high nibble 2), 0x02 digits (3), 0x04 first
  // half of the letter rows (4, 6), 0x08 second half (5, 7), 0x10 never
  // valid (high nibble 0, 1, 8-15).
  const __m128i by_hi =
      _mm_setr_epi8(0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10,
                    0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
  // For each low nibble, the rows in which it is not in the alphabet: all
  // but 11 ('+') and 15 ('/') in row 2, 10-15 among the digits, 0 ('@',
  // '`') in the first half of the letters, 11-15 (past 'Z', 'z') in the
  // second; 0x10 always.
  const __m128i by_lo =
      _mm_setr_epi8(0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                    0x13, 0x1A, 0x1B, 0x1B, 0x1B, 0x1A);
  // Value - character per high nibble (index 1 is '/': nibble 2 minus 1).
  const __m128i shift =
      _mm_setr_epi8(0, 63 - '/', 62 - '+', 52 - '0', 0 - 'A', 0 - 'A', 26 - 'a',
                    26 - 'a', 0, 0, 0, 0, 0, 0, 0, 0);
  const __m128i nibble = _mm_set1_epi8(0x0F);
  const __m128i pack =
      _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
  size_t g = 0;
  for (; g + 4 <= limit; g += 4) {
    // The text is megabytes long and usually cold: asking for it 2 KiB
    // ahead halves a cold decode (3.8 MB: 0.63-0.79 -> 0.42-0.44 ms); a
    // request past the end is only a hint.
    _mm_prefetch(reinterpret_cast<const char*>(in + 4 * g + 2048), _MM_HINT_T0);
    const __m128i c =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 4 * g));
    const __m128i hi = _mm_and_si128(_mm_srli_epi32(c, 4), nibble);
    const __m128i lo = _mm_and_si128(c, nibble);
    const __m128i bad =
        _mm_and_si128(_mm_shuffle_epi8(by_hi, hi), _mm_shuffle_epi8(by_lo, lo));
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(bad, _mm_setzero_si128())) != 0xFFFF) {
      return kNotCanonical;
    }
    const __m128i slash = _mm_cmpeq_epi8(c, _mm_set1_epi8('/'));
    const __m128i values =
        _mm_add_epi8(c, _mm_shuffle_epi8(shift, _mm_add_epi8(hi, slash)));
    // Pairs of 6-bit values -> 12 bits, then pairs of those -> 24 bits.
    const __m128i twelve =
        _mm_maddubs_epi16(values, _mm_set1_epi32(0x01400140));
    const __m128i group = _mm_madd_epi16(twelve, _mm_set1_epi32(0x00011000));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 3 * g),
                     _mm_shuffle_epi8(group, pack));
  }
  return g;
}
#endif

// Canonical standard base64 (length a multiple of 4, at most two '=' at
// the end, zero padding bits) decoded into the `n` bytes alloc(n) gives;
// false (with them in any state) for anything else, which the general
// decoder then judges.
template <typename Alloc>
bool DecodeCanonicalBase64(std::string_view text, Alloc&& alloc) {
  if (text.size() % 4 != 0) return false;
  if (text.empty()) {
    alloc(0);
    return true;
  }
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  const size_t groups = text.size() / 4;
  const size_t pad = in[text.size() - 1] != '='   ? 0
                     : in[text.size() - 2] != '=' ? 1
                                                  : 2;
  uint8_t* o = alloc(groups * 3 - pad);
  size_t g = 0;
#if defined(__x86_64__)
  // Four groups a step while a 16-byte store stays inside `out` and the
  // last group is left to the checks below.
  if (groups >= 6 && __builtin_cpu_supports("ssse3")) {
    g = FromBase64Ssse3(in, groups - 2, o);
    if (g == kNotCanonical) return false;
  }
#endif
  // All groups but the last: each written as 4 bytes (the fourth is
  // overwritten by the next group).
  for (; g + 1 < groups; ++g) {
    const uint32_t n = Base64Group(in + 4 * g);
    if (n >> 31) return false;
    const uint32_t be = __builtin_bswap32(n << 8);
    std::memcpy(o + 3 * g, &be, 4);
  }
  const unsigned char* last = in + 4 * (groups - 1);
  const unsigned char tail[4] = {
      last[0], last[1], pad == 2 ? static_cast<unsigned char>('A') : last[2],
      pad >= 1 ? static_cast<unsigned char>('A') : last[3]};
  const uint32_t n = Base64Group(tail);
  if (n >> 31) return false;
  // Bits of the padded positions must be zero to be canonical.
  if ((pad == 2 && (n & 0xFFFF) != 0) || (pad == 1 && (n & 0xFF) != 0)) {
    return false;
  }
  uint8_t* e = o + 3 * (groups - 1);
  e[0] = static_cast<uint8_t>(n >> 16);
  if (pad < 2) e[1] = static_cast<uint8_t>(n >> 8);
  if (pad < 1) e[2] = static_cast<uint8_t>(n);
  return true;
}

#if defined(__x86_64__)
// Twelve bytes a step with SSSE3 while sixteen can be read (the classic
// shuffle / multiply / table-shuffle form: each 3-byte group spread over a
// 32-bit lane, its four 6-bit indices moved into the lane's bytes, then
// mapped to characters by range offsets); returns the bytes consumed (a
// multiple of 3). Only called when the CPU has SSSE3.
__attribute__((target("ssse3"))) size_t ToBase64Ssse3(const uint8_t* in,
                                                      size_t n, char* out) {
  const __m128i spread =
      _mm_set_epi8(10, 11, 9, 10, 7, 8, 6, 7, 4, 5, 3, 4, 1, 2, 0, 1);
  const __m128i offsets = _mm_setr_epi8(
      'a' - 26, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
      '0' - 52, '0' - 52, '0' - 52, '0' - 52, '+' - 62, '/' - 63, 'A', 0, 0);
  size_t i = 0;
  for (; i + 16 <= n; i += 12, out += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    v = _mm_shuffle_epi8(v, spread);  // lane = b, a, c, b of group a b c
    const __m128i hi =
        _mm_mulhi_epu16(_mm_and_si128(v, _mm_set1_epi32(0x0fc0fc00)),
                        _mm_set1_epi32(0x04000040));
    const __m128i lo =
        _mm_mullo_epi16(_mm_and_si128(v, _mm_set1_epi32(0x003f03f0)),
                        _mm_set1_epi32(0x01000010));
    const __m128i idx = _mm_or_si128(hi, lo);  // 0..63 per byte
    // Range of each index: 0-25 -> 13 ('A'), 26-51 -> 0, 52-61 -> 1..10,
    // 62 -> 11, 63 -> 12.
    __m128i range = _mm_subs_epu8(idx, _mm_set1_epi8(51));
    range = _mm_or_si128(range,
                         _mm_and_si128(_mm_cmpgt_epi8(_mm_set1_epi8(26), idx),
                                       _mm_set1_epi8(13)));
    const __m128i chars = _mm_add_epi8(_mm_shuffle_epi8(offsets, range), idx);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), chars);
  }
  return i;
}
#endif

}  // namespace

std::string ToBase64(std::span<const uint8_t> bytes) {
  const size_t n = bytes.size();
  std::string out((n + 2) / 3 * 4, '\0');
  const uint8_t* in = bytes.data();
  char* o = out.data();
  size_t i = 0;
#if defined(__x86_64__)
  if (n >= 16 && __builtin_cpu_supports("ssse3")) {
    i = ToBase64Ssse3(in, n, o);
    o += i / 3 * 4;
  }
#endif
  // Six bytes (two groups) a step, read as one big-endian 8-byte word.
  for (; i + 8 <= n; i += 6, o += 8) {
    uint64_t w;
    std::memcpy(&w, in + i, 8);
    w = __builtin_bswap64(w);
    const uint64_t a = w >> 40, b = (w >> 16) & 0xFFFFFF;
    const uint64_t chars = uint64_t{kBase64Pairs[a >> 12]} |
                           uint64_t{kBase64Pairs[a & 0xFFF]} << 16 |
                           uint64_t{kBase64Pairs[b >> 12]} << 32 |
                           uint64_t{kBase64Pairs[b & 0xFFF]} << 48;
    std::memcpy(o, &chars, 8);
  }
  for (; i + 3 <= n; i += 3, o += 4) {
    const uint32_t g =
        uint32_t{in[i]} << 16 | uint32_t{in[i + 1]} << 8 | uint32_t{in[i + 2]};
    const uint32_t chars = uint32_t{kBase64Pairs[g >> 12]} |
                           uint32_t{kBase64Pairs[g & 0xFFF]} << 16;
    std::memcpy(o, &chars, 4);
  }
  if (i < n) {
    const uint32_t g =
        uint32_t{in[i]} << 16 | (i + 1 < n ? uint32_t{in[i + 1]} << 8 : 0);
    o[0] = kBase64Alphabet[g >> 18];
    o[1] = kBase64Alphabet[(g >> 12) & 63];
    o[2] = i + 1 < n ? kBase64Alphabet[(g >> 6) & 63] : '=';
    o[3] = '=';
  }
  return out;
}

absl::StatusOr<std::vector<uint8_t>> FromBase64(std::string_view text) {
  if (text.size() % 4 != 0) {
    return absl::InvalidArgumentError(
        "Invalid string. Length must be a multiple of 4");
  }
  // Canonical text (what every encoder writes) is decoded here; the rest
  // (web-safe characters, odd padding, non-zero padding bits, bad
  // characters) by the checks and absl's decoders below.
  std::vector<uint8_t> bytes;
  if (DecodeCanonicalBase64(text, [&](size_t n) {
        bytes.resize(n);
        return bytes.data();
      })) {
    return bytes;
  }
  for (char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=' ||
              c == '-' || c == '_';
    if (!ok) return absl::InvalidArgumentError("invalid base64 character");
  }
  std::string out;
  absl::string_view in(text.data(), text.size());
  if (!absl::Base64Unescape(in, &out) &&
      !absl::WebSafeBase64Unescape(in, &out)) {
    return absl::InvalidArgumentError("invalid base64 string");
  }
  return std::vector<uint8_t>(out.begin(), out.end());
}

absl::StatusOr<Base64Bytes> FromBase64Uninitialized(std::string_view text) {
  Base64Bytes bytes;
  if (DecodeCanonicalBase64(text, [&](size_t n) {
        bytes.Allocate(n);
        return bytes.data();
      })) {
    return bytes;
  }
  // The rare text of the general decoder, copied.
  absl::StatusOr<std::vector<uint8_t>> general = FromBase64(text);
  if (!general.ok()) return general.status();
  bytes.Allocate(general->size());
  if (!general->empty()) {
    std::memcpy(bytes.data(), general->data(), general->size());
  }
  return bytes;
}

namespace {

// A fresh partition as PartitionUtils makes them ({type:"yjs"}).
std::unique_ptr<YjsPartition> FreshPartition() {
  return std::make_unique<YjsPartition>(YjsPartitionConfig{});
}

// applyUpdate of each update (plain, no origin), as PartitionUtils does.
absl::Status ApplyAll(YjsPartition& partition,
                      std::span<const InstUpdate> updates) {
  for (size_t i = 0; i < updates.size(); ++i) {
    absl::StatusOr<Base64Bytes> bytes =
        FromBase64Uninitialized(updates[i].update);
    if (!bytes.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("updates[", i, "]: ", bytes.status().message()));
    }
    absl::Status s = crdt::ApplyUpdate(partition.doc(), bytes->span());
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("updates[", i, "]: ", s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::optional<InstUpdate>> ConstructInitializationUpdate(
    const std::vector<Value>& bots, double timestamp) {
  std::unique_ptr<YjsPartition> partition = FreshPartition();
  std::optional<InstUpdate> result;
  crdt::Subscription sub = partition->doc().OnUpdate(
      [&](std::span<const uint8_t> update, const crdt::Transaction&) {
        result = InstUpdate{0, timestamp, ToBase64(update)};
      });
  std::vector<Value> actions;
  for (const Value& b : bots) {
    actions.push_back(bots::BotAdded(
        bots::CreateBot(b["id"].is_string() ? b["id"].as_string()
                                            : bots::ConvertToString(b["id"]),
                        b["tags"])));
  }
  absl::StatusOr<std::vector<Value>> applied = partition->ApplyEvents(actions);
  if (!applied.ok()) return applied.status();
  return result;
}

absl::StatusOr<Value> GetStateFromUpdates(std::span<const InstUpdate> updates) {
  std::unique_ptr<YjsPartition> partition = FreshPartition();
  if (absl::Status s = ApplyAll(*partition, updates); !s.ok()) return s;
  return partition->state();
}

absl::StatusOr<std::optional<InstUpdate>>
ConstructInitializationUpdateFromPreviousUpdates(
    std::span<const InstUpdate> previous, const std::vector<Value>& bots,
    double timestamp) {
  std::unique_ptr<YjsPartition> partition = FreshPartition();
  if (absl::Status s = ApplyAll(*partition, previous); !s.ok()) return s;
  const Value& state = partition->state();
  std::vector<std::string> remaining = state.as_object().Keys();
  absl::flat_hash_set<std::string> targeted;
  std::vector<Value> actions;
  for (const Value& b : bots) {
    std::string id = b["id"].is_string() ? b["id"].as_string()
                                         : bots::ConvertToString(b["id"]);
    const Value& old_bot = state[id];
    if (bots::IsTruthy(old_bot)) {
      Value tags = b["tags"].is_object()
                       ? Value(b["tags"].as_object().ShallowCopy())
                       : Value::NewObject();
      const Value& old_tags = old_bot["tags"];
      if (old_tags.is_object()) {
        for (const std::string& tag : old_tags.as_object().Keys()) {
          if (!bots::HasValue(tags[tag]))
            tags.as_object().Set(tag, Value(nullptr));
        }
      }
      Value update = Value::NewObject();
      update.as_object().Set("tags", std::move(tags));
      actions.push_back(bots::BotUpdated(id, std::move(update)));
    } else {
      actions.push_back(bots::BotAdded(bots::CreateBot(id, b["tags"])));
    }
    targeted.insert(id);
  }
  for (const std::string& id : remaining) {
    if (!targeted.contains(id)) actions.push_back(bots::BotRemoved(id));
  }
  std::optional<InstUpdate> result;
  crdt::Subscription sub = partition->doc().OnUpdate(
      [&](std::span<const uint8_t>, const crdt::Transaction&) {
        result = InstUpdate{0, timestamp, partition->EncodeStateBase64()};
      });
  absl::StatusOr<std::vector<Value>> applied = partition->ApplyEvents(actions);
  if (!applied.ok()) return applied.status();
  return result;
}

absl::StatusOr<std::optional<InstUpdate>> UpdateToNewStateUpdate(
    std::span<const InstUpdate> previous, std::span<const InstUpdate> new_state,
    double timestamp) {
  absl::StatusOr<Value> state = GetStateFromUpdates(new_state);
  if (!state.ok()) return state.status();
  return ConstructInitializationUpdateFromPreviousUpdates(
      previous, bots::GetActiveObjects(*state), timestamp);
}

absl::StatusOr<InstUpdate> MergeInstUpdates(std::span<const InstUpdate> updates,
                                            std::optional<double> id,
                                            double timestamp) {
  std::vector<std::vector<uint8_t>> decoded;
  for (size_t i = 0; i < updates.size(); ++i) {
    absl::StatusOr<std::vector<uint8_t>> bytes = FromBase64(updates[i].update);
    if (!bytes.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("updates[", i, "]: ", bytes.status().message()));
    }
    decoded.push_back(std::move(*bytes));
  }
  std::vector<crdt::BytesView> views(decoded.begin(), decoded.end());
  absl::StatusOr<crdt::Bytes> merged = crdt::MergeUpdates(views);
  if (!merged.ok()) return merged.status();
  return InstUpdate{id.value_or(static_cast<double>(updates.size())), timestamp,
                    ToBase64(*merged)};
}

}  // namespace auxsync::partitions
