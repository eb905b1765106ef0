#include "auxsync/inst/remote_envelopes.h"

#include "gtest/gtest.h"

namespace auxsync::inst {
namespace {

const ConnectionInfo kAnon{"connA", std::nullopt, std::nullopt};
const ConnectionInfo kUser{"connB", "s1", "u1"};

TEST(RemoteEnvelopes, S15_SelectorRules) {
  RemoteAction a;
  EXPECT_FALSE(a.HasSelector());
  a.connection_id = "";
  EXPECT_FALSE(a.HasSelector());  // empty strings are falsy upstream
  a.broadcast = false;
  EXPECT_TRUE(a.HasSelector());               // any broadcast value selects
  EXPECT_FALSE(IsActionForDevice(a, kAnon));  // broadcast:false alone: nobody
  a.broadcast = true;
  EXPECT_TRUE(IsActionForDevice(a, kAnon));
}

TEST(RemoteEnvelopes, S15_AbsentSelectorNeverMatchesNullIdentity) {
  RemoteAction a;
  a.connection_id = "connB";
  EXPECT_FALSE(IsActionForDevice(a, kAnon));
  EXPECT_TRUE(IsActionForDevice(a, kUser));
  RemoteAction by_user;
  by_user.user_id = "u1";
  EXPECT_TRUE(IsActionForDevice(by_user, kUser));
  EXPECT_FALSE(IsActionForDevice(by_user, kAnon));
  RemoteAction by_session;
  by_session.session_id = "s1";
  EXPECT_TRUE(IsActionForDevice(by_session, kUser));
}

TEST(RemoteEnvelopes, DeviceActionKeepsKindPayloadAndTask) {
  RemoteAction a;
  a.kind = RemoteKind::kResult;
  a.payload = 42;
  a.task_id = "t";
  a.connection_id = "connB";
  a.allow_batching = true;
  DeviceAction d = ToDeviceAction(a, kUser);
  EXPECT_EQ(d.kind, RemoteKind::kResult);
  EXPECT_EQ(d.connection, kUser);
  EXPECT_EQ(d.payload.as_number(), 42);
  EXPECT_EQ(d.task_id.as_string(), "t");
  EXPECT_EQ(DeviceTypeName(RemoteKind::kError), "device_error");
  EXPECT_EQ(RemoteTypeName(RemoteKind::kResult), "remote_result");
  EXPECT_EQ(PayloadKey(RemoteKind::kError), "error");
}

}  // namespace
}  // namespace auxsync::inst
