#include "auxsync/crdt/testing/vector_runner.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <exception>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/encoding.h"
#include "auxsync/crdt/events.h"
#include "auxsync/crdt/relative_position.h"
#include "auxsync/crdt/types.h"
#include "auxsync/crdt/update_utils.h"

namespace auxsync::crdt::testing {
namespace {

using Bytes = std::vector<uint8_t>;
using engine::TypeImpl;
using engine::TypeKind;

// Aborts the current step. Thrown and caught only inside this file (the
// replay turns it into the step's "error"); nlohmann's own exceptions on
// malformed steps are handled the same way.
class StepFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void Fail(const std::string& message) {
  throw StepFailure(message);
}
[[noreturn]] void Unsupported(const std::string& what) {
  Fail("unsupported op " + what);
}

// ---------------------------------------------------------------------------
// base64 (standard alphabet, padded)

constexpr char kB64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64Encode(std::span<const uint8_t> in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n =
        (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    out += kB64[n >> 18];
    out += kB64[(n >> 12) & 63];
    out += kB64[(n >> 6) & 63];
    out += kB64[n & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint32_t{in[i]} << 16;
    out += kB64[n >> 18];
    out += kB64[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8);
    out += kB64[n >> 18];
    out += kB64[(n >> 12) & 63];
    out += kB64[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

Bytes Base64Decode(std::string_view s) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (s.size() % 4 != 0)
    Fail(absl::StrCat("bad base64 (length ", s.size(), ")"));
  Bytes out;
  for (size_t i = 0; i < s.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s[i + k];
      if (c == '=' && i + 4 == s.size() && k >= 2) {
        v[k] = 0;
        ++pad;
      } else {
        v[k] = val(c);
        if (v[k] < 0 || pad > 0) Fail("bad base64 character");
      }
    }
    uint32_t n = (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) |
                 (uint32_t(v[2]) << 6) | uint32_t(v[3]);
    out.push_back(static_cast<uint8_t>(n >> 16));
    if (pad < 2) out.push_back(static_cast<uint8_t>((n >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<uint8_t>(n & 0xff));
  }
  return out;
}

// ---------------------------------------------------------------------------
// UTF-8 <-> UTF-16 (the JSON parser guarantees valid UTF-8 input)

std::u16string Utf8ToUtf16(std::string_view s) {
  std::u16string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto b = static_cast<uint8_t>(s[i]);
    uint32_t cp;
    int n;
    if (b < 0x80) {
      cp = b;
      n = 1;
    } else if ((b >> 5) == 6) {
      cp = b & 0x1f;
      n = 2;
    } else if ((b >> 4) == 14) {
      cp = b & 0x0f;
      n = 3;
    } else {
      cp = b & 0x07;
      n = 4;
    }
    if (i + n > s.size()) Fail("truncated UTF-8 in a vector string");
    for (int k = 1; k < n; ++k)
      cp = (cp << 6) | (static_cast<uint8_t>(s[i + k]) & 0x3f);
    i += n;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out += static_cast<char16_t>(0xd800 + (cp >> 10));
      out += static_cast<char16_t>(0xdc00 + (cp & 0x3ff));
    } else {
      out += static_cast<char16_t>(cp);
    }
  }
  return out;
}

// Lone surrogates become U+FFFD (what TextEncoder writes).
std::string Utf16ToUtf8(std::u16string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    uint32_t cp = s[i];
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < s.size() &&
        s[i + 1] >= 0xdc00 && s[i + 1] <= 0xdfff) {
      cp = 0x10000 + ((cp - 0xd800) << 10) + (s[i + 1] - 0xdc00);
      ++i;
    } else if (cp >= 0xd800 && cp <= 0xdfff) {
      cp = 0xfffd;
    }
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Tagged JSON <-> engine values (README "Values")

bool IsTag(const Json& v) { return v.is_object() && v.contains("$type"); }

JsValue AnyFromTagged(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return JsValue::MakeNull();
    case Json::value_t::boolean:
      return JsValue::MakeBool(v.get<bool>());
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return JsValue::MakeNumber(v.get<double>());
    case Json::value_t::string:
      return JsValue::MakeString(v.get<std::string>());
    case Json::value_t::array: {
      std::vector<JsValue> items;
      for (const Json& x : v) items.push_back(AnyFromTagged(x));
      return JsValue::MakeArray(std::move(items));
    }
    case Json::value_t::object: {
      if (IsTag(v)) {
        const std::string type = v.at("$type").get<std::string>();
        if (type == "undefined") return JsValue::MakeUndefined();
        if (type == "number") {
          const std::string s = v.at("value").get<std::string>();
          if (s == "NaN") return JsValue::MakeNumber(std::nan(""));
          if (s == "Infinity") return JsValue::MakeNumber(INFINITY);
          if (s == "-Infinity") return JsValue::MakeNumber(-INFINITY);
          if (s == "-0") return JsValue::MakeNumber(-0.0);
          Fail(absl::StrCat("bad number tag ", s));
        }
        if (type == "bigint") {
          const std::string s = v.at("value").get<std::string>();
          size_t used = 0;
          long long n = std::stoll(s, &used);
          if (used != s.size()) Fail(absl::StrCat("bad bigint ", s));
          return JsValue::MakeBigInt(n);
        }
        if (type == "bytes") {
          Bytes b = Base64Decode(v.at("base64").get<std::string>());
          return JsValue::MakeBytes(std::vector<uint8_t>(b.begin(), b.end()));
        }
        Fail(
            absl::StrCat("a ", type, " cannot be nested inside a plain value"));
      }
      JsValue::Map entries;
      for (const auto& [k, x] : v.items())
        entries.emplace_back(k, AnyFromTagged(x));
      return JsValue::MakeMap(std::move(entries));
    }
    default:
      Fail("unsupported JSON value");
  }
}

Input InputFromTagged(const Json& v) {
  if (!IsTag(v)) return Input(AnyFromTagged(v));
  const std::string type = v.at("$type").get<std::string>();
  if (type == "ymap") {
    std::vector<std::pair<std::string, Input>> entries;
    if (v.contains("entries")) {
      for (const Json& e : v.at("entries")) {
        entries.emplace_back(e.at(0).get<std::string>(),
                             InputFromTagged(e.at(1)));
      }
    }
    return Input::Map(std::move(entries));
  }
  if (type == "yarray") {
    std::vector<Input> items;
    if (v.contains("items")) {
      for (const Json& x : v.at("items")) items.push_back(InputFromTagged(x));
    }
    return Input::Array(std::move(items));
  }
  if (type == "ytext") {
    return Input::Text(v.contains("text")
                           ? Utf8ToUtf16(v.at("text").get<std::string>())
                           : u"");
  }
  Input in;
  if (type == "yxmlfragment") {
    in.kind = Input::Kind::kXmlFragment;
  } else if (type == "yxmlelement") {
    in.kind = Input::Kind::kXmlElement;
    in.name = v.at("nodeName").get<std::string>();
  } else if (type == "yxmltext") {
    in.kind = Input::Kind::kXmlText;
    if (v.contains("text"))
      in.text = Utf8ToUtf16(v.at("text").get<std::string>());
  } else if (type == "yxmlhook") {
    in.kind = Input::Kind::kXmlHook;
    in.name = v.at("hookName").get<std::string>();
  } else if (type == "ydoc") {
    // Subdocument: guid in `name`, options (e.g. {gc:false}) in `value`.
    in.kind = Input::Kind::kDoc;
    in.name = v.at("guid").get<std::string>();
    if (v.contains("opts")) in.value = AnyFromTagged(v.at("opts"));
  } else {
    return Input(AnyFromTagged(v));  // undefined, number, bigint, bytes
  }
  return in;
}

Attributes AttributesFromTagged(const Json& v) {
  Attributes attrs;
  for (const auto& [k, x] : v.items()) attrs.emplace_back(k, AnyFromTagged(x));
  return attrs;
}

Json Tag(std::string_view type) { return Json{{"$type", type}}; }

Json NumberToJson(double d) {
  if (std::isnan(d)) return Json{{"$type", "number"}, {"value", "NaN"}};
  if (std::isinf(d))
    return Json{{"$type", "number"},
                {"value", d > 0 ? "Infinity" : "-Infinity"}};
  if (d == 0 && std::signbit(d))
    return Json{{"$type", "number"}, {"value", "-0"}};
  // Integral values print as integers (as JSON.stringify does).
  if (std::trunc(d) == d && std::fabs(d) < 9007199254740992.0)
    return Json(static_cast<int64_t>(d));
  return Json(d);
}

Json TaggedFromAny(const JsValue& a) {
  switch (a.kind()) {
    case JsValue::Kind::kUndefined:
      return Tag("undefined");
    case JsValue::Kind::kNull:
      return Json(nullptr);
    case JsValue::Kind::kBool:
      return Json(a.bool_value());
    case JsValue::Kind::kNumber:
      return NumberToJson(a.number());
    case JsValue::Kind::kBigInt:
      return Json{{"$type", "bigint"}, {"value", std::to_string(a.bigint())}};
    case JsValue::Kind::kString:
      return Json(a.string());
    case JsValue::Kind::kBytes:
      return Json{{"$type", "bytes"}, {"base64", Base64Encode(a.bytes())}};
    case JsValue::Kind::kArray: {
      Json out = Json::array();
      for (const JsValue& x : a.array()) out.push_back(TaggedFromAny(x));
      return out;
    }
    case JsValue::Kind::kMap: {
      Json out = Json::object();
      for (const auto& [k, x] : a.map()) out[k] = TaggedFromAny(x);
      return out;
    }
  }
  return Json("(unknown Any kind)");
}

std::string KindName(TypeKind k) {
  switch (k) {
    case TypeKind::kArray:
      return "YArray";
    case TypeKind::kMap:
      return "YMap";
    case TypeKind::kText:
      return "YText";
    case TypeKind::kXmlElement:
      return "YXmlElement";
    case TypeKind::kXmlFragment:
      return "YXmlFragment";
    case TypeKind::kXmlHook:
      return "YXmlHook";
    case TypeKind::kXmlText:
      return "YXmlText";
    default:
      return "AbstractType";
  }
}

TypeKind KindOf(TypeImpl* t) { return YType(t).kind(); }
bool IsTextLike(TypeKind k) {
  return k == TypeKind::kText || k == TypeKind::kXmlText;
}
bool IsListLike(TypeKind k) {
  return k == TypeKind::kArray || k == TypeKind::kXmlFragment ||
         k == TypeKind::kXmlElement;
}

Json TypeJson(TypeImpl* t);

// An element of a map's or an array's toJSON(): a nested type as its own
// toJSON(), a subdocument as the Y.Doc itself (yjs keeps it, and the README
// writes it {"$type":"ydoc","guid":...}), anything else as its value.
Json ElementJson(const OutValue& v) {
  if (v.type != nullptr) return TypeJson(v.type);
  if (v.is_doc) return Json{{"$type", "ydoc"}, {"guid", v.value.string()}};
  return TaggedFromAny(v.value);
}

// toJSON() of a type (Y.Text -> string, XML -> its XML string).
Json TypeJson(TypeImpl* t) {
  TypeKind k = KindOf(t);
  // Y.XmlHook extends Y.Map: its toJSON() is the map's object.
  if (k == TypeKind::kXmlFragment || k == TypeKind::kXmlElement ||
      k == TypeKind::kXmlText) {
    return Json(YXmlFragment(t).ToXmlString());
  }
  if (k == TypeKind::kMap || k == TypeKind::kXmlHook) {
    // Keys as a JS object built by assignment holds them: array-index keys
    // ascending first, then the others in insertion order.
    YMap map(t);
    std::vector<std::pair<uint32_t, std::string>> index_keys;
    std::vector<std::string> other_keys;
    for (std::string& key : map.Keys()) {
      uint32_t i = 0;
      if (IsArrayIndexKey(key, &i)) {
        index_keys.emplace_back(i, std::move(key));
      } else {
        other_keys.push_back(std::move(key));
      }
    }
    std::sort(index_keys.begin(), index_keys.end());
    Json out = Json::object();
    auto add = [&](const std::string& key) {
      std::optional<OutValue> v = map.Get(key);
      if (v.has_value()) out[key] = ElementJson(*v);
    };
    for (const auto& [i, key] : index_keys) add(key);
    for (const std::string& key : other_keys) add(key);
    return out;
  }
  if (k == TypeKind::kArray) {
    Json out = Json::array();
    for (const OutValue& v : YArray(t).ToVector())
      out.push_back(ElementJson(v));
    return out;
  }
  return TaggedFromAny(YType(t).ToJson());
}

// A value read out of a type, as yjs's toTagged writes it.
Json TaggedFromOut(const OutValue& v) {
  if (v.type != nullptr) {
    return Json{{"$type", "ytype"},
                {"kind", KindName(KindOf(v.type))},
                {"json", TypeJson(v.type)}};
  }
  if (v.is_doc) return Json{{"$type", "ydoc"}, {"guid", v.value.string()}};
  if (v.is_binary) {
    return Json{{"$type", "bytes"}, {"base64", Base64Encode(v.value.bytes())}};
  }
  return TaggedFromAny(v.value);
}

Json AttributesJson(const std::vector<std::pair<std::string, JsValue>>& attrs) {
  Json o = Json::object();
  for (const auto& [k, v] : attrs) o[k] = TaggedFromAny(v);
  return o;
}

// Text delta (YTextEvent.delta, Y.Text.toDelta()).
Json TextDeltaJson(const std::vector<DeltaOp>& delta) {
  Json out = Json::array();
  for (const DeltaOp& d : delta) {
    Json op = Json::object();
    switch (d.kind) {
      case DeltaOp::Kind::kInsert:
        if (d.is_text) {
          op["insert"] = Utf16ToUtf8(d.text);
        } else {
          op["insert"] = d.values.empty() ? Json(nullptr)
                                          : TaggedFromOut(d.values.front());
        }
        break;
      case DeltaOp::Kind::kRetain:
        op["retain"] = d.length;
        break;
      case DeltaOp::Kind::kDelete:
        op["delete"] = d.length;
        break;
    }
    if (!d.attributes.empty()) op["attributes"] = AttributesJson(d.attributes);
    out.push_back(std::move(op));
  }
  return out;
}

// Array delta (event.changes.delta).
Json ArrayDeltaJson(const std::vector<DeltaOp>& delta) {
  Json out = Json::array();
  for (const DeltaOp& d : delta) {
    switch (d.kind) {
      case DeltaOp::Kind::kInsert: {
        Json items = Json::array();
        for (const OutValue& v : d.values) items.push_back(TaggedFromOut(v));
        out.push_back(Json{{"insert", std::move(items)}});
        break;
      }
      case DeltaOp::Kind::kRetain:
        out.push_back(Json{{"retain", d.length}});
        break;
      case DeltaOp::Kind::kDelete:
        out.push_back(Json{{"delete", d.length}});
        break;
    }
  }
  return out;
}

Json DescribeEvent(const YEvent& e) {
  Json out = Json::object();
  Json path = Json::array();
  for (const PathElement& p : e.path) {
    if (p.is_key) {
      path.push_back(p.key);
    } else {
      path.push_back(p.index);
    }
  }
  out["path"] = std::move(path);
  TypeKind k = KindOf(e.target);
  out["target"] = KindName(k);
  // As generate.mjs: keys for Y.Map (Y.XmlHook is one), Y.XmlElement and
  // Y.Text (Y.XmlText is one); always present for maps.
  const bool is_map = k == TypeKind::kMap || k == TypeKind::kXmlHook;
  if (is_map || k == TypeKind::kXmlElement || IsTextLike(k)) {
    Json keys = Json::object();
    for (const auto& [key, ch] : e.keys) {
      Json c = Json::object();
      switch (ch.action) {
        case KeyChange::Action::kAdd:
          c["action"] = "add";
          break;
        case KeyChange::Action::kUpdate:
          c["action"] = "update";
          break;
        case KeyChange::Action::kDelete:
          c["action"] = "delete";
          break;
      }
      if (ch.action != KeyChange::Action::kAdd) {
        c["oldValue"] =
            ch.old_value ? TaggedFromOut(*ch.old_value) : Tag("undefined");
      }
      keys[key] = std::move(c);
    }
    if (!keys.empty() || is_map) out["keys"] = std::move(keys);
  }
  if (IsTextLike(k)) {
    out["delta"] = TextDeltaJson(e.delta);
  } else if (k == TypeKind::kArray || k == TypeKind::kXmlFragment ||
             k == TypeKind::kXmlElement) {
    out["delta"] = ArrayDeltaJson(e.delta);
  }
  return out;
}

// ---------------------------------------------------------------------------
// The replay

struct DocState {
  std::string name;
  std::unique_ptr<Doc> doc;
  // Declared after `doc`: unsubscribed before the doc goes away.
  std::vector<Subscription> subs;
  int emitted = 0;
  std::deque<std::pair<Bytes, bool>> v1;  // bytes, transaction.local
  std::deque<Bytes> v2;
};

struct UpdatePair {
  Bytes v1;
  Bytes v2;
};

class Replayer {
 public:
  explicit Replayer(const Json& vector) : vector_(vector) {}

  Json Run();

 private:
  void SetUp();
  void OnEmitted(DocState& d);
  DocState& GetDoc(const std::string& name);
  TypeImpl* Root(Doc& doc, const std::string& name, const std::string& kind);
  TypeImpl* Resolve(Doc& doc, const Json& target);
  const UpdatePair& GetUpdate(const std::string& id);
  void Register(const Json& op, Bytes v1, Bytes v2);
  // The target state vector of an op: `targetStateVectorOf` (a doc's) or
  // `targetStateVector` (base64); nullopt if neither is given.
  std::optional<Bytes> TargetStateVector(const Json& op);

  // The engine's document-level encoding (encoding.h), failing the step on
  // an error status.
  Bytes EncodeStateVector(Doc& doc);
  Bytes EncodeStateAsUpdate(Doc& doc, const std::optional<Bytes>& sv, bool v2);
  void ApplyUpdate(Doc& doc, const Bytes& update, bool v2);
  void Exec(const Json& op, const std::string& inherited_doc, Json& result);
  Json Final();

  const Json& vector_;
  std::map<std::string, std::string> root_kinds_;
  std::vector<std::unique_ptr<DocState>>
      docs_;  // stable addresses for callbacks
  std::map<std::string, UpdatePair> updates_;
  std::map<std::string, Bytes> relpos_;
  bool capturing_ = false;
  Json emitted_ = Json::array();
  Json events_ = Json::array();
};

DocState& Replayer::GetDoc(const std::string& name) {
  for (auto& d : docs_) {
    if (d->name == name) return *d;
  }
  Fail(absl::StrCat("unknown doc ", name));
}

void Replayer::OnEmitted(DocState& d) {
  // yjs fires 'update' then 'updateV2' per transaction; pair them in order
  // whichever order the engine uses.
  while (!d.v1.empty() && !d.v2.empty()) {
    auto [v1, local] = std::move(d.v1.front());
    d.v1.pop_front();
    Bytes v2 = std::move(d.v2.front());
    d.v2.pop_front();
    std::string id = absl::StrCat(d.name, ".", d.emitted++);
    if (capturing_) {
      emitted_.push_back(Json{{"id", id},
                              {"doc", d.name},
                              {"local", local},
                              {"v1", Base64Encode(v1)},
                              {"v2", Base64Encode(v2)}});
    }
    updates_[id] = UpdatePair{std::move(v1), std::move(v2)};
  }
}

TypeImpl* Replayer::Root(Doc& doc, const std::string& name,
                         const std::string& kind) {
  if (kind == "map") return doc.GetMap(name).impl();
  if (kind == "array") return doc.GetArray(name).impl();
  if (kind == "text") return doc.GetText(name).impl();
  if (kind == "xmlFragment") return doc.GetXmlFragment(name).impl();
  if (kind == "xmlElement")
    Unsupported("root kind xmlElement (no Doc::GetXmlElement)");
  Fail(absl::StrCat("unknown root kind ", kind));
}

void Replayer::SetUp() {
  for (const Json& r : vector_.value("roots", Json::array())) {
    root_kinds_[r.at("name").get<std::string>()] =
        r.at("kind").get<std::string>();
  }
  const bool observe = vector_.value("observe", false);
  for (const Json& d : vector_.at("docs")) {
    auto st = std::make_unique<DocState>();
    st->name = d.at("name").get<std::string>();
    DocOptions opts;
    opts.client_id = d.at("clientID").get<uint64_t>();
    opts.gc = d.value("gc", true);
    opts.guid = absl::StrCat("doc-", st->name);
    if (opts.client_id == 0)
      Unsupported("clientID 0 (DocOptions treats 0 as 'pick a random id')");
    st->doc = std::make_unique<Doc>(opts);
    DocState* raw = st.get();
    st->subs.push_back(st->doc->OnUpdate(
        [this, raw](std::span<const uint8_t> u, const Transaction& tr) {
          raw->v1.emplace_back(Bytes(u.begin(), u.end()), tr.local());
          OnEmitted(*raw);
        }));
    st->subs.push_back(st->doc->OnUpdateV2(
        [this, raw](std::span<const uint8_t> u, const Transaction&) {
          raw->v2.emplace_back(u.begin(), u.end());
          OnEmitted(*raw);
        }));
    docs_.push_back(std::move(st));
    for (const Json& r : vector_.value("roots", Json::array())) {
      const std::string rname = r.at("name").get<std::string>();
      TypeImpl* root = Root(*raw->doc, rname, r.at("kind").get<std::string>());
      if (observe) {
        raw->subs.push_back(YType(root).ObserveDeep(
            [this, raw, rname](const std::vector<const YEvent*>& events,
                               const Transaction& tr) {
              if (!capturing_) return;
              Json list = Json::array();
              for (const YEvent* e : events) list.push_back(DescribeEvent(*e));
              events_.push_back(Json{{"doc", raw->name},
                                     {"root", rname},
                                     {"local", tr.local()},
                                     {"events", std::move(list)}});
            }));
      }
    }
  }
}

TypeImpl* Replayer::Resolve(Doc& doc, const Json& target) {
  const std::string root = target.at("root").get<std::string>();
  std::string kind;
  if (target.contains("kind")) {
    kind = target.at("kind").get<std::string>();
  } else {
    auto it = root_kinds_.find(root);
    if (it == root_kinds_.end()) Fail(absl::StrCat("unknown root ", root));
    kind = it->second;
  }
  TypeImpl* t = Root(doc, root, kind);
  for (const Json& p : target.value("path", Json::array())) {
    std::optional<OutValue> v;
    if (p.is_string()) {
      v = YMap(t).Get(p.get<std::string>());
    } else {
      v = YArray(t).Get(p.get<uint64_t>());
    }
    if (!v || v->type == nullptr) {
      Fail(absl::StrCat("path element ", p.dump(),
                        " does not resolve to a shared type"));
    }
    t = v->type;
  }
  return t;
}

const UpdatePair& Replayer::GetUpdate(const std::string& id) {
  auto it = updates_.find(id);
  if (it == updates_.end()) Fail(absl::StrCat("unknown update ", id));
  return it->second;
}

void Replayer::Register(const Json& op, Bytes v1, Bytes v2) {
  if (!op.contains("as")) return;
  const std::string id = op.at("as").get<std::string>();
  if (updates_.count(id) != 0) Fail(absl::StrCat("duplicate update id ", id));
  updates_[id] = UpdatePair{std::move(v1), std::move(v2)};
}

// ---- engine adapter: document-level encoding ------------------------------

Bytes Replayer::EncodeStateVector(Doc& doc) {
  return crdt::EncodeStateVector(doc);
}

Bytes Replayer::EncodeStateAsUpdate(Doc& doc, const std::optional<Bytes>& sv,
                                    bool v2) {
  std::span<const uint8_t> target;
  if (sv) target = *sv;
  absl::StatusOr<Bytes> u = v2 ? crdt::EncodeStateAsUpdateV2(doc, target)
                               : crdt::EncodeStateAsUpdate(doc, target);
  if (!u.ok())
    Fail(std::string(v2 ? "encodeStateAsUpdateV2" : "encodeStateAsUpdate") +
         " failed: " + u.status().ToString());
  return *std::move(u);
}

void Replayer::ApplyUpdate(Doc& doc, const Bytes& update, bool v2) {
  absl::Status s =
      v2 ? crdt::ApplyUpdateV2(doc, update) : crdt::ApplyUpdate(doc, update);
  if (!s.ok())
    Fail(std::string(v2 ? "applyUpdateV2" : "applyUpdate") +
         " failed: " + s.ToString());
}

std::optional<Bytes> Replayer::TargetStateVector(const Json& op) {
  if (op.contains("targetStateVectorOf")) {
    return EncodeStateVector(
        *GetDoc(op.at("targetStateVectorOf").get<std::string>()).doc);
  }
  if (op.contains("targetStateVector"))
    return Base64Decode(op.at("targetStateVector").get<std::string>());
  return std::nullopt;
}

Bytes Check(absl::StatusOr<Bytes> r, const std::string& what) {
  if (!r.ok()) Fail(what + " failed: " + r.status().ToString());
  return *std::move(r);
}

void CheckStatus(const absl::Status& s, const std::string& what) {
  if (!s.ok()) Fail(absl::StrCat(what, " failed: ", s.ToString()));
}

void Replayer::Exec(const Json& op, const std::string& inherited_doc,
                    Json& result) {
  const std::string name = op.at("op").get<std::string>();
  const std::string dn =
      op.contains("doc") ? op.at("doc").get<std::string>() : inherited_doc;
  auto target = [&]() { return Resolve(*GetDoc(dn).doc, op.at("target")); };
  auto index = [&]() { return op.at("index").get<uint64_t>(); };
  auto length = [&]() { return op.at("length").get<uint64_t>(); };

  if (name == "map.set") {
    YMap(target()).Set(op.at("key").get<std::string>(),
                       InputFromTagged(op.at("value")));
  } else if (name == "map.delete") {
    YMap(target()).Delete(op.at("key").get<std::string>());
  } else if (name == "text.insert") {
    std::u16string text = Utf8ToUtf16(op.at("text").get<std::string>());
    if (op.contains("attributes")) {
      Attributes attrs = AttributesFromTagged(op.at("attributes"));
      YText(target()).Insert(index(), text, &attrs);
    } else {
      YText(target()).Insert(index(), text);
    }
  } else if (name == "text.insertEmbed") {
    if (op.contains("attributes")) {
      Attributes attrs = AttributesFromTagged(op.at("attributes"));
      YText(target()).InsertEmbed(index(), InputFromTagged(op.at("embed")),
                                  &attrs);
    } else {
      YText(target()).InsertEmbed(index(), InputFromTagged(op.at("embed")));
    }
  } else if (name == "text.delete") {
    TypeImpl* t = target();
    if (IsListLike(KindOf(t))) {
      CheckStatus(YArray(t).Delete(index(), length()), "delete");
    } else {
      YText(t).Delete(index(), length());
    }
  } else if (name == "text.format") {
    YText(target()).Format(index(), length(),
                           AttributesFromTagged(op.at("attributes")));
  } else if (name == "array.insert" || name == "array.push") {
    std::vector<Input> values;
    for (const Json& v : op.at("values")) values.push_back(InputFromTagged(v));
    if (name == "array.push") {
      YArray(target()).Push(std::move(values));
    } else {
      CheckStatus(YArray(target()).Insert(index(), std::move(values)),
                  "array.insert");
    }
  } else if (name == "array.delete") {
    TypeImpl* t = target();
    if (IsTextLike(KindOf(t))) {
      YText(t).Delete(index(), length());
    } else {
      CheckStatus(YArray(t).Delete(index(), length()), "array.delete");
    }
  } else if (name == "xml.setAttribute") {
    YXmlFragment(target()).SetAttribute(op.at("name").get<std::string>(),
                                        InputFromTagged(op.at("value")));
  } else if (name == "transact") {
    // An exception must not unwind through the engine's transaction: the
    // first failure skips the remaining sub-operations and is rethrown after
    // the transaction has ended.
    std::exception_ptr failure;
    GetDoc(dn).doc->Transact([&](Transaction&) {
      for (const Json& sub : op.at("ops")) {
        try {
          Exec(sub, dn, result);
        } catch (...) {
          failure = std::current_exception();
          return;
        }
      }
    });
    if (failure) std::rethrow_exception(failure);
  } else if (name == "setClientID") {
    GetDoc(dn).doc->set_client_id(op.at("clientID").get<uint64_t>());
  } else if (name == "sync" || name == "syncV2") {
    const bool v2 = name == "syncV2";
    Doc& from = *GetDoc(op.at("from").get<std::string>()).doc;
    Doc& to = *GetDoc(op.at("to").get<std::string>()).doc;
    Bytes sv = EncodeStateVector(to);
    Bytes u = EncodeStateAsUpdate(from, sv, v2);
    result["stateVector"] = Base64Encode(sv);
    result[v2 ? "updateV2" : "update"] = Base64Encode(u);
    if (!v2 && op.contains("as"))
      Register(op, u, EncodeStateAsUpdate(from, sv, true));
    ApplyUpdate(to, u, v2);
  } else if (name == "apply") {
    const bool v2 = op.value("format", "") == "v2";
    Doc& to = *GetDoc(op.at("to").get<std::string>()).doc;
    if (op.contains("bytes")) {
      ApplyUpdate(to, Base64Decode(op.at("bytes").get<std::string>()), v2);
    } else {
      const UpdatePair& u = GetUpdate(op.at("update").get<std::string>());
      ApplyUpdate(to, v2 ? u.v2 : u.v1, v2);
    }
  } else if (name == "encodeStateAsUpdate") {
    Doc& doc = *GetDoc(dn).doc;
    std::optional<Bytes> sv = TargetStateVector(op);
    Bytes v1 = EncodeStateAsUpdate(doc, sv, false);
    Bytes v2 = EncodeStateAsUpdate(doc, sv, true);
    if (sv) result["targetStateVector"] = Base64Encode(*sv);
    result["v1"] = Base64Encode(v1);
    result["v2"] = Base64Encode(v2);
    Register(op, std::move(v1), std::move(v2));
  } else if (name == "encodeStateVector") {
    result["stateVector"] = Base64Encode(EncodeStateVector(*GetDoc(dn).doc));
  } else if (name == "mergeUpdates") {
    std::vector<BytesView> v1s;
    std::vector<BytesView> v2s;
    for (const Json& id : op.at("updates")) {
      const UpdatePair& u = GetUpdate(id.get<std::string>());
      v1s.emplace_back(u.v1);
      v2s.emplace_back(u.v2);
    }
    Bytes v1 = Check(MergeUpdates(v1s), "mergeUpdates");
    Bytes v2 = Check(MergeUpdatesV2(v2s), "mergeUpdatesV2");
    result["v1"] = Base64Encode(v1);
    result["v2"] = Base64Encode(v2);
    Register(op, std::move(v1), std::move(v2));
  } else if (name == "diffUpdate") {
    const UpdatePair& u = GetUpdate(op.at("update").get<std::string>());
    std::optional<Bytes> sv = TargetStateVector(op);
    if (!sv) Fail("diffUpdate needs targetStateVector or targetStateVectorOf");
    Bytes v1 = Check(DiffUpdate(u.v1, *sv), "diffUpdate");
    Bytes v2 = Check(DiffUpdateV2(u.v2, *sv), "diffUpdateV2");
    result["targetStateVector"] = Base64Encode(*sv);
    result["v1"] = Base64Encode(v1);
    result["v2"] = Base64Encode(v2);
    Register(op, std::move(v1), std::move(v2));
  } else if (name == "convertUpdateFormat") {
    const UpdatePair& u = GetUpdate(op.at("update").get<std::string>());
    result["v1ToV2"] = Base64Encode(
        Check(ConvertUpdateFormatV1ToV2(u.v1), "convertUpdateFormatV1ToV2"));
    result["v2ToV1"] = Base64Encode(
        Check(ConvertUpdateFormatV2ToV1(u.v2), "convertUpdateFormatV2ToV1"));
  } else if (name == "encodeStateVectorFromUpdate") {
    const UpdatePair& u = GetUpdate(op.at("update").get<std::string>());
    Bytes a =
        Check(EncodeStateVectorFromUpdate(u.v1), "encodeStateVectorFromUpdate");
    Bytes b = Check(EncodeStateVectorFromUpdateV2(u.v2),
                    "encodeStateVectorFromUpdateV2");
    if (a != b) {
      Fail("encodeStateVectorFromUpdate: v1 gives " + Base64Encode(a) +
           ", v2 gives " + Base64Encode(b));
    }
    result["stateVector"] = Base64Encode(a);
  } else if (name == "relpos.create") {
    RelativePosition rp = CreateRelativePositionFromTypeIndex(
        YType(target()), index(), op.value("assoc", int64_t{0}));
    Bytes encoded = EncodeRelativePosition(rp);
    // relativePositionToJSON: type, tname, item when set; assoc always.
    auto id_json = [](const ID& id) {
      return Json{{"client", id.client}, {"clock", id.clock}};
    };
    Json j = Json::object();
    if (rp.type) j["type"] = id_json(*rp.type);
    if (rp.tname) j["tname"] = *rp.tname;
    if (rp.item) j["item"] = id_json(*rp.item);
    j["assoc"] = rp.assoc;
    result["encoded"] = Base64Encode(encoded);
    result["json"] = std::move(j);
    if (op.contains("as"))
      relpos_[op.at("as").get<std::string>()] = std::move(encoded);
  } else if (name == "relpos.resolve") {
    Bytes bytes;
    if (op.contains("encoded")) {
      bytes = Base64Decode(op.at("encoded").get<std::string>());
    } else {
      auto it = relpos_.find(op.at("relpos").get<std::string>());
      if (it == relpos_.end())
        Fail("unknown relative position " + op.at("relpos").dump());
      bytes = it->second;
    }
    absl::StatusOr<RelativePosition> rp = DecodeRelativePosition(bytes);
    if (!rp.ok())
      Fail("decodeRelativePosition failed: " + rp.status().ToString());
    std::optional<AbsolutePosition> abs =
        CreateAbsolutePositionFromRelativePosition(*rp, *GetDoc(dn).doc);
    if (!abs) {
      result["absolute"] = nullptr;
    } else {
      Json a = {{"index", abs->index}, {"assoc", abs->assoc}};
      if (op.contains("target")) a["typeMatchesTarget"] = abs->type == target();
      result["absolute"] = std::move(a);
    }
  } else {
    Unsupported(name);
  }
}

Json Replayer::Final() {
  Json final = Json::object();
  for (auto& d : docs_) {
    Doc& doc = *d->doc;
    Json json = Json::object();
    Json deltas = Json::object();
    for (const Json& r : vector_.value("roots", Json::array())) {
      const std::string rname = r.at("name").get<std::string>();
      const std::string kind = r.at("kind").get<std::string>();
      TypeImpl* root = Root(doc, rname, kind);
      json[rname] = TypeJson(root);
      if (kind == "text") deltas[rname] = TextDeltaJson(YText(root).ToDelta());
    }
    Json f = Json::object();
    f["clientID"] = doc.client_id();
    auto encoded = [&](const std::function<Bytes()>& fn) -> Json {
      try {
        return Base64Encode(fn());
      } catch (const std::exception& e) {
        return Json{{"error", e.what()}};
      }
    };
    f["stateVector"] = encoded([&] { return EncodeStateVector(doc); });
    f["update"] =
        encoded([&] { return EncodeStateAsUpdate(doc, std::nullopt, false); });
    f["updateV2"] =
        encoded([&] { return EncodeStateAsUpdate(doc, std::nullopt, true); });
    f["json"] = std::move(json);
    f["textDeltas"] = std::move(deltas);
    f["pendingStructs"] = doc.HasPendingStructs();
    f["pendingDeletes"] = doc.HasPendingDeletes();
    final[d->name] = std::move(f);
  }
  return final;
}

Json Replayer::Run() {
  Json out = Json::object();
  for (const char* k : {"name", "description", "yjsVersion", "docs", "roots",
                        "observe", "converged"}) {
    if (vector_.contains(k)) out[k] = vector_.at(k);
  }
  Json steps = Json::array();
  bool failed = false;
  try {
    SetUp();
  } catch (const std::exception& e) {
    steps.push_back(Json{{"op", "(set-up)"}, {"error", e.what()}});
    failed = true;
  }
  if (!failed) {
    for (const Json& step : vector_.value("steps", Json::array())) {
      Json op = step;
      op.erase("expect");
      Json result = Json::object();
      emitted_ = Json::array();
      events_ = Json::array();
      capturing_ = true;
      std::string error;
      try {
        Exec(op, "", result);
      } catch (const StepFailure& e) {
        error = e.what();
      } catch (const std::exception& e) {
        error = absl::StrCat("exception: ", e.what());
      }
      capturing_ = false;
      if (!error.empty()) {
        op["error"] = error;
        steps.push_back(std::move(op));
        failed = true;
        break;
      }
      Json expect = std::move(result);
      if (!emitted_.empty()) expect["emitted"] = emitted_;
      if (!events_.empty()) expect["events"] = events_;
      if (!expect.empty()) op["expect"] = std::move(expect);
      steps.push_back(std::move(op));
    }
  }
  out["steps"] = std::move(steps);
  if (failed) {
    out["final"] = Json::object();
  } else {
    try {
      out["final"] = Final();
    } catch (const std::exception& e) {
      out["final"] = Json{{"error", e.what()}};
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Comparison

void AppendCanonical(const Json& v, std::string* out) {
  switch (v.type()) {
    case Json::value_t::object: {
      std::vector<std::string> keys;
      for (const auto& [k, x] : v.items()) keys.push_back(k);
      std::sort(keys.begin(), keys.end());
      *out += '{';
      for (size_t i = 0; i < keys.size(); ++i) {
        if (i > 0) *out += ',';
        *out +=
            Json(keys[i]).dump(-1, ' ', false, Json::error_handler_t::replace);
        *out += ':';
        AppendCanonical(v.at(keys[i]), out);
      }
      *out += '}';
      return;
    }
    case Json::value_t::array: {
      *out += '[';
      bool first = true;
      for (const Json& x : v) {
        if (!first) *out += ',';
        first = false;
        AppendCanonical(x, out);
      }
      *out += ']';
      return;
    }
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: {
      char buf[40];
      std::snprintf(buf, sizeof(buf), "%.17g", v.get<double>());
      *out += buf;
      return;
    }
    default:
      *out += v.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
}

std::string Show(const Json* v) {
  return v == nullptr ? "(absent)" : CanonicalJson(*v);
}

const Json* Field(const Json& obj, const std::string& key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

std::string StepLabel(size_t i, const Json& step) {
  std::string s = absl::StrCat("step ", i, " (", step.value("op", "?"));
  if (step.contains("doc") && step.at("doc").is_string())
    absl::StrAppend(&s, " ", step.at("doc").get<std::string>());
  if (step.contains("to") && step.at("to").is_string())
    absl::StrAppend(&s, " ->", step.at("to").get<std::string>());
  return s + ")";
}

}  // namespace

std::string CanonicalJson(const Json& value) {
  std::string out;
  AppendCanonical(value, &out);
  return out;
}

std::string Mismatch::ToString() const {
  auto clip = [](const std::string& s) {
    return s.size() > 400
               ? absl::StrCat(s.substr(0, 400), "... (", s.size(), " chars)")
               : s;
  };
  return absl::StrCat(where, ": ", field, ": expected ", clip(expected),
                      ", actual ", clip(actual));
}

absl::StatusOr<Json> ReadVectorFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  Json v = Json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded())
    return absl::InvalidArgumentError(absl::StrCat(path, ": not valid JSON"));
  if (!v.is_object() || !v.contains("docs") || !v.contains("steps")) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a vector (needs docs and steps)"));
  }
  return v;
}

Json ReplayVector(const Json& vector) {
  try {
    Replayer r(vector);
    return r.Run();
  } catch (const std::exception& e) {
    return Json{
        {"steps", Json::array({Json{{"op", "(replay)"}, {"error", e.what()}}})},
        {"final", Json::object()}};
  }
}

std::vector<Mismatch> CompareReplay(const Json& expected, const Json& actual,
                                    size_t limit) {
  std::vector<Mismatch> out;
  auto add = [&](int step, const std::string& where, const std::string& field,
                 const Json* e, const Json* a) {
    if (out.size() < limit)
      out.push_back(Mismatch{step, where, field, Show(e), Show(a)});
  };
  auto differ = [](const Json* a, const Json* b) {
    if (a == nullptr || b == nullptr) return a != b;
    return CanonicalJson(*a) != CanonicalJson(*b);
  };
  static const Json kEmpty = Json::object();
  static const Json kEmptyList = Json::array();
  const Json* esteps = Field(expected, "steps");
  const Json* asteps = Field(actual, "steps");
  const size_t ne = esteps ? esteps->size() : 0;
  const size_t na = asteps ? asteps->size() : 0;
  for (size_t i = 0; i < ne && out.size() < limit; ++i) {
    const Json& es = esteps->at(i);
    const std::string where = StepLabel(i, es);
    const int si = static_cast<int>(i);
    if (i >= na) {
      // A replay that failed during set-up reports it as its only step.
      const Json* err = na > 0 ? Field(asteps->at(na - 1), "error") : nullptr;
      Json executed("executed");
      Json not_executed("not executed");
      add(si, where, err ? "error" : "step", &executed,
          err ? err : &not_executed);
      return out;
    }
    const Json& as = asteps->at(i);
    if (const Json* err = Field(as, "error")) {
      Json none("(none)");
      add(si, where, "error", &none, err);
      return out;
    }
    const Json* ee = Field(es, "expect");
    const Json* ae = Field(as, "expect");
    if (ee == nullptr) ee = &kEmpty;
    if (ae == nullptr) ae = &kEmpty;
    std::vector<std::string> fields;
    for (const auto& [k, v] : ee->items()) fields.push_back(k);
    for (const auto& [k, v] : ae->items()) {
      if (!ee->contains(k)) fields.push_back(k);
    }
    for (const std::string& f : fields) {
      if (f == "emitted") {
        const Json* el = Field(*ee, f);
        const Json* al = Field(*ae, f);
        if (el == nullptr) el = &kEmptyList;
        if (al == nullptr) al = &kEmptyList;
        const size_t n = std::max(el->size(), al->size());
        for (size_t j = 0; j < n; ++j) {
          const Json* eu = j < el->size() ? &el->at(j) : nullptr;
          const Json* au = j < al->size() ? &al->at(j) : nullptr;
          if (eu == nullptr || au == nullptr) {
            add(si, where, absl::StrCat("emitted[", j, "]"), eu, au);
            continue;
          }
          for (const char* k : {"id", "doc", "local", "v1", "v2"}) {
            if (differ(Field(*eu, k), Field(*au, k))) {
              add(si, where, absl::StrCat("emitted[", j, "].", k),
                  Field(*eu, k), Field(*au, k));
            }
          }
        }
      } else if (differ(Field(*ee, f), Field(*ae, f))) {
        add(si, where, f, Field(*ee, f), Field(*ae, f));
      }
    }
  }
  if (na > ne) {
    Json e(ne), a(na);
    add(-1, "steps", "count", &e, &a);
  }
  const Json* efinal = Field(expected, "final");
  const Json* afinal = Field(actual, "final");
  if (efinal == nullptr) return out;
  for (const auto& [doc, ef] : efinal->items()) {
    const Json* af = afinal ? Field(*afinal, doc) : nullptr;
    const std::string where = absl::StrCat("final ", doc);
    if (af == nullptr) {
      Json present("present");
      const Json* err = afinal ? Field(*afinal, "error") : nullptr;
      add(-1, where, err ? "error" : "doc", &present, err);
      continue;
    }
    for (const auto& [k, v] : ef.items()) {
      if (differ(&v, Field(*af, k))) add(-1, where, k, &v, Field(*af, k));
    }
  }
  return out;
}

std::vector<Mismatch> CheckVector(const Json& vector, size_t limit) {
  return CompareReplay(vector, ReplayVector(vector), limit);
}

}  // namespace auxsync::crdt::testing
