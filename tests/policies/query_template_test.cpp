#include "policies/query_template.h"

#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace governor::policies {
namespace {

// Unquotes the contents of a PromQL string literal delimited by `quote`, as PromQL's lexer and
// Go's strconv.UnquoteChar read it (the escapes escapeStringLiteral may write, plus \a \b \f
// \v). nullopt when the contents could not be the inside of one literal: an unescaped quote,
// a raw newline, an unknown escape.
std::optional<std::string> unquote(std::string_view s, char quote) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == quote || c == '\n') return std::nullopt;
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= s.size()) return std::nullopt;
    const char e = s[i];
    switch (e) {
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case '\\':
        out += '\\';
        break;
      case 'x': {
        if (i + 2 >= s.size()) return std::nullopt;
        const std::string hex(s.substr(i + 1, 2));
        if (hex.size() != 2 ||
            hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
          return std::nullopt;
        }
        out += static_cast<char>(std::stoi(hex, nullptr, 16));
        i += 2;
        break;
      }
      default:
        if (e != quote) return std::nullopt;
        out += e;
    }
  }
  return out;
}

// The structure of a query: its code outside string literals and comments, every literal
// reduced to "" and every comment dropped. A value that changed this changed the query.
std::string skeleton(std::string_view q) {
  std::string out;
  for (size_t i = 0; i < q.size(); ++i) {
    const char c = q[i];
    if (c == '"' || c == '\'' || c == '`') {
      out += "\"\"";
      for (++i; i < q.size() && q[i] != c; ++i) {
        if (q[i] == '\\' && c != '`') ++i;
      }
    } else if (c == '#') {
      while (i < q.size() && q[i] != '\n') ++i;
    } else {
      out += c;
    }
  }
  return out;
}

struct EscapeCase {
  std::string name;
  std::string value;
  char quote;
  std::string want;
};

class EscapeTest : public testing::TestWithParam<EscapeCase> {};

TEST_P(EscapeTest, Escapes) {
  const EscapeCase& c = GetParam();
  const std::string escaped = escapeStringLiteral(c.value, c.quote);
  EXPECT_EQ(escaped, c.want);
  EXPECT_EQ(unquote(escaped, c.quote), c.value);
}

INSTANTIATE_TEST_SUITE_P(
    Table, EscapeTest,
    testing::Values(
        EscapeCase{"Plain", "web-1", '"', "web-1"},
        EscapeCase{"DoubleQuote", R"(a"b)", '"', R"(a\"b)"},
        EscapeCase{"SingleQuoteInDouble", "a'b", '"', "a'b"},
        EscapeCase{"SingleQuoteInSingle", "a'b", '\'', R"(a\'b)"},
        EscapeCase{"DoubleQuoteInSingle", R"(a"b)", '\'', R"(a"b)"},
        EscapeCase{"Backslash", R"(a\b)", '"', R"(a\\b)"},
        EscapeCase{"Newline", "a\nb", '"', R"(a\nb)"},
        EscapeCase{"CarriageReturnTab", "\r\t", '"', R"(\r\t)"},
        EscapeCase{"ControlBytes", std::string("\x01\x1f\x7f", 3), '"', R"(\x01\x1f\x7f)"},
        EscapeCase{"Nul", std::string("a\0b", 3), '"', R"(a\x00b)"},
        EscapeCase{"Unicode", "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x9a\x80", '"',
                   "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x9a\x80"},
        EscapeCase{"InvalidUtf8", "\xff\xc3", '"', R"(\xff\xc3)"},
        EscapeCase{"Overlong", "\xc0\xaf", '"', R"(\xc0\xaf)"},
        EscapeCase{"Surrogate", "\xed\xa0\x80", '"', R"(\xed\xa0\x80)"},
        EscapeCase{"Injection", R"(a"} or vector(1) #)", '"', R"(a\"} or vector(1) #)"}),
    [](const testing::TestParamInfo<EscapeCase>& info) { return info.param.name; });

// Any bytes at all come back unchanged from a literal, and never end it early.
TEST(EscapeStringLiteral, RoundTripsRandomBytes) {
  std::mt19937 rng(7);  // Fixed seed.
  for (int i = 0; i < 2000; ++i) {
    std::string value(rng() % 24, '\0');
    for (char& c : value) c = static_cast<char>(rng() % 256);
    for (const char quote : {'"', '\''}) {
      const std::string escaped = escapeStringLiteral(value, quote);
      ASSERT_EQ(unquote(escaped, quote), value) << escaped;
    }
  }
}

TEST(QuoteRegex, QuotesEveryMetacharacter) {
  EXPECT_EQ(quoteRegex("web-1"), "web-1");
  EXPECT_EQ(quoteRegex("a.b"), R"(a\.b)");
  EXPECT_EQ(quoteRegex(R"(\.+*?()|[]{}^$)"), R"(\\\.\+\*\?\(\)\|\[\]\{\}\^\$)");
}

TEST(SanitizeLabelName, AsKubernetesServiceDiscovery) {
  EXPECT_EQ(sanitizeLabelName("app"), "app");
  EXPECT_EQ(sanitizeLabelName("app.kubernetes.io/name"), "app_kubernetes_io_name");
  EXPECT_EQ(sanitizeLabelName("pod-template-hash"), "pod_template_hash");
  EXPECT_EQ(sanitizeLabelName("9lives"), "_9lives");
}

struct SelectorCase {
  std::string name;
  std::string selector;
  std::optional<std::string> want;  // nullopt: an error.
  std::string error_has = "";
};

class SelectorTest : public testing::TestWithParam<SelectorCase> {};

TEST_P(SelectorTest, Renders) {
  const SelectorCase& c = GetParam();
  auto got = selectorToMatchers(c.selector);
  if (!c.want) {
    ASSERT_FALSE(got.ok()) << *got;
    EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(got.status().message().find(c.error_has), std::string::npos)
        << got.status().message();
    return;
  }
  ASSERT_TRUE(got.ok()) << got.status().toString();
  EXPECT_EQ(*got, *c.want);
}

// Grammar: k8s.io/apimachinery/pkg/labels/selector.go (Parse); examples from its tests.
INSTANTIATE_TEST_SUITE_P(
    Table, SelectorTest,
    testing::Values(
        SelectorCase{"Empty", "", ""}, SelectorCase{"Blank", "  ", ""},
        SelectorCase{"Equals", "app=web", R"(app="web")"},
        SelectorCase{"DoubleEquals", "app==web", R"(app="web")"},
        SelectorCase{"NotEquals", "app!=web", R"(app!="web")"},
        SelectorCase{"EmptyValue", "app=", R"(app="")"},
        SelectorCase{"Exists", "canary", R"(canary!="")"},
        SelectorCase{"NotExists", "!canary", R"(canary="")"},
        SelectorCase{"In", "tier in (a,b)", R"(tier=~"a|b")"},
        SelectorCase{"NotIn", "tier notin (a, b ,c)", R"(tier!~"a|b|c")"},
        SelectorCase{"InRegexQuoted", "v in (1.0,2.0)", R"(v=~"1\\.0|2\\.0")"},
        SelectorCase{"Issue", "app=web,tier in (a,b),!canary",
                     R"(app="web",tier=~"a|b",canary="")"},
        SelectorCase{"Spaces", " app = web , tier notin ( a ) ", R"(app="web",tier!~"a")"},
        SelectorCase{"SanitizedKey", "app.kubernetes.io/name=web",
                     R"(app_kubernetes_io_name="web")"},
        SelectorCase{"ValueEscaped", R"(a=x"y)", R"(a="x\"y")"},
        SelectorCase{"MissingKey", "=web", std::nullopt, "expected a label key"},
        SelectorCase{"TrailingComma", "app=web,", std::nullopt, "expected a label key"},
        SelectorCase{"BangWithoutKey", "!", std::nullopt, "after \"!\""},
        SelectorCase{"UnknownOperator", "app ~ web", std::nullopt, "expected =, ==, !=, in"},
        SelectorCase{"GreaterThan", "replicas>1", std::nullopt, "< and >"},
        SelectorCase{"UnclosedSet", "tier in (a,b", std::nullopt, "expected \",\" or \")\""},
        SelectorCase{"EmptySet", "tier in ()", std::nullopt, "at least one value"},
        SelectorCase{"NoParen", "tier in a", std::nullopt, "expected \"(\""},
        SelectorCase{"Junk", "a=b c", std::nullopt, "expected \",\""}),
    [](const testing::TestParamInfo<SelectorCase>& info) { return info.param.name; });

TemplateVars vars(std::string namespace_, std::string name, std::string target,
                  std::optional<std::string> selector = std::nullopt) {
  return TemplateVars{std::move(namespace_), std::move(name), std::move(target),
                      std::move(selector)};
}

struct RenderCase {
  std::string name;
  std::string tmpl;
  TemplateVars vars;
  std::optional<std::string> want;  // nullopt: an error.
  std::string error_has = "";
};

class RenderTest : public testing::TestWithParam<RenderCase> {};

TEST_P(RenderTest, Renders) {
  const RenderCase& c = GetParam();
  auto got = renderQuery(c.tmpl, c.vars);
  if (!c.want) {
    ASSERT_FALSE(got.ok()) << *got;
    EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(got.status().message().find(c.error_has), std::string::npos)
        << got.status().message();
    return;
  }
  ASSERT_TRUE(got.ok()) << got.status().toString();
  EXPECT_EQ(*got, *c.want);
}

const TemplateVars kWeb = vars("prod", "web-policy", "web", "app=web,tier in (a,b),!canary");

// An AnalysisTemplate's args (and no built-ins worth naming).
TemplateVars args(std::map<std::string, std::string> values) {
  TemplateVars v;
  v.args = std::move(values);
  return v;
}

INSTANTIATE_TEST_SUITE_P(
    Table, RenderTest,
    testing::Values(
        RenderCase{"NoVariables", "sum(up)", kWeb, "sum(up)"},
        RenderCase{
            "Example",
            R"(avg(rate(container_cpu_usage_seconds_total{namespace="{{namespace}}",pod=~"{{target}}-.*"}[2m])) * 100)",
            kWeb,
            R"(avg(rate(container_cpu_usage_seconds_total{namespace="prod",pod=~"web-.*"}[2m])) * 100)"},
        RenderCase{"Name", R"(x{policy="{{name}}"})", kWeb, R"(x{policy="web-policy"})"},
        RenderCase{"SpacesInsideBraces", R"(x{a="{{ target }}"})", kWeb, R"(x{a="web"})"},
        RenderCase{"SingleQuoted", R"(x{a='{{target}}'})", vars("n", "p", "it's"),
                   R"(x{a='it\'s'})"},
        RenderCase{"RawString", "x{a=`{{target}}`}", vars("n", "p", R"(a\b)"), R"(x{a=`a\b`})"},
        RenderCase{"RawStringRegex", "x{a=~`{{target}}.*`}", vars("n", "p", "a.b"),
                   R"(x{a=~`a\.b.*`})"},
        RenderCase{
            "Selector",
            R"(sum(rate(http_requests_total{namespace="{{namespace}}",{{selector}}}[1m])))", kWeb,
            R"(sum(rate(http_requests_total{namespace="prod",app="web",tier=~"a|b",canary=""}[1m])))"},
        RenderCase{"SelectorRightAfterBrace", "up{{{selector}}}", kWeb,
                   R"(up{app="web",tier=~"a|b",canary=""})"},
        RenderCase{"EmptySelector", R"(up{job="x",{{selector}}})", vars("n", "p", "t", ""),
                   R"(up{job="x",})"},
        // Hostile values: each stays one string literal.
        RenderCase{"InjectionDoubleQuote", R"(x{namespace="{{namespace}}"})",
                   vars(R"(a"} or vector(1) #)", "p", "t"),
                   R"(x{namespace="a\"} or vector(1) #"})"},
        RenderCase{"InjectionBackslashQuote", R"(x{namespace="{{namespace}}"})",
                   vars(R"(a\"} or vector(1))", "p", "t"),
                   R"q(x{namespace="a\\\"} or vector(1)"})q"},
        RenderCase{"InjectionNewline", R"(x{namespace="{{namespace}}"})",
                   vars("a\"}\nor vector(1)", "p", "t"), R"q(x{namespace="a\"}\nor vector(1)"})q"},
        RenderCase{"RegexQuoted", R"(x{pod=~"{{target}}-.*"})", vars("n", "p", "web.1|.*"),
                   R"(x{pod=~"web\\.1\\|\\.\\*-.*"})"},
        RenderCase{"NegativeRegexQuoted", R"(x{pod!~ "{{target}}"})", vars("n", "p", "a+"),
                   R"(x{pod!~ "a\\+"})"},
        RenderCase{"NotRegexAfterEquals", R"(x{pod="{{target}}.*"})", vars("n", "p", "a.b"),
                   R"(x{pod="a.b.*"})"},
        RenderCase{"Unicode", R"(x{ns="{{namespace}}"})",
                   vars("\xe6\x97\xa5\xe6\x9c\xac", "p", "t"),
                   "x{ns=\"\xe6\x97\xa5\xe6\x9c\xac\"}"},
        RenderCase{"CommentCannotBeEnded", "x # for {{target}}\n+ 1",
                   vars("n", "p", "t\nor vector(1)"), "x # for t\\nor vector(1)\n+ 1"},
        RenderCase{"EscapedQuoteInTemplateString", R"(x{a="say \"{{target}}\""})",
                   vars("n", "p", "hi"), R"(x{a="say \"hi\""})"},
        // Errors.
        RenderCase{"UnknownVariable", R"(x{a="{{pod}}"})", kWeb, std::nullopt,
                   "offset 5: unknown variable {{pod}}"},
        RenderCase{"Unterminated", R"(x{a="{{name"})", kWeb, std::nullopt, "unterminated \"{{\""},
        RenderCase{"OutsideString", "x{namespace={{namespace}}}", kWeb, std::nullopt,
                   "{{namespace}} outside a string literal"},
        RenderCase{"OutsideStringAsMetricName", "{{target}}_requests_total", kWeb, std::nullopt,
                   "outside a string literal"},
        RenderCase{"SelectorInString", R"(x{a="{{selector}}"})", kWeb, std::nullopt,
                   "{{selector}} inside a string"},
        RenderCase{"SelectorUnknown", "x{{{selector}}}", vars("n", "p", "t"), std::nullopt,
                   "the selector is unknown"},
        RenderCase{"SelectorInvalid", "x{{{selector}}}", vars("n", "p", "t", "a in (b"),
                   std::nullopt, "label selector"},
        RenderCase{"BacktickInRawString", "x{a=`{{target}}`}", vars("n", "p", "a`b"), std::nullopt,
                   "backtick"},
        // {{args.NAME}}: placed and escaped as {{namespace}} is.
        RenderCase{"Arg", R"(x{service="{{args.service}}",ns='{{ args.ns }}'})",
                   args({{"service", "web"}, {"ns", "prod"}}), R"(x{service="web",ns='prod'})"},
        RenderCase{"ArgWithHyphenAndDot", R"(x{a="{{args.canary-hash.v1}}"})",
                   args({{"canary-hash.v1", "abc"}}), R"(x{a="abc"})"},
        RenderCase{"ArgRegexQuoted", R"(x{pod=~"{{args.hash}}-.*"})", args({{"hash", "a.b|c"}}),
                   R"(x{pod=~"a\\.b\\|c-.*"})"},
        RenderCase{"ArgInjection", R"(x{service="{{args.service}}"})",
                   args({{"service", R"(x"} or vector(1) #)"}}),
                   R"(x{service="x\"} or vector(1) #"})"},
        RenderCase{"ArgEmptyValue", R"(x{a="{{args.a}}"})", args({{"a", ""}}), R"(x{a=""})"},
        RenderCase{"ArgWithBuiltins", R"(x{ns="{{namespace}}",s="{{args.s}}"})",
                   [] {
                     TemplateVars v = vars("prod", "p", "t");
                     v.args = {{"s", "web"}};
                     return v;
                   }(),
                   R"(x{ns="prod",s="web"})"},
        RenderCase{"ArgOutsideString", "x{service={{args.service}}}", args({{"service", "web"}}),
                   std::nullopt, "{{args.service}} outside a string literal"},
        RenderCase{"ArgNotSupplied", R"(x{a="{{args.b}}"})", args({{"a", "1"}}), std::nullopt,
                   "offset 5: unknown variable {{args.b}} (known: namespace, name, target, "
                   "selector, args.a)"},
        RenderCase{"ArgEmptyName", R"(x{a="{{args.}}"})", args({{"a", "1"}}), std::nullopt,
                   "unknown variable {{args.}}"},
        RenderCase{"ArgsWithoutDot", R"(x{a="{{args}}"})", args({{"a", "1"}}), std::nullopt,
                   "unknown variable {{args}}"}),
    [](const testing::TestParamInfo<RenderCase>& info) { return info.param.name; });

// Whatever the value, the rendered query has the template's structure: the value lands in
// the literal it was written in. (A naive text substitution fails this for every value
// below; see NaiveSubstitutionWouldFail.)
TEST(RenderQuery, HostileValuesNeverChangeTheStructure) {
  const std::vector<std::string> templates = {
      R"(sum(x{namespace="{{namespace}}",pod=~"{{target}}-.*"}))",
      R"(sum(x{namespace='{{namespace}}',policy='{{name}}'}) # {{target}})",
      R"(sum(x{service="{{args.service}}",pod=~'{{args.service}}-.*'}) # {{args.service}})",
  };
  const auto all = [](const std::string& value) {
    TemplateVars v = vars(value, value, value);
    v.args = {{"service", value}};
    return v;
  };
  const std::vector<std::string> hostile = {
      R"(a"} or vector(1) #)",
      R"(a'} or vector(1) #)",
      "a\"}\nor vector(1)",
      R"(a\)",
      R"(a\\"})",
      "\xff\"\xfe",
      "\n# x\n\"",
      std::string("a\0\"b", 4),
  };
  for (const std::string& tmpl : templates) {
    const std::string benign = skeleton(*renderQuery(tmpl, all("a")));
    for (const std::string& value : hostile) {
      auto rendered = renderQuery(tmpl, all(value));
      ASSERT_TRUE(rendered.ok()) << rendered.status().toString();
      EXPECT_EQ(skeleton(*rendered), benign) << "value " << value << " gave " << *rendered;
    }
  }
}

// The property above can fail: the reconciler's old text substitution breaks it.
TEST(RenderQuery, NaiveSubstitutionWouldFail) {
  const std::string tmpl = R"(sum(x{namespace="{{namespace}}"}))";
  std::string naive = tmpl;
  naive.replace(naive.find("{{namespace}}"), 13, R"(a"} or vector(1) #)");
  EXPECT_NE(skeleton(naive), skeleton(*renderQuery(tmpl, vars("a", "b", "c"))));
}

TEST(ValidateQueryTemplate, ChecksWithoutValues) {
  EXPECT_TRUE(validateQueryTemplate(R"(x{a="{{namespace}}",{{selector}}})").ok());
  EXPECT_TRUE(validateQueryTemplate("sum(up)").ok());
  EXPECT_EQ(validateQueryTemplate(R"(x{a="{{nope}}"})").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(validateQueryTemplate("x{a={{name}}}").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(validateQueryTemplate(R"(x{a="{{selector}}"})").code(), StatusCode::kInvalidArgument);
}

struct SchemaCase {
  std::string name;
  std::string tmpl;
  TemplateSchema schema;
  std::string error;  // The whole message; "" for OK.
};

class ValidateSchemaTest : public testing::TestWithParam<SchemaCase> {};

TEST_P(ValidateSchemaTest, Validates) {
  const SchemaCase& c = GetParam();
  const Status got = validateQueryTemplate(c.tmpl, c.schema);
  if (c.error.empty()) {
    EXPECT_TRUE(got.ok()) << got.toString();
  } else {
    EXPECT_EQ(got.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(got.message(), c.error);
  }
}

// Named, not written in place: GCC 12 warns (maybe-uninitialized, wrongly) about a
// TemplateSchema temporary inside testing::Values.
const TemplateSchema kScalingPolicy{};
const TemplateSchema kAnalysis{.builtins = false, .args = {"service", "ns"}};
const TemplateSchema kNothing{.builtins = false};
const TemplateSchema kBuiltinsAndArgA{.builtins = true, .args = {"a"}};

INSTANTIATE_TEST_SUITE_P(
    Table, ValidateSchemaTest,
    testing::Values(
        // A ScalingPolicy (the default schema) has no args: spec_parser's call stays as it was.
        SchemaCase{"ScalingPolicyRejectsArgs", R"(x{a="{{args.x}}"})", kScalingPolicy,
                   "query template, offset 5: unknown variable {{args.x}} (known: namespace, "
                   "name, target, selector)"},
        SchemaCase{"ScalingPolicyBuiltins", R"(x{a="{{namespace}}",{{selector}}})", kScalingPolicy,
                   ""},
        SchemaCase{"AnalysisArgs", R"(x{a="{{args.service}}",b="{{args.ns}}"})", kAnalysis, ""},
        SchemaCase{"AnalysisNoVariables", "sum(up)", kAnalysis, ""},
        SchemaCase{"AnalysisUndeclaredArg", R"(x{a="{{args.svc}}"})", kAnalysis,
                   "query template, offset 5: unknown variable {{args.svc}} (known: args.ns, "
                   "args.service)"},
        SchemaCase{"AnalysisHasNoBuiltins", R"(x{a="{{namespace}}"})", kAnalysis,
                   "query template, offset 5: unknown variable {{namespace}} (known: args.ns, "
                   "args.service)"},
        SchemaCase{"AnalysisSelector", "x{{{selector}}}", kAnalysis,
                   "query template, offset 2: unknown variable {{selector}} (known: args.ns, "
                   "args.service)"},
        SchemaCase{"NothingKnown", R"(x{a="{{args.a}}"})", kNothing,
                   "query template, offset 5: unknown variable {{args.a}} (known: none)"},
        SchemaCase{"ArgOutsideString", "x{a={{args.ns}}}", kAnalysis,
                   "query template, offset 4: {{args.ns}} outside a string literal; write it "
                   "inside quotes, e.g. namespace=\"{{namespace}}\", where its value is "
                   "escaped"},
        SchemaCase{"ArgsAndBuiltins", R"(x{a="{{args.a}}",b="{{target}}"})", kBuiltinsAndArgA, ""}),
    [](const testing::TestParamInfo<SchemaCase>& info) { return info.param.name; });

}  // namespace
}  // namespace governor::policies
