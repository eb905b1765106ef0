// Versions of partition state (spec/partitions.md section 1.8).

#ifndef AUXSYNC_BOTS_VERSION_H_
#define AUXSYNC_BOTS_VERSION_H_

#include <optional>
#include <string>

#include "auxsync/bots/value.h"

namespace auxsync::bots {

// CurrentVersion: the sites a partition writes as and its version vector
// (an object Value of site id -> counter, in JavaScript property order).
struct CurrentVersion {
  std::optional<std::string> current_site;  // null when absent
  std::optional<std::string> remote_site;   // null when absent
  Value vector = Value::NewObject();

  // {"currentSite", "remoteSite", "vector"}; the vector is shared, not
  // copied.
  Value ToValue() const;
  // Reads the JSON shape back; fields of the wrong type become null / {}.
  // An object vector is shared, not copied.
  static CurrentVersion FromValue(const Value& v);
};

}  // namespace auxsync::bots

#endif  // AUXSYNC_BOTS_VERSION_H_
