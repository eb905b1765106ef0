// The bot document layout shared by YjsPartition and the inst-update
// utilities (spec/partitions.md section 8.1): top-level Y.Maps "bots" (bot
// id -> Y.Map of tags) and "masks" ("<botId>:<tag>" -> value), string values
// as Y.Text, everything else as plain Yjs values. Also the conversions
// between bots::Value and Yjs values.
//
// Threading: like the Doc they work on, single-threaded.

#ifndef AUXSYNC_PARTITIONS_INTERNAL_YJS_BOT_DOC_H_
#define AUXSYNC_PARTITIONS_INTERNAL_YJS_BOT_DOC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "auxsync/bots/value.h"
#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/internal/map_table.h"
#include "auxsync/crdt/types.h"

namespace auxsync::crdt::engine {
struct Item;
}  // namespace auxsync::crdt::engine

namespace auxsync::partitions::internal {

inline constexpr std::string_view kBotsMapName = "bots";
inline constexpr std::string_view kMasksMapName = "masks";

// "<botId>:<tag>", the key of a tag mask in the masks map.
std::string TagMaskId(std::string_view bot_id, std::string_view tag);

// A mask key split at its first ':' (a bot id containing ':' is mis-parsed,
// as upstream). nullopt when the key has no ':' (upstream throws).
struct TagMaskKey {
  std::string bot_id;
  std::string tag;
};
std::optional<TagMaskKey> ParseTagMaskId(std::string_view key);

// A plain value as a lib0 Any. Host values (runtime objects) are written as
// their JSON form; strings that are not valid UTF-8 (lone surrogates) get
// U+FFFD, as lib0's TextEncoder does.
crdt::JsValue ToJsValue(const bots::Value& value);
// A lib0 Any as a value (bigint as a number, bytes as an object of index
// keys, which is how a Uint8Array serialises).
bots::Value FromJsValue(const crdt::JsValue& value);

// What a tag or mask slot stores for `value` (which must have a value):
// a new Y.Text for a string, the plain value otherwise.
crdt::Input ToSlotInput(const bots::Value& value);
// map.Set(key, ToSlotInput(value)) (the same items and events), without
// copying a string's UTF-16 text into preliminary content first. Returns
// the key's new item for a string, number or boolean (engine::SetMapText /
// SetMapValue), null otherwise.
crdt::engine::Item* SetSlot(crdt::YMap map, std::string_view key,
                            const bots::Value& value);
// SetSlot of a string, number or boolean into the key `key` (a key of the
// map's Doc, engine::MapKeyOf) whose current item the caller read
// (`current`: map->GetMap(key), null when none; nothing written since):
// the key is not looked up again. Returns the key's new item.
crdt::engine::Item* SetPlainSlot(crdt::YMap map, crdt::engine::ItemKey key,
                                 crdt::engine::Item* current,
                                 const bots::Value& value);

// A value read from a slot: a Y.Text as its string, another shared type as
// its JSON, a plain value as it is.
bots::Value ReadSlot(const crdt::OutValue& value);
// hasValue of the raw slot content: shared types always have a value.
bool SlotHasValue(const crdt::OutValue& value);

// A bot read from its Y.Map: createBot(id, tags) with every tag whose slot
// has a value (Y.Text as string, so an emptied text reads as ""). A slot
// that is not a map gives a bot without tags.
bots::Value ReadBot(std::string_view id, const crdt::OutValue& slot);

// The parent key of a type held in a map (a bot id, a tag, a mask key);
// nullopt for a root or a type in a list.
std::optional<std::string> ParentKey(crdt::engine::TypeImpl* type);
// The type holding `type`, or null for a root.
crdt::engine::TypeImpl* ParentType(crdt::engine::TypeImpl* type);

}  // namespace auxsync::partitions::internal

#endif  // AUXSYNC_PARTITIONS_INTERNAL_YJS_BOT_DOC_H_
