// Reading bots straight from the engine's structures of a bot document
// (spec/partitions.md 8.1, 8.4): the partition's read path for the common
// transaction shapes, where going through the public handles (YMap::Keys,
// Get, OutValue, ReadSlot) would copy what it only needs to look at. Each
// function gives exactly what its public-handle equivalent in yjs_bot_doc.h
// gives.
//
// Threading: like the Doc they read, single-threaded. Nothing here changes
// the document.

#ifndef AUXSYNC_PARTITIONS_INTERNAL_YJS_BOT_READ_H_
#define AUXSYNC_PARTITIONS_INTERNAL_YJS_BOT_READ_H_

#include <string>
#include <string_view>
#include <vector>

#include "auxsync/bots/value.h"

namespace auxsync::crdt::engine {
struct Item;
class TypeImpl;
}  // namespace auxsync::crdt::engine

namespace auxsync::partitions::internal {

// The shared type `item` holds (its content is a type), or null.
const crdt::engine::TypeImpl* ItemType(const crdt::engine::Item* item);

// The visible text of a Y.Text as ReadSlot gives it (FromUtf16 of its
// UTF-16 content), without the UTF-16 copy when the text is ASCII.
std::string TextValue(const crdt::engine::TypeImpl* text);

// ReadSlot of the value of a map key's live current item (the item's last
// value, a text as TextValue), without the OutValue copy.
bots::Value ReadItemValue(const crdt::engine::Item* item);

// The tags object of ReadBot for a bot's Y.Map (`map` may be null or not a
// map: no tags): every live key whose value SlotHasValue, in the map's key
// order, read as ReadSlot reads it. `plain`, when not null, is set to
// whether every tag value is a primitive (no array or object, so that
// EnsureBotIsSerializable would return the bot as it is).
bots::Value ReadBotTags(const crdt::engine::TypeImpl* map, bool* plain);

// What ReadBot reads of a new bot, for the caller that builds the bot
// object itself: its id's value, its tags (ReadBotTags) and whether every
// tag value is a primitive. The id and the string tag values share one
// allocation (bots::StringBatch).
struct NewBotRead {
  bots::Value id;
  bots::Value tags;
  bool plain = true;
};
NewBotRead ReadNewBot(std::string_view id, const crdt::engine::TypeImpl* map);

// ReadNewBot for bot after bot (the new bots of one transaction): a bot
// whose map has the same keys, in the same order, as the last bot read in
// full (every bot of an initialization update), with a number, boolean or
// text in each, gets its tags object with that bot's keys copied
// (bots::Object::WithKeysOf) instead of added and hashed one by one. Keeps
// the last such bot's tags object: it must stay unchanged while the reader
// is used (one batch of reads, before anyone else sees the bots).
class NewBotReader {
 public:
  NewBotRead Read(std::string_view id, const crdt::engine::TypeImpl* map);

 private:
  // The keys of the last bot whose every map entry gave a tag, as its
  // Doc's interned keys (one address per key text), and its tags.
  std::vector<const std::string*> keys_;
  bots::Value tags_;
};

// ReadBot(id, slot) for the bot map `map` (the type of `slot`, or null):
// createBot(id, tags).
bots::Value ReadBotOfMap(std::string_view id,
                         const crdt::engine::TypeImpl* map);

}  // namespace auxsync::partitions::internal

#endif  // AUXSYNC_PARTITIONS_INTERNAL_YJS_BOT_READ_H_
