#include "base/status.h"

#include <string>

#include <gtest/gtest.h>

namespace governor {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.toString(), "OK");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status s = invalidArgument("spec.maxReplicas: required");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.toString(), "InvalidArgument: spec.maxReplicas: required");
}

TEST(StatusTest, WithContextPrefixesMessageAndKeepsCode) {
  Status s = unavailable("connection refused").withContext("GET /api/v1/query");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "GET /api/v1/query: connection refused");
  EXPECT_TRUE(Status().withContext("ignored").ok());
}

TEST(ResultTest, HoldsValueOrError) {
  Result<int> good = 42;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 42);
  EXPECT_TRUE(good.status().ok());

  Result<int> bad = notFound("web");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(bad.status().message(), "web");
}

TEST(ResultTest, MovesValueOut) {
  Result<std::string> r = std::string(1000, 'x');
  std::string taken = std::move(r).value();
  EXPECT_EQ(taken.size(), 1000u);
}

}  // namespace
}  // namespace governor
