#include "rollouts/condition.h"

#include <cmath>
#include <limits>
#include <ostream>
#include <random>
#include <string>

#include <gtest/gtest.h>

namespace governor::rollouts {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

struct EvalCase {
  std::string name;
  std::string text;
  double result;
  bool want;
};

// gtest prints a failing case by its name.
void PrintTo(const EvalCase& c, std::ostream* os) { *os << c.name; }

class EvaluateTest : public testing::TestWithParam<EvalCase> {};

TEST_P(EvaluateTest, Evaluates) {
  const EvalCase& c = GetParam();
  auto compiled = compileCondition(c.text);
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  EXPECT_EQ(evaluate(*compiled, c.result), c.want) << c.text << " with result " << c.result;
}

INSTANTIATE_TEST_SUITE_P(
    Table, EvaluateTest,
    testing::Values(
        // Comparisons, on both sides of the boundary.
        EvalCase{"GreaterEqualAbove", "result >= 0.95", 0.97, true},
        EvalCase{"GreaterEqualAt", "result >= 0.95", 0.95, true},
        EvalCase{"GreaterEqualBelow", "result >= 0.95", 0.94, false},
        EvalCase{"GreaterAt", "result > 0.95", 0.95, false},
        EvalCase{"LessAt", "result < 1", 1, false}, EvalCase{"LessBelow", "result < 1", 0.5, true},
        EvalCase{"LessEqualAt", "result <= 1", 1, true},
        EvalCase{"EqualTrue", "result == 3", 3, true},
        EvalCase{"EqualFalse", "result == 3", 3.0001, false},
        EvalCase{"NotEqualTrue", "result != 3", 2, true},
        EvalCase{"NotEqualFalse", "result != 3", 3, false},
        EvalCase{"NumberOnTheLeft", "0.95 <= result", 0.95, true},
        EvalCase{"Constants", "1 < 2", 0, true}, EvalCase{"NoSpaces", "result>=1", 1, true},
        EvalCase{"Whitespace", " \tresult\n>=\r1 ", 1, true},
        // Numbers.
        EvalCase{"Scientific", "result < 1e-3", 0.0005, true},
        EvalCase{"ScientificFalse", "result < 1e-3", 0.002, false},
        EvalCase{"ScientificUpperPlus", "result == 1.5E+2", 150, true},
        EvalCase{"LeadingDot", "result == .5", 0.5, true},
        EvalCase{"TrailingDot", "result == 5.", 5, true},
        EvalCase{"Negative", "result > -1", -0.5, true},
        EvalCase{"NegativeResult", "-result < 0", 1, true},
        EvalCase{"DoubleNegation", "- -1 == 1", 0, true},
        EvalCase{"ParenthesizedNumber", "(result) > 1", 2, true},
        // Precedence: and binds tighter than or; not tighter than both, looser than a
        // comparison. Each case gives a different answer under the wrong grouping.
        EvalCase{"AndBeforeOr", "result > 1 or result < 0 and result > 5", 2, true},
        EvalCase{"ParenthesesRegroup", "(result > 1 or result < 0) and result > 5", 2, false},
        EvalCase{"NotOfComparison", "not result > 1", 0, true},
        EvalCase{"NotBeforeAnd", "not result > 1 and result > -1", 0, true},
        EvalCase{"NotBeforeOr", "not result > 1 or result > 5", 3, false},
        EvalCase{"NotOfParentheses", "not (result > 1 and result < 3)", 2, false},
        EvalCase{"NotNot", "not not result > 1", 2, true},
        EvalCase{"AndChainTrue", "result > 0 and result > 1 and result > 2", 3, true},
        EvalCase{"AndChainFalse", "result > 0 and result > 1 and result > 2", 2, false},
        EvalCase{"OrChainTrue", "result < 0 or result > 10 or result == 5", 5, true},
        EvalCase{"OrChainFalse", "result < 0 or result > 10 or result == 5", 4, false},
        // NaN never satisfies a comparison, != included; isNaN asks for it.
        EvalCase{"NaNGreaterEqual", "result >= 0.95", kNaN, false},
        EvalCase{"NaNLess", "result < 0.95", kNaN, false},
        EvalCase{"NaNNotEqual", "result != 0", kNaN, false},
        EvalCase{"NaNEqualItself", "result == result", kNaN, false},
        EvalCase{"NaNNegated", "not (result >= 0.95)", kNaN, true},
        EvalCase{"IsNaN", "isNaN(result)", kNaN, true},
        EvalCase{"IsNaNOfNumber", "isNaN(result)", 0.5, false},
        EvalCase{"IsNaNOrPasses", "isNaN(result) or result >= 0.95", kNaN, true},
        EvalCase{"IsNaNOfNegation", "isNaN(-result)", kNaN, true},
        // Infinities compare as such; isInf is true for both.
        EvalCase{"PlusInfGreater", "result > 1e308", kInf, true},
        EvalCase{"MinusInfLess", "result < -1e308", -kInf, true},
        EvalCase{"IsInfPlus", "isInf(result)", kInf, true},
        EvalCase{"IsInfMinus", "isInf(result)", -kInf, true},
        EvalCase{"IsInfFinite", "isInf(result)", 1e308, false},
        EvalCase{"IsInfNaN", "isInf(result)", kNaN, false}),
    [](const testing::TestParamInfo<EvalCase>& info) { return info.param.name; });

struct ErrorCase {
  std::string name;
  std::string text;
  std::string error;  // The whole message.
};

// gtest prints a failing case by its name.
void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

class CompileErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(CompileErrorTest, Fails) {
  const ErrorCase& c = GetParam();
  auto compiled = compileCondition(c.text);
  ASSERT_FALSE(compiled.ok()) << c.text << " compiled";
  EXPECT_EQ(compiled.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(compiled.status().message(), c.error);
}

INSTANTIATE_TEST_SUITE_P(
    Table, CompileErrorTest,
    testing::Values(
        ErrorCase{"MissingOperand", "result > )",
                  R"e(offset 9: expected a number or "result", got ")")e"},
        ErrorCase{"Empty", "", R"e(offset 0: expected a number or "result", got the end)e"},
        ErrorCase{"Blank", "   ", R"e(offset 3: expected a number or "result", got the end)e"},
        ErrorCase{"DanglingOperator",
                  "result >=", R"e(offset 9: expected a number or "result", got the end)e"},
        ErrorCase{"KeywordAsOperand", "result > and",
                  R"e(offset 9: expected a number or "result", got "and")e"},
        ErrorCase{"BareResult", "result",
                  "offset 0: expected a comparison, got a number; compare it, e.g. result >= "
                  "0.95"},
        ErrorCase{"NumberInAnd", "result > 1 and 2",
                  "offset 15: expected a comparison, got a number; compare it, e.g. result >= "
                  "0.95"},
        ErrorCase{"NumberLeftOfOr", "result or result > 1",
                  "offset 0: expected a comparison, got a number; compare it, e.g. result >= "
                  "0.95"},
        ErrorCase{"NotOfNumber", "not result",
                  "offset 4: expected a comparison, got a number; compare it, e.g. result >= "
                  "0.95"},
        ErrorCase{"ConditionCompared", "(result > 1) < 2",
                  "offset 0: expected a number, got a condition"},
        ErrorCase{"ConditionComparedRight", "2 > (result > 1)",
                  "offset 4: expected a number, got a condition"},
        ErrorCase{"NegatedCondition", "-(result > 1)",
                  "offset 1: expected a number, got a condition"},
        ErrorCase{"Chained", "0 < result < 1",
                  "offset 11: comparisons do not chain; join them with and, e.g. 0 < result and "
                  "result < 1"},
        ErrorCase{
            "ArgoIndex", "result[0] >= 0.95",
            R"e(offset 6: "result" is the query's single value: write result, not result[0])e"},
        ErrorCase{
            "ArgoIndexSpaced", "result [0] >= 0.95",
            R"e(offset 7: "result" is the query's single value: write result, not result[0])e"},
        ErrorCase{"DoubleAmpersand", "result > 1 && result < 2", "offset 11: write and, not &&"},
        ErrorCase{"DoublePipe", "result > 1 || result < 2", "offset 11: write or, not ||"},
        ErrorCase{"Bang", "!(result > 1)", "offset 0: write not, not !"},
        ErrorCase{"SingleEquals", "result = 1", "offset 7: write == to compare, not ="},
        ErrorCase{
            "UnknownName", "Result > 1",
            R"e(offset 0: unknown name "Result" (known: result, isNaN, isInf, and, or, not))e"},
        ErrorCase{"UnknownFunction", "abs(result) > 1",
                  R"e(offset 0: unknown name "abs" (known: result, isNaN, isInf, and, or, not))e"},
        ErrorCase{"NumberWithUnit", "result > 5m", R"e(offset 9: invalid number "5m")e"},
        ErrorCase{"TwoDots", "1.2.3 > result", R"e(offset 0: invalid number "1.2.3")e"},
        ErrorCase{"DanglingExponent", "result > 1e", R"e(offset 9: invalid number "1e")e"},
        ErrorCase{"OutOfRange", "result > 1e999", R"e(offset 9: number "1e999" is out of range)e"},
        ErrorCase{"Unclosed", "(result > 1",
                  R"e(offset 11: expected ")" to close the "(" at offset 0, got the end)e"},
        ErrorCase{"UnclosedCall", "isNaN(result",
                  R"e(offset 12: expected ")" to close the "(" at offset 5, got the end)e"},
        ErrorCase{"ExtraClose", "result > 1)",
                  R"e(offset 10: expected "and", "or" or the end, got ")")e"},
        ErrorCase{"Juxtaposed", "result > 1 result",
                  R"e(offset 11: expected "and", "or" or the end, got "result")e"},
        ErrorCase{"CallWithoutParen", "isNaN result",
                  R"e(offset 6: expected "(" after isNaN, got "result")e"},
        ErrorCase{"CallOfCondition", "isInf(result > 1)",
                  "offset 6: expected a number, got a condition"},
        ErrorCase{"CallAsNumber", "isNaN(result) > 1",
                  "offset 0: expected a number, got a condition"},
        ErrorCase{"UnexpectedCharacter", "result > @", R"e(offset 9: unexpected character "@")e"},
        ErrorCase{"NonAsciiByte", "result > \xff", "offset 9: unexpected character byte 255"},
        ErrorCase{"TooDeepParentheses", std::string(65, '(') + "result > 1" + std::string(65, ')'),
                  "offset 64: nested too deeply (more than 64 levels)"},
        ErrorCase{"TooDeepNot",
                  [] {
                    std::string s;
                    for (int i = 0; i < 65; ++i) s += "not ";
                    return s + "result > 1";
                  }(),
                  "offset 256: nested too deeply (more than 64 levels)"},
        ErrorCase{"TooDeepMinus", std::string(65, '-') + "result > 1",
                  "offset 64: nested too deeply (more than 64 levels)"}),
    [](const testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

TEST(Condition, NestingUpToTheLimitCompiles) {
  const std::string text = std::string(64, '(') + "result > 1" + std::string(64, ')');
  auto compiled = compileCondition(text);
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  EXPECT_TRUE(evaluate(*compiled, 2));
  EXPECT_FALSE(evaluate(*compiled, 0));
}

// And/or chains are flat, so a long one neither overflows the parser's nor the evaluator's
// stack.
TEST(Condition, LongChainsStayFlat) {
  std::string text = "result == 0";
  for (int i = 1; i < 20000; ++i) text += " or result == " + std::to_string(i);
  auto compiled = compileCondition(text);
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  EXPECT_TRUE(evaluate(*compiled, 19999));
  EXPECT_FALSE(evaluate(*compiled, 20000));
}

// Garbage never crashes the compiler: it compiles (and then evaluates), or fails with an
// offset inside the text.
TEST(Condition, RandomTextCompilesOrFailsWithAnOffset) {
  const std::string alphabet = "result isNaN isInf and or not ()<>=!-.e+0123456789 \t[]&|@\xff";
  std::mt19937 rng(11);  // Fixed seed.
  int compiled_count = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text(rng() % 40, ' ');
    for (char& c : text) c = alphabet[rng() % alphabet.size()];
    auto compiled = compileCondition(text);
    if (compiled.ok()) {
      ++compiled_count;
      evaluate(*compiled, 0.5);
      evaluate(*compiled, kNaN);
      continue;
    }
    const std::string message = compiled.status().message();
    ASSERT_EQ(message.rfind("offset ", 0), 0u) << text << ": " << message;
    const size_t offset = std::stoul(message.substr(7));
    EXPECT_LE(offset, text.size()) << text << ": " << message;
  }
  // Words are drawn as letters, so few texts are valid; some must be, or this tests nothing.
  EXPECT_GT(compiled_count, 0);
}

TEST(Condition, KeepsItsTextAndWhetherItAsksForNaN) {
  auto plain = compileCondition("result >= 0.95");
  auto nan = compileCondition("isNaN(result) or result >= 0.95");
  auto inf = compileCondition("isInf(result)");
  ASSERT_TRUE(plain.ok() && nan.ok() && inf.ok());
  EXPECT_EQ(plain->text(), "result >= 0.95");
  EXPECT_FALSE(plain->usesIsNaN());
  EXPECT_TRUE(nan->usesIsNaN());
  EXPECT_FALSE(inf->usesIsNaN());
  EXPECT_EQ(*plain, *compileCondition("result >= 0.95"));
  EXPECT_FALSE(*plain == *nan);
  // A copy shares the tree and evaluates the same.
  const Condition copy = *nan;
  EXPECT_TRUE(evaluate(copy, kNaN));
  EXPECT_FALSE(evaluate(copy, 0.5));
}

}  // namespace
}  // namespace governor::rollouts
