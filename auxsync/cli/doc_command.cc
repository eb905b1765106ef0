#include "auxsync/cli/doc_command.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <memory>
#include <span>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "auxsync/bots/json.h"
#include "auxsync/bots/value.h"
#include "auxsync/cli/command_output.h"
#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/encoding.h"
#include "auxsync/crdt/types.h"
#include "auxsync/crdt/update_utils.h"
#include "auxsync/crdt/wire_struct.h"

namespace auxsync::cli {
namespace {

using Bytes = std::vector<uint8_t>;
using crdt::engine::AnyKind;
using crdt::engine::TypeKind;

// Files larger than this are refused rather than read into memory.
constexpr size_t kMaxFileBytes = size_t{256} << 20;

struct Update {
  std::string label;  // "FILE, update N"
  Bytes bytes;
};

bool IsBase64Text(const std::string& data) {
  if (data.empty()) return false;
  return std::all_of(data.begin(), data.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' ||
           c == '/' || c == '=' || c == '\n' || c == '\r' || c == ' ' ||
           c == '\t';
  });
}

absl::StatusOr<Bytes> DecodeBase64(const std::string& text,
                                   const std::string& what) {
  std::string out;
  if (!absl::Base64Unescape(text, &out)) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": not base64"));
  }
  return Bytes(out.begin(), out.end());
}

absl::StatusOr<std::vector<Update>> ReadUpdates(
    const std::vector<std::string>& files) {
  std::vector<Update> updates;
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat(file, ": cannot open"));
    std::string data;
    data.assign(std::istreambuf_iterator<char>(in), {});
    if (data.size() > kMaxFileBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": larger than ", kMaxFileBytes, " bytes"));
    }
    if (!IsBase64Text(data)) {
      updates.push_back(
          {absl::StrCat(file, ", update 1"), Bytes(data.begin(), data.end())});
      continue;
    }
    size_t line_no = 0, n = 0, start = 0;
    while (start <= data.size()) {
      size_t end = data.find('\n', start);
      if (end == std::string::npos) end = data.size();
      std::string line = data.substr(start, end - start);
      ++line_no;
      line.erase(std::remove_if(line.begin(), line.end(),
                                [](char c) { return std::isspace(c); }),
                 line.end());
      if (!line.empty()) {
        std::string label = absl::StrCat(file, ", update ", ++n);
        absl::StatusOr<Bytes> bytes =
            DecodeBase64(line, absl::StrCat(file, ":", line_no));
        if (!bytes.ok()) return bytes.status();
        updates.push_back({std::move(label), *std::move(bytes)});
      }
      start = end + 1;
    }
  }
  return updates;
}

// "<file>, update <n>: <message> at byte <offset>": the engine's error names
// the input generically ("update: ..."); the label replaces that name.
absl::Status WithLabel(const absl::Status& s, const std::string& label) {
  absl::string_view message = s.message();
  if (absl::StartsWith(message, "update: ")) message.remove_prefix(8);
  return absl::Status(s.code(), absl::StrCat(label, ": ", message));
}

absl::Status ApplyAll(crdt::Doc& doc, const std::vector<Update>& updates,
                      bool v2) {
  for (const Update& u : updates) {
    // The engine's reader names the byte offset where decoding failed.
    absl::Status s = v2 ? crdt::ApplyUpdateV2(doc, u.bytes)
                        : crdt::ApplyUpdate(doc, u.bytes);
    if (!s.ok()) return WithLabel(s, u.label);
  }
  return absl::OkStatus();
}

std::string Base64(std::span<const uint8_t> bytes) {
  return absl::Base64Escape(absl::string_view(
      reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

bots::Value Tagged(std::string_view type, std::string_view field,
                   std::string value) {
  return bots::MakeObject({{"$type", type}, {field, std::move(value)}});
}

// The engine's value as a bots::Value in the tagged JSON forms of the golden
// vectors (bytes, bigint; undefined and non-JSON numbers are tagged by the
// JSON writer).
bots::Value ToTaggedValue(const crdt::JsValue& a) {
  switch (a.kind()) {
    case AnyKind::kUndefined:
      return bots::Value();
    case AnyKind::kNull:
      return bots::Value(nullptr);
    case AnyKind::kBool:
      return bots::Value(a.bool_value());
    case AnyKind::kNumber:
      return bots::Value(a.number());
    case AnyKind::kBigInt:
      return Tagged("bigint", "value", std::to_string(a.bigint()));
    case AnyKind::kString:
      return bots::Value(a.string());
    case AnyKind::kBytes:
      return Tagged("bytes", "base64",
                    Base64(std::span<const uint8_t>(a.bytes())));
    case AnyKind::kArray: {
      bots::Value out = bots::Value::NewArray();
      for (const auto& item : a.array()) {
        out.as_array().items.push_back(ToTaggedValue(item));
      }
      return out;
    }
    case AnyKind::kMap: {
      bots::Value out = bots::Value::NewObject();
      for (const auto& [key, item] : a.map()) {
        out.as_object().Set(key, ToTaggedValue(item));
      }
      return out;
    }
  }
  return bots::Value();
}

bool Contains(const std::vector<std::string>& names, const std::string& n) {
  return std::find(names.begin(), names.end(), n) != names.end();
}

// A root that only a remote update created has no kind yet (as in yjs,
// where getMap/getText/getArray gives it one). Infer it: keyed entries make
// a map; strings, embeds and formatting marks (which only texts hold) make a
// text; list values of any other content an array.
TypeKind InferKind(const crdt::engine::TypeImpl& root) {
  if (!root.map.empty()) return TypeKind::kMap;
  bool text = false;
  for (const crdt::engine::Item* it = root.start; it != nullptr;
       it = it->right) {
    const uint8_t ref = it->gc ? static_cast<uint8_t>(crdt::engine::kRefDeleted)
                               : static_cast<uint8_t>(it->content.ref);
    switch (ref) {
      case crdt::engine::kRefDeleted:
        break;
      case crdt::engine::kRefString:
      case crdt::engine::kRefEmbed:
      case crdt::engine::kRefFormat:
        text = true;
        break;
      default:
        return TypeKind::kArray;
    }
  }
  return text ? TypeKind::kText : TypeKind::kArray;
}

absl::StatusOr<std::string> Show(crdt::Doc& doc, const DocCommand& command) {
  bots::Value out = bots::Value::NewObject();
  std::vector<std::string> names = doc.RootNames();
  for (const auto* list : {&command.maps, &command.texts, &command.arrays}) {
    for (const std::string& n : *list) {
      if (!Contains(names, n)) names.push_back(n);
    }
  }
  for (const std::string& name : names) {
    TypeKind kind = Contains(command.maps, name)     ? TypeKind::kMap
                    : Contains(command.texts, name)  ? TypeKind::kText
                    : Contains(command.arrays, name) ? TypeKind::kArray
                                                     : TypeKind::kUnknown;
    if (kind == TypeKind::kUnknown) {
      const crdt::engine::TypeImpl* root = doc.FindRoot(name);
      kind = root == nullptr                    ? TypeKind::kArray
             : root->kind != TypeKind::kUnknown ? root->kind
                                                : InferKind(*root);
    }
    crdt::YType type =
        kind == TypeKind::kMap     ? crdt::YType(doc.GetMap(name))
        : kind == TypeKind::kText  ? crdt::YType(doc.GetText(name))
        : kind == TypeKind::kArray ? crdt::YType(doc.GetArray(name))
                                   : crdt::YType(doc.FindRoot(name));
    out.as_object().Set(name, ToTaggedValue(type.ToJson()));
  }
  bots::JsonWriteOptions tagged;
  tagged.tagged = true;
  return bots::ToJson(out, tagged);
}

absl::StatusOr<Bytes> TargetSv(const DocCommand& command) {
  if (command.target_sv.empty()) return Bytes();
  return DecodeBase64(command.target_sv, "state vector");
}

}  // namespace

CLI::App* AddDocCommand(CLI::App& app, DocCommand& command) {
  CLI::App* doc = app.add_subcommand(
      "doc",
      "Inspect and combine Yjs updates (files of raw bytes, or base64 "
      "text with one update per line)");
  doc->require_subcommand(1);
  auto action = [doc, &command](const std::string& name,
                                const std::string& help) {
    CLI::App* sub = doc->add_subcommand(name, help);
    sub->add_flag("--v2", command.v2, "updates are in format v2");
    sub->callback([&command, name] { command.action = name; });
    return sub;
  };
  auto no_gc = [&command](CLI::App* sub) {
    sub->add_flag(
        "--no-gc", [&command](int64_t) { command.gc = false; },
        "keep deleted content");
  };
  CLI::App* show =
      action("show", "Apply the updates to an empty doc and print its JSON");
  no_gc(show);
  show->add_option("--map", command.maps, "a root that is a Y.Map")
      ->allow_extra_args(false);
  show->add_option("--text", command.texts, "a root that is a Y.Text")
      ->allow_extra_args(false);
  show->add_option("--array", command.arrays, "a root that is a Y.Array")
      ->allow_extra_args(false);
  show->add_option("FILE", command.files)->required();
  CLI::App* encode =
      action("encode", "Print base64 of the doc's encodeStateAsUpdate");
  no_gc(encode);
  encode->add_option("--sv", command.target_sv,
                     "only what this base64 state vector lacks");
  encode->add_option("FILE", command.files)->required();
  action("sv", "Print base64 of the doc's state vector")
      ->add_option("FILE", command.files)
      ->required();
  action("merge", "Print base64 of mergeUpdates of the updates")
      ->add_option("FILE", command.files)
      ->required();
  // One file, then the state vector: a string option, as a vector one
  // would swallow the state vector too.
  CLI::App* diff =
      action("diff", "Print base64 of diffUpdate(merged FILE updates, SV)");
  diff->add_option_function<std::string>(
          "FILE", [&command](const std::string& f) { command.files = {f}; },
          "update file")
      ->required();
  diff->add_option("SV", command.target_sv, "base64 state vector")->required();
  return doc;
}

absl::StatusOr<std::string> RunDocCommand(const DocCommand& command) {
  absl::StatusOr<std::vector<Update>> updates = ReadUpdates(command.files);
  if (!updates.ok()) return updates.status();
  std::vector<crdt::BytesView> views;
  for (const Update& u : *updates) views.emplace_back(u.bytes);

  if (command.action == "merge") {
    absl::StatusOr<Bytes> merged =
        command.v2 ? crdt::MergeUpdatesV2(views) : crdt::MergeUpdates(views);
    if (!merged.ok()) return merged.status();
    return Base64(*merged);
  }
  if (command.action == "diff") {
    absl::StatusOr<Bytes> sv = TargetSv(command);
    if (!sv.ok()) return sv.status();
    absl::StatusOr<Bytes> merged =
        command.v2 ? crdt::MergeUpdatesV2(views) : crdt::MergeUpdates(views);
    if (!merged.ok()) return merged.status();
    absl::StatusOr<Bytes> diff = command.v2 ? crdt::DiffUpdateV2(*merged, *sv)
                                            : crdt::DiffUpdate(*merged, *sv);
    if (!diff.ok()) return WithLabel(diff.status(), "state vector");
    return Base64(*diff);
  }

  crdt::DocOptions options;
  options.gc = command.gc;
  auto doc = std::make_unique<crdt::Doc>(options);
  if (absl::Status s = ApplyAll(*doc, *updates, command.v2); !s.ok()) return s;
  if (command.action == "show") return Show(*doc, command);
  if (command.action == "sv") return Base64(crdt::EncodeStateVector(*doc));
  if (command.action == "encode") {
    absl::StatusOr<Bytes> sv = TargetSv(command);
    if (!sv.ok()) return sv.status();
    absl::StatusOr<Bytes> state = command.v2
                                      ? crdt::EncodeStateAsUpdateV2(*doc, *sv)
                                      : crdt::EncodeStateAsUpdate(*doc, *sv);
    if (!state.ok()) return WithLabel(state.status(), "--sv");
    return Base64(*state);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown doc action \"", command.action, "\""));
}

int PrintDocCommand(const DocCommand& command) {
  return PrintCommandResult(absl::StrCat("doc ", command.action),
                            RunDocCommand(command));
}

}  // namespace auxsync::cli
