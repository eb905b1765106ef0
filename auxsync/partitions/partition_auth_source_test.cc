#include "auxsync/partitions/partition_auth_source.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "auxsync/bots/json.h"
#include "auxsync/bots/value.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace auxsync::partitions {
namespace {

using bots::MakeArray;
using bots::MakeObject;
using bots::ToJson;
using bots::Value;
using ::testing::ElementsAre;

// Records every message of one stream as JSON.
struct Recorder {
  std::vector<std::string> messages;
  AuthMessageCallback callback() {
    return [this](const Value& m) { messages.push_back(ToJson(m)); };
  }
};

Value InstRequest(std::string_view kind, std::string_view branch) {
  return MakeObject(
      {{"type", "request"},
       {"origin", "my-origin"},
       {"kind", kind},
       {"errorCode", "not_authorized"},
       {"resource", InstResource("my-record", "my-inst", branch)}});
}

TEST(PartitionAuthSource, I1_DeduplicatesIdenticalRequests) {
  PartitionAuthSource source;
  Recorder requests;
  rx::Subscription sub = source.OnAuthRequest(requests.callback());

  std::shared_ptr<AuthRequestHandle> first =
      source.SendAuthRequest(InstRequest("not_authorized", "my-branch"));
  std::shared_ptr<AuthRequestHandle> second =
      source.SendAuthRequest(InstRequest("not_authorized", "my-branch"));

  EXPECT_EQ(first, second);
  EXPECT_FALSE(first->resolved());
  ASSERT_EQ(requests.messages.size(), 1u);
  EXPECT_EQ(requests.messages[0],
            ToJson(InstRequest("not_authorized", "my-branch")));
}

TEST(PartitionAuthSource, I1_BranchIsNotPartOfTheKey) {
  PartitionAuthSource source;
  Recorder requests;
  rx::Subscription sub = source.OnAuthRequest(requests.callback());

  auto first = source.SendAuthRequest(InstRequest("not_authorized", "a"));
  auto second = source.SendAuthRequest(InstRequest("not_authorized", "b"));

  EXPECT_EQ(first, second);
  EXPECT_EQ(requests.messages.size(), 1u);
}

TEST(PartitionAuthSource, I2_RequestIsSentAgainAfterAResponse) {
  PartitionAuthSource source;
  Recorder requests;
  rx::Subscription sub = source.OnAuthRequest(requests.callback());

  auto first = source.SendAuthRequest(InstRequest("not_authorized", "b"));
  source.SendAuthResponse(
      AuthResponseSuccess("my-origin", MakeObject({{"connectionId", "id"}})));
  ASSERT_TRUE(first->resolved());
  auto second = source.SendAuthRequest(InstRequest("not_authorized", "b"));

  EXPECT_NE(first, second);
  EXPECT_FALSE(second->resolved());
  EXPECT_EQ(requests.messages.size(), 2u);
  EXPECT_EQ(source.cached_request_count(), 1u);
}

TEST(PartitionAuthSource, I3_RequestsOfDifferentKindsAreBothSent) {
  PartitionAuthSource source;
  Recorder requests;
  rx::Subscription sub = source.OnAuthRequest(requests.callback());

  auto first = source.SendAuthRequest(InstRequest("need_indicator", "b"));
  auto second = source.SendAuthRequest(InstRequest("not_authorized", "b"));

  EXPECT_NE(first, second);
  EXPECT_EQ(requests.messages.size(), 2u);
}

TEST(PartitionAuthSource, I4_DeduplicatesRequestsWithoutResource) {
  PartitionAuthSource source;
  Recorder requests;
  rx::Subscription sub = source.OnAuthRequest(requests.callback());

  auto first = source.SendAuthRequest(NeedIndicatorRequest("my-origin"));
  auto second = source.SendAuthRequest(NeedIndicatorRequest("my-origin"));

  EXPECT_EQ(first, second);
  EXPECT_EQ(requests.messages.size(), 1u);
}

TEST(PartitionAuthSource, N60_SynchronousResponseLeavesResolvedHandleCached) {
  PartitionAuthSource source;
  int requests = 0;
  rx::Subscription sub = source.OnAuthRequest([&](const Value& request) {
    ++requests;
    source.SendAuthResponse(AuthResponseFailure(request["origin"].as_string()));
  });

  auto first = source.SendAuthRequest(NeedIndicatorRequest("o"));
  ASSERT_TRUE(first->resolved());
  EXPECT_EQ(ToJson(first->response()),
            R"({"type":"response","success":false,"origin":"o"})");

  auto second = source.SendAuthRequest(NeedIndicatorRequest("o"));
  EXPECT_EQ(first, second);
  EXPECT_EQ(requests, 1);
  EXPECT_EQ(source.cached_request_count(), 1u);

  // Not even a later response for the origin clears it.
  source.SendAuthResponse(AuthResponseFailure("o"));
  EXPECT_EQ(source.SendAuthRequest(NeedIndicatorRequest("o")), first);
  EXPECT_EQ(requests, 1);
}

TEST(PartitionAuthSource, KeyIsUpstreamsTemplateStringWithStrayBrace) {
  EXPECT_EQ(AuthRequestKey(InstRequest("not_authorized", "b")),
            "my-origin:not_authorized:not_authorized:my-record:my-inst}");
  EXPECT_EQ(AuthRequestKey(NeedIndicatorRequest("o")),
            "o:need_indicator:undefined:undefined:undefined}");
  EXPECT_EQ(AuthRequestKey(
                MakeObject({{"type", "request"},
                            {"origin", "o"},
                            {"kind", "not_authorized"},
                            {"errorCode", nullptr},
                            {"resource", InstResource(nullptr, "i", "b")}})),
            "o:not_authorized:null:null:i}");
  // Non-string parts print as JavaScript's ToString would.
  EXPECT_EQ(AuthRequestKey(MakeObject(
                {{"origin", 1.5},
                 {"kind", true},
                 {"errorCode", MakeArray({1, nullptr, "x"})},
                 {"resource", MakeObject({{"inst", MakeObject({})}})}})),
            "1.5:true:1,,x:undefined:[object Object]}");
}

TEST(PartitionAuthSource, NullAndStringNullRecordNamesShareAKey) {
  PartitionAuthSource source;
  Recorder requests;
  rx::Subscription sub = source.OnAuthRequest(requests.callback());
  auto request = [](Value record_name) {
    return MakeObject(
        {{"type", "request"},
         {"origin", "o"},
         {"kind", "not_authorized"},
         {"resource", InstResource(std::move(record_name), "i", "b")}});
  };
  EXPECT_EQ(source.SendAuthRequest(request(nullptr)),
            source.SendAuthRequest(request("null")));
  EXPECT_EQ(requests.messages.size(), 1u);
}

TEST(PartitionAuthSource, ResolvesWithFirstResponseOfSameOriginOnly) {
  PartitionAuthSource source;
  auto handle = source.SendAuthRequest(NeedIndicatorRequest("a"));
  std::vector<std::string> seen;
  handle->OnResolved([&](const Value& r) { seen.emplace_back(ToJson(r)); });

  source.SendAuthResponse(AuthResponseFailure("b"));
  EXPECT_FALSE(handle->resolved());
  EXPECT_TRUE(seen.empty());
  EXPECT_EQ(source.cached_request_count(), 1u);

  // A failure resolves it as well; only the first response counts.
  source.SendAuthResponse(AuthResponseFailure("a"));
  source.SendAuthResponse(
      AuthResponseSuccess("a", MakeObject({{"connectionId", "c"}})));
  ASSERT_TRUE(handle->resolved());
  EXPECT_THAT(
      seen, ElementsAre(R"({"type":"response","success":false,"origin":"a"})"));
  EXPECT_EQ(ToJson(handle->response()),
            R"({"type":"response","success":false,"origin":"a"})");
  EXPECT_EQ(source.cached_request_count(), 0u);
}

TEST(PartitionAuthSource, OneResponseResolvesEveryPendingRequestOfItsOrigin) {
  PartitionAuthSource source;
  auto need = source.SendAuthRequest(NeedIndicatorRequest("o"));
  auto denied = source.SendAuthRequest(InstRequest("not_authorized", "b"));
  auto other = source.SendAuthRequest(InstRequest("not_authorized", "b"));
  ASSERT_EQ(denied, other);
  auto elsewhere = source.SendAuthRequest(NeedIndicatorRequest("x"));

  source.SendAuthResponse(AuthResponseFailure("o"));
  EXPECT_TRUE(need->resolved());
  EXPECT_FALSE(denied->resolved());  // its origin is "my-origin"
  EXPECT_FALSE(elsewhere->resolved());

  source.SendAuthResponse(AuthResponseFailure("my-origin"));
  EXPECT_TRUE(denied->resolved());
  EXPECT_EQ(source.cached_request_count(), 1u);  // only "x" left
}

TEST(PartitionAuthSource, ContinuationsRunAfterEverySubscriberSawResponse) {
  PartitionAuthSource source;
  std::vector<std::string> log;
  auto handle = source.SendAuthRequest(NeedIndicatorRequest("o"));
  handle->OnResolved([&](const Value&) { log.emplace_back("then1"); });
  handle->OnResolved([&](const Value&) { log.emplace_back("then2"); });
  rx::Subscription sub = source.OnAuthResponse([&](const Value&) {
    log.emplace_back("subscriber");
    // Attached while the response is being delivered: still queued.
    handle->OnResolved([&](const Value&) { log.emplace_back("then3"); });
  });

  source.SendAuthResponse(AuthResponseFailure("o"));
  log.emplace_back("after");
  EXPECT_THAT(log,
              ElementsAre("subscriber", "then1", "then2", "then3", "after"));

  // Attached after resolution: runs at once.
  handle->OnResolved([&](const Value&) { log.emplace_back("late"); });
  EXPECT_EQ(log.back(), "late");
}

TEST(PartitionAuthSource, ReentrantIdenticalRequestIsSentAgain) {
  // Upstream caches only after emitting, so a listener that re-sends the
  // same request while it is being emitted gets a new promise; the outer one
  // ends up cached. Both resolve, outer first.
  PartitionAuthSource source;
  int requests = 0;
  std::shared_ptr<AuthRequestHandle> inner;
  rx::Subscription sub = source.OnAuthRequest([&](const Value& request) {
    if (++requests == 1) inner = source.SendAuthRequest(request);
  });
  auto outer = source.SendAuthRequest(NeedIndicatorRequest("o"));
  EXPECT_EQ(requests, 2);
  ASSERT_NE(inner, nullptr);
  EXPECT_NE(inner, outer);
  EXPECT_EQ(source.SendAuthRequest(NeedIndicatorRequest("o")), outer);

  std::vector<std::string> log;
  outer->OnResolved([&](const Value&) { log.emplace_back("outer"); });
  inner->OnResolved([&](const Value&) { log.emplace_back("inner"); });
  source.SendAuthResponse(AuthResponseFailure("o"));
  EXPECT_THAT(log, ElementsAre("outer", "inner"));
  EXPECT_EQ(source.cached_request_count(), 0u);
}

TEST(PartitionAuthSource, StoresIndicatorsOfSuccessfulResponses) {
  PartitionAuthSource source;
  EXPECT_TRUE(source.GetConnectionIndicatorForOrigin("o").is_null());

  // Stored whether or not a request was pending.
  source.SendAuthResponse(
      AuthResponseSuccess("o", MakeObject({{"connectionToken", "t"}})));
  EXPECT_EQ(ToJson(source.GetConnectionIndicatorForOrigin("o")),
            R"({"connectionToken":"t"})");

  // A failure keeps the stored one.
  source.SendAuthResponse(AuthResponseFailure("o"));
  EXPECT_EQ(ToJson(source.GetConnectionIndicatorForOrigin("o")),
            R"({"connectionToken":"t"})");
  EXPECT_TRUE(source.GetConnectionIndicatorForOrigin("other").is_null());

  // success:true without an indicator stores undefined, read back as null.
  source.SendAuthResponse(
      MakeObject({{"type", "response"}, {"success", true}, {"origin", "o"}}));
  EXPECT_TRUE(source.GetConnectionIndicatorForOrigin("o").is_null());
}

TEST(PartitionAuthSource, IndicatorIsStoredBeforeAnyoneSeesTheResponse) {
  PartitionAuthSource source;
  Value seen_by_subscriber;
  Value seen_by_continuation;
  rx::Subscription sub = source.OnAuthResponse([&](const Value&) {
    seen_by_subscriber = source.GetConnectionIndicatorForOrigin("o");
  });
  source.SendAuthRequest(NeedIndicatorRequest("o"))
      ->OnResolved([&](const Value&) {
        seen_by_continuation = source.GetConnectionIndicatorForOrigin("o");
      });
  Value indicator = MakeObject({{"connectionId", "c"}});
  source.SendAuthResponse(AuthResponseSuccess("o", indicator));
  EXPECT_TRUE(bots::StrictEquals(seen_by_subscriber, indicator));
  EXPECT_TRUE(bots::StrictEquals(seen_by_continuation, indicator));
}

TEST(PartitionAuthSource, InitialIndicatorsAreReturnedUntilReplaced) {
  PartitionAuthSource source({{"a", MakeObject({{"connectionId", "1"}})},
                              {"b", MakeObject({{"connectionId", "2"}})},
                              {"a", MakeObject({{"connectionId", "3"}})}});
  EXPECT_EQ(ToJson(source.GetConnectionIndicatorForOrigin("a")),
            R"({"connectionId":"3"})");
  EXPECT_EQ(ToJson(source.GetConnectionIndicatorForOrigin("b")),
            R"({"connectionId":"2"})");
  source.SendAuthResponse(
      AuthResponseSuccess("b", MakeObject({{"connectionToken", "t"}})));
  EXPECT_EQ(ToJson(source.GetConnectionIndicatorForOrigin("b")),
            R"({"connectionToken":"t"})");
}

TEST(PartitionAuthSource, OnAuthResponseForOriginFiltersByOrigin) {
  PartitionAuthSource source;
  Recorder for_a;
  rx::Subscription sub = source.OnAuthResponseForOrigin("a", for_a.callback());
  source.SendAuthResponse(AuthResponseFailure("a"));
  source.SendAuthResponse(AuthResponseFailure("b"));
  source.SendAuthResponse(
      AuthResponseSuccess("a", MakeObject({{"connectionId", "c"}})));
  EXPECT_THAT(
      for_a.messages,
      ElementsAre(
          R"({"type":"response","success":false,"origin":"a"})",
          R"({"type":"response","success":true,"origin":"a","indicator":{"connectionId":"c"}})"));
}

TEST(PartitionAuthSource, StreamsAreHot) {
  PartitionAuthSource source;
  source.SendAuthPermissionRequest(AuthPermissionRequest("o", Value()));
  Recorder late;
  rx::Subscription sub = source.OnAuthPermissionRequest(late.callback());
  EXPECT_TRUE(late.messages.empty());
  source.SendAuthPermissionRequest(AuthPermissionRequest("o", nullptr));
  EXPECT_THAT(
      late.messages,
      ElementsAre(
          R"({"type":"permission_request","origin":"o","reason":null})"));
  sub.Unsubscribe();
  source.SendAuthPermissionRequest(AuthPermissionRequest("o", nullptr));
  EXPECT_EQ(late.messages.size(), 1u);
}

TEST(PartitionAuthSource, EachSenderEmitsOnItsOwnStream) {
  PartitionAuthSource source;
  Recorder req, res, preq, pres, ereq, eres;
  std::vector<rx::Subscription> subs;
  subs.emplace_back(source.OnAuthRequest(req.callback()));
  subs.emplace_back(source.OnAuthResponse(res.callback()));
  subs.emplace_back(source.OnAuthPermissionRequest(preq.callback()));
  subs.emplace_back(source.OnAuthPermissionResult(pres.callback()));
  subs.emplace_back(source.OnAuthExternalPermissionRequest(ereq.callback()));
  subs.emplace_back(source.OnAuthExternalPermissionResult(eres.callback()));

  AuthPermissionResultFields fields;
  fields.success = true;
  source.SendAuthRequest(NeedIndicatorRequest("o"));
  source.SendAuthResponse(AuthResponseFailure("o"));
  source.SendAuthPermissionRequest(AuthPermissionRequest("o", nullptr));
  source.SendAuthPermissionResult(AuthPermissionResult("o", fields));
  source.SendAuthExternalPermissionRequest(
      AuthExternalPermissionRequest("o", nullptr, nullptr));
  source.SendAuthExternalPermissionResult(
      AuthExternalPermissionResult("o", fields));

  for (Recorder* r : {&req, &res, &preq, &pres, &ereq, &eres}) {
    EXPECT_EQ(r->messages.size(), 1u);
  }
  EXPECT_THAT(req.messages[0], ::testing::HasSubstr(R"("type":"request")"));
  EXPECT_THAT(res.messages[0], ::testing::HasSubstr(R"("type":"response")"));
  EXPECT_THAT(preq.messages[0],
              ::testing::HasSubstr(R"("type":"permission_request")"));
  EXPECT_THAT(pres.messages[0],
              ::testing::HasSubstr(R"("type":"permission_result")"));
  EXPECT_THAT(ereq.messages[0],
              ::testing::HasSubstr(R"("type":"external_permission_request")"));
  EXPECT_THAT(eres.messages[0],
              ::testing::HasSubstr(R"("type":"external_permission_result")"));
}

TEST(PartitionAuthSource, OnAuthMessageMergesAllSixStreams) {
  PartitionAuthSource source;
  Recorder all;
  rx::Subscription sub = source.OnAuthMessage(all.callback());
  AuthPermissionResultFields fields;
  source.SendAuthRequest(NeedIndicatorRequest("o"));
  source.SendAuthResponse(AuthResponseFailure("o"));
  source.SendAuthPermissionRequest(AuthPermissionRequest("o", nullptr));
  source.SendAuthPermissionResult(AuthPermissionResult("o", fields));
  source.SendAuthExternalPermissionRequest(
      AuthExternalPermissionRequest("o", nullptr, nullptr));
  source.SendAuthExternalPermissionResult(
      AuthExternalPermissionResult("o", fields));
  EXPECT_EQ(all.messages.size(), 6u);

  sub.Unsubscribe();
  source.SendAuthResponse(AuthResponseFailure("o"));
  source.SendAuthPermissionRequest(AuthPermissionRequest("o", nullptr));
  EXPECT_EQ(all.messages.size(), 6u);
}

TEST(PartitionAuthSource, SendAuthMessageDispatchesOnType) {
  PartitionAuthSource source;
  Recorder req, res, preq, pres, ereq, eres;
  std::vector<rx::Subscription> subs;
  subs.emplace_back(source.OnAuthRequest(req.callback()));
  subs.emplace_back(source.OnAuthResponse(res.callback()));
  subs.emplace_back(source.OnAuthPermissionRequest(preq.callback()));
  subs.emplace_back(source.OnAuthPermissionResult(pres.callback()));
  subs.emplace_back(source.OnAuthExternalPermissionRequest(ereq.callback()));
  subs.emplace_back(source.OnAuthExternalPermissionResult(eres.callback()));

  for (std::string_view type :
       {"request", "request", "response", "permission_request",
        "permission_result", "external_permission_request",
        "external_permission_result", "something_else"}) {
    ASSERT_TRUE(
        source
            .SendAuthMessage(MakeObject(
                {{"type", type}, {"origin", "o"}, {"kind", "need_indicator"}}))
            .ok());
  }
  // The requests go through SendAuthRequest, so the second is de-duplicated
  // (and the response that follows resolves it).
  EXPECT_EQ(req.messages.size(), 1u);
  EXPECT_EQ(source.cached_request_count(), 0u);
  for (Recorder* r : {&res, &preq, &pres, &ereq, &eres}) {
    EXPECT_EQ(r->messages.size(), 1u);
  }
  EXPECT_TRUE(source.SendAuthMessage(MakeObject({})).ok());
  EXPECT_EQ(source.SendAuthMessage(Value()).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(source.SendAuthMessage(nullptr).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PartitionAuthSource, MessageBuildersUseCasualOSShapes) {
  EXPECT_EQ(
      ToJson(NeedIndicatorRequest("https://a")),
      R"({"type":"request","origin":"https://a","kind":"need_indicator"})");
  EXPECT_EQ(
      ToJson(InvalidIndicatorRequest("o", MakeObject({{"connectionId", "c"}}),
                                     "invalid_token", "bad", Value())),
      R"({"type":"request","origin":"o","kind":"invalid_indicator","indicator":{"connectionId":"c"},"errorCode":"invalid_token","errorMessage":"bad"})");
  Value not_authorized = NotAuthorizedRequest(
      "o", "not_authorized", "denied", MakeObject({{"type", "invalid_token"}}),
      InstResource(nullptr, "i", "b"));
  EXPECT_EQ(
      ToJson(not_authorized),
      R"({"type":"request","kind":"not_authorized","errorCode":"not_authorized","errorMessage":"denied","origin":"o","reason":{"type":"invalid_token"},"resource":{"type":"inst","recordName":null,"inst":"i","branch":"b"}})");
  EXPECT_EQ(
      ToJson(AuthResponseSuccess("o", MakeObject({{"connectionToken", "t"}}))),
      R"({"type":"response","success":true,"origin":"o","indicator":{"connectionToken":"t"}})");
  EXPECT_EQ(
      ToJson(AuthExternalPermissionRequest("o", MakeObject({}), nullptr)),
      R"({"type":"external_permission_request","origin":"o","reason":{},"user":null})");

  AuthPermissionResultFields fields;
  fields.success = false;
  fields.record_name = "r";
  fields.resource_kind = "inst";
  fields.resource_id = "i";
  fields.subject_type = "user";
  fields.subject_id = "u";
  fields.error_code = "not_authorized";
  fields.error_message = "The request expired.";
  EXPECT_EQ(
      ToJson(AuthPermissionResult("o", fields)),
      R"({"type":"permission_result","success":false,"origin":"o","recordName":"r","resourceKind":"inst","resourceId":"i","subjectType":"user","subjectId":"u","errorCode":"not_authorized","errorMessage":"The request expired."})");
  fields.success = true;
  fields.error_code = Value();
  fields.error_message = Value();
  EXPECT_EQ(
      ToJson(AuthExternalPermissionResult("o", fields)),
      R"({"type":"external_permission_result","success":true,"origin":"o","recordName":"r","resourceKind":"inst","resourceId":"i","subjectType":"user","subjectId":"u"})");
}

}  // namespace
}  // namespace auxsync::partitions
