// aux-common's "sane" deep merge of plain objects.

#ifndef AUXSYNC_BOTS_OBJECT_MERGE_H_
#define AUXSYNC_BOTS_OBJECT_MERGE_H_

#include "auxsync/bots/value.h"

namespace auxsync::bots {

// merge(a, b): a new object with the union of both key lists (first-seen
// order, then JavaScript property order). For each key: undefined values
// are skipped; a single defined value is taken by reference; when every
// defined value is a non-array object and they are not all the same object
// they are merged recursively; otherwise the last defined value wins. A key
// whose values are all undefined is present with undefined.
//
// Keys are Object.keys: own keys of objects, indices of arrays and strings,
// none for other values (JavaScript throws for null/undefined; here they
// contribute no keys). Host objects count as objects without keys, so two
// different Dates merge into {} as they do upstream.
Value Merge(const Value& a, const Value& b);

}  // namespace auxsync::bots

#endif  // AUXSYNC_BOTS_OBJECT_MERGE_H_
