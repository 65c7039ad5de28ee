#include "policies/quantity.h"

#include <string>

#include <gtest/gtest.h>

namespace governor::policies {
namespace {

struct QuantityCase {
  std::string name;
  std::string text;
  double want;
};

class ParseQuantityTest : public testing::TestWithParam<QuantityCase> {};

TEST_P(ParseQuantityTest, Parses) {
  auto got = parseQuantity(GetParam().text);
  ASSERT_TRUE(got.ok()) << got.status().toString();
  EXPECT_DOUBLE_EQ(*got, GetParam().want);
}

// Forms from k8s.io/apimachinery resource.Quantity's documentation.
INSTANTIATE_TEST_SUITE_P(
    Table, ParseQuantityTest,
    testing::Values(QuantityCase{"Integer", "100", 100}, QuantityCase{"Milli", "100m", 0.1},
                    QuantityCase{"Decimal", "1.5", 1.5}, QuantityCase{"Kilo", "2k", 2000},
                    QuantityCase{"Mega", "3M", 3e6}, QuantityCase{"Kibi", "1Ki", 1024},
                    QuantityCase{"Mebi", "512Mi", 512.0 * 1024 * 1024},
                    QuantityCase{"Gibi", "1Gi", 1024.0 * 1024 * 1024},
                    QuantityCase{"Exponent", "1e3", 1000},
                    QuantityCase{"NegExponent", "5E-2", 0.05},
                    QuantityCase{"Micro", "250u", 250e-6}, QuantityCase{"Nano", "7n", 7e-9},
                    QuantityCase{"LeadingDot", ".5", 0.5}, QuantityCase{"Plus", "+3", 3},
                    QuantityCase{"Negative", "-2", -2}),
    [](const testing::TestParamInfo<QuantityCase>& info) { return info.param.name; });

struct BadQuantityCase {
  std::string name;
  std::string text;
  std::string want_in_message;
};

class BadQuantityTest : public testing::TestWithParam<BadQuantityCase> {};

TEST_P(BadQuantityTest, Rejects) {
  auto got = parseQuantity(GetParam().text);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find(GetParam().want_in_message), std::string::npos)
      << got.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadQuantityTest,
    testing::Values(BadQuantityCase{"Empty", "", "empty"},
                    BadQuantityCase{"Word", "lots", "expected a number"},
                    BadQuantityCase{"BadSuffix", "10Q", "unknown suffix \"Q\""},
                    BadQuantityCase{"LowercaseKibi", "1ki", "unknown suffix"},
                    BadQuantityCase{"EmptyExponent", "1e", "exponent has no digits"},
                    BadQuantityCase{"HugeExponent", "1e99999", "out of range"},
                    BadQuantityCase{"Overflow", "9e9999", "out of range"},
                    BadQuantityCase{"SuffixAfterExponent", "1e3Ki", "exponent must be an integer"}),
    [](const testing::TestParamInfo<BadQuantityCase>& info) { return info.param.name; });

}  // namespace
}  // namespace governor::policies
