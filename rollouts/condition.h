#pragma once

// The condition language of an AnalysisTemplate metric: `successCondition` and
// `failureCondition` are small boolean expressions over `result`, the single value the
// metric's query returned (docs/analysis.md has the reference):
//
//   result >= 0.95
//   result < 0.5 or isNaN(result)
//   not (result > 100 and result < 200)
//
// Grammar (keywords are lowercase, except isNaN and isInf; whitespace is free):
//   condition  := or
//   or         := and { "or" and }
//   and        := not { "and" not }
//   not        := "not" not | comparison
//   comparison := sum [ ( "<" | "<=" | ">" | ">=" | "==" | "!=" ) sum ]
//   sum        := "-" sum | primary
//   primary    := number | "result" | "isNaN" "(" or ")" | "isInf" "(" or ")" | "(" or ")"
//   number     := digits [ "." digits ] [ ("e" | "E") [ "+" | "-" ] digits ]   (or ".5", "5.")
// Precedence, loosest first: or, and, not, comparison, unary minus. Comparisons do not chain
// (`0 < result < 1` is an error: write `0 < result and result < 1`).
//
// Types are checked when the condition is compiled: `and`, `or`, `not` and the whole
// condition take true/false (a comparison, isNaN, isInf); comparisons, isNaN and isInf take
// numbers. So evaluation cannot fail: every compiled condition yields true or false for every
// `result`.
//
// NaN: every comparison with a NaN operand is false, `!=` included (IEEE 754 makes `!=` true;
// here NaN never satisfies a comparison, so `result != 0` cannot pass on "no data"). Ask for
// it with isNaN(result). ±Inf compare as the infinities they are; isInf(result) is true for
// both.
//
// Thread-safety: a Condition is immutable; copies share the compiled tree, and any number of
// threads may evaluate one at once.

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "base/status.h"

namespace governor::rollouts {

// A compiled condition. Made only by compileCondition().
class Condition {
 public:
  // The text it was compiled from, as written (for messages: "failed successCondition
  // `result >= 0.95`").
  const std::string& text() const { return text_; }

  // True if the condition calls isNaN(): it then decides NaN results itself (see
  // analysis_run.h, where a NaN result is otherwise an Error measurement).
  bool usesIsNaN() const { return uses_is_nan_; }

  // Conditions are equal when their texts are.
  friend bool operator==(const Condition& a, const Condition& b) { return a.text_ == b.text_; }

  struct Node;  // The compiled tree; defined in condition.cpp.

 private:
  Condition(std::string text, std::shared_ptr<const Node> root, bool uses_is_nan)
      : text_(std::move(text)), root_(std::move(root)), uses_is_nan_(uses_is_nan) {}

  friend Result<Condition> compileCondition(std::string_view text);
  friend bool evaluate(const Condition& condition, double result);

  std::string text_;
  std::shared_ptr<const Node> root_;  // Never null.
  bool uses_is_nan_ = false;
};

// Compiles `text`. Returns the condition, or InvalidArgument naming the byte offset (from 0)
// of the problem and what was expected there, e.g.
//   offset 9: expected a number or "result", got ")"
//   offset 0: expected a comparison, got a number; compare it, e.g. result >= 0.95
//   offset 6: "result" is the query's single value: write result, not result[0]
// Also: unknown names (with the known ones), a number out of double's range, a comparison
// that chains, `&&` `||` `!` `=` (with the word to write instead), an unclosed parenthesis,
// text after the condition, and nesting deeper than 64 levels.
Result<Condition> compileCondition(std::string_view text);

// The value of `condition` for `result`. Pure; never fails (see the file comment).
bool evaluate(const Condition& condition, double result);

}  // namespace governor::rollouts
