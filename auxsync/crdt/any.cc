// Copyright 2025 The auxsync Authors.

#include "auxsync/crdt/any.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <variant>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace auxsync::crdt {

struct Any::Node {
  std::variant<std::string, std::vector<uint8_t>, Array, Map> v;
};

namespace {

const std::string& EmptyString() {
  static const auto* s =
      new std::string();  // never destroyed: no exit-time order issue
  return *s;
}

}  // namespace

Any Any::MakeBool(bool b) {
  Any a(Kind::kBool);
  a.b_ = b;
  return a;
}

Any Any::MakeNumber(double d) {
  Any a(Kind::kNumber);
  a.d_ = d;
  return a;
}

Any Any::MakeBigInt(int64_t v) {
  Any a(Kind::kBigInt);
  a.i_ = v;
  return a;
}

Any Any::MakeString(std::string utf8) {
  Any a(Kind::kString);
  a.node_ = std::make_shared<const Node>(Node{std::move(utf8)});
  return a;
}

Any Any::MakeBytes(std::vector<uint8_t> bytes) {
  Any a(Kind::kBytes);
  a.node_ = std::make_shared<const Node>(Node{std::move(bytes)});
  return a;
}

Any Any::MakeArray(Array elements) {
  Any a(Kind::kArray);
  a.node_ = std::make_shared<const Node>(Node{std::move(elements)});
  return a;
}

bool IsArrayIndexKey(std::string_view key, uint32_t* index) {
  if (key.empty() || key.size() > 10) return false;
  if (key.size() > 1 && key[0] == '0') return false;
  uint64_t v = 0;
  for (char c : key) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > 4294967294ull) return false;
  *index = static_cast<uint32_t>(v);
  return true;
}

Any Any::MakeMap(Map entries) {
  // Fast path: no index keys and no duplicates is the common case.
  bool needs_work = false;
  uint32_t idx;
  for (const Entry& e : entries) {
    if (IsArrayIndexKey(e.first, &idx)) {
      needs_work = true;
      break;
    }
  }
  if (!needs_work && entries.size() > 1) {
    if (entries.size() <= 8) {
      for (size_t i = 0; i < entries.size() && !needs_work; ++i) {
        for (size_t j = 0; j < i; ++j) {
          if (entries[i].first == entries[j].first) {
            needs_work = true;
            break;
          }
        }
      }
    } else {
      absl::flat_hash_map<std::string_view, size_t> seen;
      for (const Entry& e : entries) {
        if (!seen.emplace(std::string_view(e.first), 0).second) {
          needs_work = true;
          break;
        }
      }
    }
  }
  if (needs_work) {
    // Deduplicate (first position, last value), then stable-partition the
    // index keys to the front in ascending numeric order.
    Map unique;
    unique.reserve(entries.size());
    absl::flat_hash_map<std::string, size_t> pos;
    for (Entry& e : entries) {
      auto [it, inserted] = pos.emplace(e.first, unique.size());
      if (inserted) {
        unique.push_back(std::move(e));
      } else {
        unique[it->second].second = std::move(e.second);
      }
    }
    std::vector<std::pair<uint32_t, size_t>> index_keys;
    std::vector<bool> is_index(unique.size(), false);
    for (size_t i = 0; i < unique.size(); ++i) {
      if (IsArrayIndexKey(unique[i].first, &idx)) {
        index_keys.emplace_back(idx, i);
        is_index[i] = true;
      }
    }
    std::sort(index_keys.begin(), index_keys.end());
    Map ordered;
    ordered.reserve(unique.size());
    for (auto& [k, i] : index_keys) ordered.push_back(std::move(unique[i]));
    for (size_t i = 0; i < unique.size(); ++i) {
      if (!is_index[i]) ordered.push_back(std::move(unique[i]));
    }
    entries = std::move(ordered);
  }
  Any a(Kind::kMap);
  a.node_ = std::make_shared<const Node>(Node{std::move(entries)});
  return a;
}

bool Any::bool_value() const {
  assert(kind_ == Kind::kBool);
  return kind_ == Kind::kBool && b_;
}

double Any::number() const {
  assert(kind_ == Kind::kNumber);
  return kind_ == Kind::kNumber ? d_ : 0;
}

int64_t Any::bigint() const {
  assert(kind_ == Kind::kBigInt);
  return kind_ == Kind::kBigInt ? i_ : 0;
}

const std::string& Any::string() const {
  assert(kind_ == Kind::kString);
  if (kind_ != Kind::kString) return EmptyString();
  return std::get<std::string>(node_->v);
}

const std::vector<uint8_t>& Any::bytes() const {
  static const auto* empty = new std::vector<uint8_t>();
  assert(kind_ == Kind::kBytes);
  if (kind_ != Kind::kBytes) return *empty;
  return std::get<std::vector<uint8_t>>(node_->v);
}

const Any::Array& Any::array() const {
  static const auto* empty = new Array();
  assert(kind_ == Kind::kArray);
  if (kind_ != Kind::kArray) return *empty;
  return std::get<Array>(node_->v);
}

const Any::Map& Any::map() const {
  static const auto* empty = new Map();
  assert(kind_ == Kind::kMap);
  if (kind_ != Kind::kMap) return *empty;
  return std::get<Map>(node_->v);
}

const Any* Any::Find(std::string_view key) const {
  if (kind_ != Kind::kMap) return nullptr;
  for (const Entry& e : map()) {
    if (e.first == key) return &e.second;
  }
  return nullptr;
}

bool Any::Truthy() const {
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNull:
      return false;
    case Kind::kBool:
      return b_;
    case Kind::kNumber:
      return !(d_ == 0 || std::isnan(d_));
    case Kind::kBigInt:
      return i_ != 0;
    case Kind::kString:
      return !string().empty();
    default:
      return true;
  }
}

bool operator==(const Any& a, const Any& b) {
  if (a.kind_ != b.kind_) return false;
  switch (a.kind_) {
    case Any::Kind::kUndefined:
    case Any::Kind::kNull:
      return true;
    case Any::Kind::kBool:
      return a.b_ == b.b_;
    case Any::Kind::kNumber:
      if (std::isnan(a.d_)) return std::isnan(b.d_);
      return a.d_ == b.d_ && std::signbit(a.d_) == std::signbit(b.d_);
    case Any::Kind::kBigInt:
      return a.i_ == b.i_;
    default:
      if (a.node_ == b.node_) return true;
      return a.node_->v == b.node_->v;
  }
}

namespace {

void AppendQuoted(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out->append(buf);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

void AppendDebug(const Any& v, std::string* out) {
  switch (v.kind()) {
    case Any::Kind::kUndefined:
      out->append("undefined");
      return;
    case Any::Kind::kNull:
      out->append("null");
      return;
    case Any::Kind::kBool:
      out->append(v.bool_value() ? "true" : "false");
      return;
    case Any::Kind::kNumber: {
      double d = v.number();
      if (std::isnan(d)) {
        out->append("NaN");
      } else if (std::isinf(d)) {
        out->append(d > 0 ? "Infinity" : "-Infinity");
      } else if (d == 0 && std::signbit(d)) {
        out->append("-0");
      } else {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", d);
        out->append(buf);
      }
      return;
    }
    case Any::Kind::kBigInt:
      absl::StrAppend(out, v.bigint(), "n");
      return;
    case Any::Kind::kString:
      AppendQuoted(v.string(), out);
      return;
    case Any::Kind::kBytes: {
      out->append("bytes(");
      for (uint8_t b : v.bytes()) {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%02x", b);
        out->append(buf);
      }
      out->push_back(')');
      return;
    }
    case Any::Kind::kArray: {
      out->push_back('[');
      bool first = true;
      for (const Any& e : v.array()) {
        if (!first) out->push_back(',');
        first = false;
        AppendDebug(e, out);
      }
      out->push_back(']');
      return;
    }
    case Any::Kind::kMap: {
      out->push_back('{');
      bool first = true;
      for (const auto& [k, e] : v.map()) {
        if (!first) out->push_back(',');
        first = false;
        AppendQuoted(k, out);
        out->push_back(':');
        AppendDebug(e, out);
      }
      out->push_back('}');
      return;
    }
  }
}

}  // namespace

std::string Any::DebugString() const {
  std::string out;
  AppendDebug(*this, &out);
  return out;
}

}  // namespace auxsync::crdt
