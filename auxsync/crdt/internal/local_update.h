// The v1 update a transaction emits, written without the generic writer:
// straight from the store and the transaction's delete set into a reused
// byte buffer (no writer object, no virtual calls, no UTF-8 scratch string).
// This is the hot path of every keystroke with an update handler.
#ifndef AUXSYNC_CRDT_INTERNAL_LOCAL_UPDATE_H_
#define AUXSYNC_CRDT_INTERNAL_LOCAL_UPDATE_H_

#include <cstdint>
#include <vector>

#include "absl/functional/function_ref.h"
#include "auxsync/crdt/internal/item.h"
#include "auxsync/crdt/internal/struct_store.h"

namespace auxsync::crdt::engine {

// Writes into `buf` the bytes WriteStoreStructs(store, before) +
// WriteDeleteSet(ds) write with a v1 writer and returns their number: the
// update is buf[0, n). `buf` only grows (it is meant to be reused, so a
// keystroke allocates nothing). Returns 0 (an update is never empty) when a
// struct to write holds content this writer does not handle (anything but
// strings, deleted content, GC structs and nested types): the caller then
// uses the generic writer. `ds` must be sorted and merged. `before(c)` is
// client c's clock before the transaction (0 if it had none).
size_t WriteTransactionUpdateV1(const StructStore& store,
                                absl::FunctionRef<uint64_t(uint64_t)> before,
                                const DeleteSet& ds, std::vector<uint8_t>* buf);

}  // namespace auxsync::crdt::engine

#endif  // AUXSYNC_CRDT_INTERNAL_LOCAL_UPDATE_H_
