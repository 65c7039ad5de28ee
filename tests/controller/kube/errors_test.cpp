#include "controller/kube/errors.h"

#include <gtest/gtest.h>

namespace governor::controller::kube {
namespace {

struct DecodeCase {
  std::string name;
  int http_code;
  std::string body;
  StatusCode code;
  std::vector<std::string> message_parts;  // Each must appear in the message.
};

class StatusDecodingTest : public ::testing::TestWithParam<DecodeCase> {};

TEST_P(StatusDecodingTest, MapsCodeAndKeepsMessage) {
  const DecodeCase& c = GetParam();
  Status status = statusFromResponse(c.http_code, c.body, "PUT /apis/apps/v1/x");
  EXPECT_EQ(status.code(), c.code) << status.toString();
  for (const auto& part : c.message_parts) {
    EXPECT_NE(status.message().find(part), std::string::npos)
        << "missing \"" << part << "\" in " << status.message();
  }
  EXPECT_EQ(isGone(status), c.http_code == 410);
}

std::string apiStatus(int code, const std::string& reason, const std::string& message,
                      const std::string& details = "{}") {
  return R"({"kind":"Status","apiVersion":"v1","status":"Failure","code":)" + std::to_string(code) +
         R"(,"reason":")" + reason + R"(","message":")" + message + R"(","details":)" + details +
         "}";
}

// Bodies shaped as kube-apiserver writes them (k8s.io/apimachinery/pkg/api/errors).
INSTANTIATE_TEST_SUITE_P(
    Codes, StatusDecodingTest,
    ::testing::Values(
        DecodeCase{
            "NotFound",
            404,
            apiStatus(404, "NotFound", "deployments.apps \\\"x\\\" not found"),
            StatusCode::kNotFound,
            {"PUT /apis/apps/v1/x: ", "deployments.apps \"x\" not found", "(HTTP 404 NotFound)"}},
        DecodeCase{"AlreadyExists",
                   409,
                   apiStatus(409, "AlreadyExists", "already exists"),
                   StatusCode::kAlreadyExists,
                   {"already exists", "409 AlreadyExists"}},
        DecodeCase{"Conflict",
                   409,
                   apiStatus(409, "Conflict", "the object has been modified"),
                   StatusCode::kConflict,
                   {"the object has been modified", "409 Conflict"}},
        DecodeCase{"Gone",
                   410,
                   apiStatus(410, "Expired", "too old resource version: 1 (5)"),
                   StatusCode::kFailedPrecondition,
                   {"too old resource version", "HTTP 410 Expired"}},
        DecodeCase{
            "InvalidWithCauses",
            422,
            apiStatus(
                422, "Invalid", "ScalingPolicy.governor.io \\\"p\\\" is invalid",
                R"({"causes":[{"reason":"FieldValueInvalid","field":"spec.minReplicas","message":"must be >= 1"}]})"),
            StatusCode::kInvalidArgument,
            {"is invalid", "spec.minReplicas: must be >= 1", "422 Invalid"}},
        DecodeCase{
            "InvalidCauseAlreadyInMessage",
            422,
            apiStatus(422, "Invalid", "x is invalid: spec.replicas: Invalid value: -1",
                      R"({"causes":[{"field":"spec.replicas","message":"Invalid value: -1"}]})"),
            StatusCode::kInvalidArgument,
            {"x is invalid: spec.replicas: Invalid value: -1 (HTTP"}},
        DecodeCase{"BadRequest",
                   400,
                   apiStatus(400, "BadRequest", "bad patch"),
                   StatusCode::kInvalidArgument,
                   {"bad patch"}},
        DecodeCase{"UnsupportedMediaType",
                   415,
                   apiStatus(415, "UnsupportedMediaType",
                             "the body of the request was in an unknown format"),
                   StatusCode::kInvalidArgument,
                   {"unknown format", "415"}},
        DecodeCase{"Unauthorized",
                   401,
                   apiStatus(401, "Unauthorized", "Unauthorized"),
                   StatusCode::kPermissionDenied,
                   {"HTTP 401 Unauthorized"}},
        DecodeCase{"Forbidden",
                   403,
                   apiStatus(403, "Forbidden", "user cannot patch"),
                   StatusCode::kPermissionDenied,
                   {"user cannot patch"}},
        DecodeCase{"TooManyRequests",
                   429,
                   apiStatus(429, "TooManyRequests", "slow down", R"({"retryAfterSeconds":2})"),
                   StatusCode::kResourceExhausted,
                   {"slow down", "retry after 2s"}},
        DecodeCase{"InternalError",
                   500,
                   apiStatus(500, "InternalError", "etcd is down"),
                   StatusCode::kUnavailable,
                   {"etcd is down", "HTTP 500"}},
        DecodeCase{"ServiceUnavailable", 503, "", StatusCode::kUnavailable, {"HTTP 503"}},
        DecodeCase{"RequestTimeout", 408, "", StatusCode::kDeadlineExceeded, {"HTTP 408"}},
        DecodeCase{"HtmlFromAProxy",
                   502,
                   "<html><body>Bad Gateway</body></html>\n",
                   StatusCode::kUnavailable,
                   {"\"<html><body>Bad Gateway</body></html>\"", "HTTP 502"}},
        DecodeCase{"StatusWithoutCode",
                   404,
                   R"({"kind":"Status","message":"gone away"})",
                   StatusCode::kNotFound,
                   {"gone away", "HTTP 404"}}),
    [](const auto& info) { return info.param.name; });

TEST(StatusDecodingTest, LongBodiesAreTruncated) {
  const std::string body(5000, 'x');
  Status status = statusFromResponse(500, body, "GET /");
  EXPECT_LT(status.message().size(), 300u);
  EXPECT_NE(status.message().find("...\""), std::string::npos);
}

TEST(RetryAfterTest, HeaderWinsOverDetailsAndSurvivesContext) {
  Status status = statusFromResponse(
      429, R"({"kind":"Status","code":429,"message":"m","details":{"retryAfterSeconds":5}})",
      "GET /x", std::chrono::seconds(3));
  EXPECT_EQ(retryAfter(status), std::chrono::seconds(3));
  EXPECT_EQ(retryAfter(status.withContext("reconcile web/api")), std::chrono::seconds(3));
  EXPECT_EQ(retryAfter(statusFromResponse(429, "", "GET /x")), std::nullopt);
  EXPECT_EQ(retryAfter(Status(StatusCode::kUnavailable, "x")), std::nullopt);
}

TEST(RetryAfterTest, ParsesHeader) {
  EXPECT_EQ(parseRetryAfter("1"), std::chrono::seconds(1));
  EXPECT_EQ(parseRetryAfter(" 30 "), std::chrono::seconds(30));
  EXPECT_EQ(parseRetryAfter(""), std::nullopt);
  EXPECT_EQ(parseRetryAfter("-1"), std::nullopt);
  EXPECT_EQ(parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
}

TEST(ApiStatusTest, WatchErrorEventObject) {
  const auto object = nlohmann::json::parse(
      R"json({"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 3 (9)","reason":"Expired","code":410})json");
  Status status = statusFromApiStatus(object, 500, "watch /api/v1/pods");
  EXPECT_TRUE(isGone(status)) << status.toString();
  Status other = statusFromApiStatus(nlohmann::json::object(), 500, "watch /api/v1/pods");
  EXPECT_EQ(other.code(), StatusCode::kUnavailable);
  EXPECT_FALSE(isGone(other));
}

TEST(TransportErrorTest, TimeoutIsDeadlineExceededElseUnavailable) {
  EXPECT_EQ(
      statusFromTransportError(std::make_error_code(std::errc::timed_out), "read", "GET /").code(),
      StatusCode::kDeadlineExceeded);
  Status refused = statusFromTransportError(std::make_error_code(std::errc::connection_refused),
                                            "connect", "GET /api");
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.message().find("GET /api: connect (connection refused)"), std::string::npos)
      << refused.message();
  // cpprest's code for a refused connection.
  Status unreachable = statusFromTransportError(std::make_error_code(std::errc::host_unreachable),
                                                "connect", "GET /api");
  EXPECT_EQ(unreachable.message(), "GET /api: connect (connection refused or host unreachable)");
  // Asio's end-of-file arrives as system error 2: its text ("No such file or directory")
  // would mislead, so it is left out.
  Status eof = statusFromTransportError(std::error_code(2, std::system_category()),
                                        "Retrieving message chunk header", "watch /api/v1/pods");
  EXPECT_EQ(eof.code(), StatusCode::kUnavailable);
  EXPECT_EQ(eof.message(), "watch /api/v1/pods: Retrieving message chunk header");
}

}  // namespace
}  // namespace governor::controller::kube
