// Copyright 2025 The auxsync Authors.
//
// The fast paths of the update writers against their plain forms: the
// branch-free varUint store, the encoder's growth (room zeroed in steps,
// reallocation copying only written bytes), and the ASCII-first UTF-16 ->
// UTF-8 conversion (against WriteUtf16AsUtf8, which the differential tests
// check against TextEncoder).

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "auxsync/crdt/id.h"
#include "auxsync/crdt/internal/lib0_decoder.h"
#include "auxsync/crdt/internal/lib0_encoder.h"
#include "auxsync/crdt/internal/utf16_ascii.h"
#include "auxsync/crdt/internal/utf8.h"
#include "gtest/gtest.h"

namespace auxsync::crdt::internal {
namespace {

using Bytes = std::vector<uint8_t>;

// lib0's varUint, one byte at a time.
Bytes PlainVarUint(uint64_t v) {
  Bytes b;
  while (v > 0x7f) {
    b.push_back(static_cast<uint8_t>(0x80 | (v & 0x7f)));
    v >>= 7;
  }
  b.push_back(static_cast<uint8_t>(v));
  return b;
}

TEST(EncodeFastPaths, PutVarUintMatchesLib0AtEverySizeBoundary) {
  std::vector<uint64_t> values;
  for (int bits = 0; bits <= 63; ++bits) {
    const uint64_t p = uint64_t{1} << bits;
    values.push_back(p - 1);
    values.push_back(p);
    values.push_back(p + 1);
  }
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) values.push_back(rng() >> (rng() % 64));
  for (uint64_t v : values) {
    const Bytes want = PlainVarUint(v);
    uint8_t room[16];
    std::fill(std::begin(room), std::end(room), 0xEE);
    uint8_t* end = PutVarUint(room, v);
    ASSERT_EQ(Bytes(room, end), want) << v;
    EXPECT_EQ(VarUintSize(v), want.size()) << v;
    std::fill(std::begin(room), std::end(room), 0xEE);
    end = PutVarUintExact(room, v);
    ASSERT_EQ(Bytes(room, end), want) << v;
    EXPECT_EQ(room[want.size()], 0xEE) << "exact form wrote past its end";
    Lib0Encoder e;
    e.WriteVarUint(v);
    EXPECT_EQ(e.Take(), want) << v;
  }
}

// lib0's sign-magnitude varInt, one byte at a time.
Bytes PlainVarIntSM(bool negative, uint64_t m) {
  Bytes b;
  b.push_back(static_cast<uint8_t>((m > 0x3f ? 0x80 : 0) |
                                   (negative ? 0x40 : 0) | (m & 0x3f)));
  m >>= 6;
  while (m > 0) {
    b.push_back(static_cast<uint8_t>((m > 0x7f ? 0x80 : 0) | (m & 0x7f)));
    m >>= 7;
  }
  return b;
}

TEST(EncodeFastPaths, PutVarIntSMMatchesLib0AtEverySizeBoundary) {
  std::vector<uint64_t> values;
  for (int bits = 0; bits <= 63; ++bits) {
    const uint64_t p = uint64_t{1} << bits;
    values.push_back(p - 1);
    values.push_back(p);
    values.push_back(p + 1);
  }
  std::mt19937_64 rng(5);
  for (int i = 0; i < 2000; ++i) values.push_back(rng() >> (rng() % 64));
  for (uint64_t m : values) {
    for (bool negative : {false, true}) {
      uint8_t room[16];
      uint8_t* end = PutVarIntSM(room, negative, m);
      ASSERT_EQ(Bytes(room, end), PlainVarIntSM(negative, m)) << m;
    }
  }
  // -0 (a run of zeros in the v2 columns) and the decoder's reading.
  Lib0Encoder e;
  e.WriteVarIntSignMagnitude(true, 0);
  EXPECT_EQ(e.Take(), (Bytes{0x40}));
  constexpr int64_t kMax = static_cast<int64_t>(kMaxSafeInteger);
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{63}, int64_t{-64},
                    int64_t{1} << 20, -(int64_t{1} << 27), kMax, -kMax}) {
    e.WriteVarInt(v);
    Bytes b = e.Take();
    Lib0Decoder d(b);
    EXPECT_EQ(d.ReadVarInt(), v);
    EXPECT_TRUE(d.ok());
  }
}

TEST(EncodeFastPaths, EncoderGrowthKeepsEveryByte) {
  // Writes across many growth steps (with and without a reservation) and
  // through Room/Commit, then compares with the same bytes built plainly.
  for (size_t reserve : {size_t{0}, size_t{10}, size_t{5000}}) {
    Lib0Encoder e;
    e.Reserve(reserve);
    Bytes want;
    std::mt19937 rng(static_cast<uint32_t>(reserve));
    for (int i = 0; i < 20000; ++i) {
      switch (rng() % 3) {
        case 0: {
          const uint64_t v = rng() >> (rng() % 32);
          e.WriteVarUint(v);
          const Bytes b = PlainVarUint(v);
          want.insert(want.end(), b.begin(), b.end());
          break;
        }
        case 1: {
          const size_t n = rng() % 300;
          uint8_t* p = e.Room(n + 10);
          ASSERT_GE(e.room(), n + 10);
          for (size_t k = 0; k < n; ++k) {
            p[k] = static_cast<uint8_t>(i + k);
            want.push_back(static_cast<uint8_t>(i + k));
          }
          e.Commit(n);
          break;
        }
        default:
          e.WriteUint8(static_cast<uint8_t>(i));
          want.push_back(static_cast<uint8_t>(i));
      }
    }
    ASSERT_EQ(e.size(), want.size());
    EXPECT_TRUE(std::equal(want.begin(), want.end(), e.view().begin()));
    EXPECT_EQ(e.Take(), want);
    EXPECT_TRUE(e.empty());
    // The encoder is usable again after Take.
    e.WriteVarUint(300);
    EXPECT_EQ(e.Take(), PlainVarUint(300));
  }
}

// Random UTF-16 text: mostly ASCII, with Latin, BMP, pairs and lone
// surrogates placed anywhere (also at step boundaries and in the last,
// overlapping step).
std::u16string RandomText(std::mt19937& rng, size_t n) {
  std::u16string s;
  const int mix = static_cast<int>(rng() % 4);
  while (s.size() < n) {
    const uint32_t r = rng() % 100;
    if (mix == 0 || r < 80) {
      s.push_back(static_cast<char16_t>(0x20 + rng() % 0x5f));
    } else if (r < 85) {
      s.push_back(static_cast<char16_t>(0x80 + rng() % 0x780));
    } else if (r < 90) {
      s.push_back(static_cast<char16_t>(0xE000 + rng() % 0x1000));
    } else if (r < 95) {
      s.push_back(static_cast<char16_t>(0xD800 + rng() % 0x400));
      s.push_back(static_cast<char16_t>(0xDC00 + rng() % 0x400));
    } else {
      s.push_back(static_cast<char16_t>(0xD800 + rng() % 0x800));
    }
  }
  s.resize(n);
  return s;
}

TEST(EncodeFastPaths, AsciiFirstConversionMatchesTheGeneralOne) {
  std::mt19937 rng(11);
  for (int i = 0; i < 20000; ++i) {
    const std::u16string s = RandomText(rng, rng() % 70);
    Bytes want(3 * s.size() + 1);
    want.resize(
        static_cast<size_t>(WriteUtf16AsUtf8(s, want.data()) - want.data()));
    ASSERT_EQ(want.size(), Utf8LengthOfUtf16(s));
    // Exactly 3 units of room per unit: the fast path may not write more.
    Bytes got(3 * s.size() + 8, 0xEE);
    uint8_t* end = WriteUtf16AsUtf8Fast(s, got.data());
    ASSERT_EQ(Bytes(got.data(), end), want) << i << " size " << s.size();
    for (size_t k = 3 * s.size(); k < got.size(); ++k) {
      ASSERT_EQ(got[k], 0xEE) << "wrote past the room, size " << s.size();
    }
  }
}

}  // namespace
}  // namespace auxsync::crdt::internal
