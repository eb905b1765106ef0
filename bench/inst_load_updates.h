// Small, valid Yjs updates for the inst load benchmark: what one CasualOS
// client sends when it changes one tag.

#ifndef AUXSYNC_BENCH_INST_LOAD_UPDATES_H_
#define AUXSYNC_BENCH_INST_LOAD_UPDATES_H_

#include <cstdint>
#include <string>
#include <vector>

namespace auxsync::bench {

// `count` consecutive v1 updates (standard base64) of one writer doc with
// Yjs client id `client_id`: update n sets key "tag" of the root map
// "load" to the number n (so from the second on each also deletes the
// previous value). Distinct client ids give distinct texts, which is how
// the load client recognises an update when it arrives. Deterministic.
std::vector<std::string> BuildWriterUpdates(uint64_t client_id, int count);

}  // namespace auxsync::bench

#endif  // AUXSYNC_BENCH_INST_LOAD_UPDATES_H_
