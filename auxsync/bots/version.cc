#include "auxsync/bots/version.h"

namespace auxsync::bots {
namespace {

Value SiteValue(const std::optional<std::string>& site) {
  return site ? Value(*site) : Value(nullptr);
}

std::optional<std::string> SiteFrom(const Value& v) {
  if (v.is_string()) return v.as_string();
  return std::nullopt;
}

}  // namespace

Value CurrentVersion::ToValue() const {
  return MakeObject({{"currentSite", SiteValue(current_site)},
                     {"remoteSite", SiteValue(remote_site)},
                     {"vector", vector}});
}

CurrentVersion CurrentVersion::FromValue(const Value& v) {
  CurrentVersion version;
  version.current_site = SiteFrom(v["currentSite"]);
  version.remote_site = SiteFrom(v["remoteSite"]);
  const Value& vector = v["vector"];
  if (vector.is_object()) version.vector = vector;
  return version;
}

}  // namespace auxsync::bots
