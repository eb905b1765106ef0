#include "auxsync/inst/errors.h"

#include "gtest/gtest.h"

namespace auxsync::inst {
namespace {

const BranchNamespace kPublic{std::nullopt, "x", "y"};
const BranchNamespace kRecord{"rec", "i", "b"};

// Frames as the real controller sends them (spec section 11 and the
// captures of interop/inst_codec_test.sh).
TEST(Errors, S6_InvalidConnectionStateMatchesTheTranscript) {
  EXPECT_EQ(
      EncodeFrame(InvalidConnectionState(kPublic, "<serverConnectionId>")),
      R"j([5,-1,{"success":false,"errorCode":"invalid_connection_state","errorMessage":"A server error occurred. (namespace: null/x/y, connectionId: <serverConnectionId>)","recordName":null,"inst":"x","branch":"y"}])j");
  EXPECT_EQ(
      EncodeFrame(InvalidConnectionState("abc")),
      R"j([5,-1,{"success":false,"errorCode":"invalid_connection_state","errorMessage":"A server error occurred. (connectionId: abc)"}])j");
}

TEST(Errors, S5_LoginFailures) {
  EXPECT_EQ(
      EncodeMessageFrame(LoginFailure(kUnacceptableConnectionId)),
      R"j([1,-1,{"type":"login_result","success":false,"errorCode":"unacceptable_connection_id","errorMessage":"A connection ID must be specified when logging in without a connection token."}])j");
  EXPECT_EQ(LoginFailure(kInvalidToken).error_message,
            "The connection token is invalid.");
  EXPECT_EQ(LoginFailure(kSessionExpired).error_message,
            "The session has expired.");
  EXPECT_EQ(
      EncodeFrame(LoginServerError(4)),
      R"j([5,4,{"success":false,"errorCode":"server_error","errorMessage":"A server error occurred while logging in."}])j");
}

TEST(Errors, S7_TokenScopeDenials) {
  EXPECT_EQ(
      EncodeMessageFrame(TokenScopeDeniedWatchResult(kRecord)),
      R"j([1,-1,{"type":"repo/watch_branch_result","success":false,"errorCode":"not_authorized","errorMessage":"You are not authorized to access this inst.","recordName":"rec","inst":"i","branch":"b","reason":{"type":"invalid_token"}}])j");
  EXPECT_EQ(
      EncodeFrame(TokenScopeDenied(kRecord)),
      R"j([5,-1,{"success":false,"errorCode":"not_authorized","errorMessage":"You are not authorized to access this inst.","recordName":"rec","inst":"i","branch":"b","reason":{"type":"invalid_token"}}])j");
}

TEST(Errors, S10_MaxSizeReached) {
  EXPECT_EQ(
      EncodeMessageFrame(
          MaxSizeReached({std::nullopt, "pub", "other"}, 3, 150, 256)),
      R"j([1,-1,{"type":"repo/updates_received","recordName":null,"inst":"pub","branch":"other","updateId":3,"errorCode":"max_size_reached","maxBranchSizeInBytes":150,"neededBranchSizeInBytes":256}])j");
  EXPECT_EQ(
      EncodeMessageFrame(MaxSizeReached({std::nullopt, "pub", "other"},
                                        std::nullopt, 150, 256)),
      R"j([1,-1,{"type":"repo/updates_received","recordName":null,"inst":"pub","branch":"other","errorCode":"max_size_reached","maxBranchSizeInBytes":150,"neededBranchSizeInBytes":256}])j");
}

TEST(Errors, PolicyShapes) {
  EXPECT_EQ(
      EncodeFrame(InstNotFound()),
      R"j([5,-1,{"success":false,"errorCode":"inst_not_found","errorMessage":"The inst was not found."}])j");
  WatchBranchResultMessage denied = WatchDenied(
      kRecord, kNotAuthorized, kNotAuthorizedMessage,
      MissingPermissionReasonValue("rec", "user", "u2", "inst", "i", "read"));
  EXPECT_EQ(
      EncodeMessageFrame(denied),
      R"j([1,-1,{"type":"repo/watch_branch_result","success":false,"errorCode":"not_authorized","errorMessage":"You are not authorized to perform this action.","recordName":"rec","inst":"i","branch":"b","reason":{"type":"missing_permission","recordName":"rec","subjectType":"user","subjectId":"u2","resourceKind":"inst","resourceId":"i","action":"read"}}])j");
}

TEST(Errors, S19_PermissionRequestRefusals) {
  MissingPermissionReason reason{"rec", "inst", "i", "read", "user", "u2"};
  EXPECT_EQ(
      EncodeMessageFrame(
          PermissionRequestRefused(reason, PermissionRefusal::kNoGranters)),
      R"j([1,-1,{"type":"permission/request/missing/response","success":false,"recordName":"rec","resourceKind":"inst","resourceId":"i","subjectType":"user","subjectId":"u2","errorCode":"unacceptable_request","errorMessage":"There are no currently no users available that can grant access to the inst."}])j");
}

}  // namespace
}  // namespace auxsync::inst
