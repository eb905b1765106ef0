#include "auxsync/inst/messages.h"

#include <type_traits>

namespace auxsync::inst {

std::optional<BranchNamespace> NamespaceOf(const Message& message) {
  return std::visit(
      [](const auto& m) -> std::optional<BranchNamespace> {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, ConnectedToBranchMessage>) {
          return m.branch.ns;
        } else if constexpr (requires { m.ns; }) {
          return m.ns;
        } else {
          return std::nullopt;
        }
      },
      message);
}

}  // namespace auxsync::inst
