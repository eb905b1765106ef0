#include "bench/inst_load_updates.h"

#include <span>
#include <string_view>

#include "auxsync/crdt/doc.h"
#include "auxsync/crdt/events.h"
#include "auxsync/crdt/types.h"
#include "auxsync/inst/connection_token.h"

namespace auxsync::bench {

std::vector<std::string> BuildWriterUpdates(uint64_t client_id, int count) {
  crdt::DocOptions options;
  options.client_id = client_id;
  crdt::Doc doc(options);
  std::vector<std::string> updates;
  updates.reserve(count > 0 ? static_cast<size_t>(count) : 0);
  crdt::Subscription sub = doc.OnUpdate(
      [&updates](std::span<const uint8_t> update, const crdt::Transaction&) {
        updates.push_back(inst::Base64Encode(std::string_view(
            reinterpret_cast<const char*>(update.data()), update.size())));
      });
  crdt::YMap map = doc.GetMap("load");
  for (int n = 0; n < count; ++n) {
    doc.Transact([&](crdt::Transaction&) {
      map.Set("tag", crdt::JsValue::MakeNumber(n));
    });
  }
  return updates;
}

}  // namespace auxsync::bench
