#pragma once

// PromQL query templates: a ScalingPolicy's `prometheus.query`, or an AnalysisTemplate
// metric's `provider.prometheus.query`, with variables, rendered so that no value can change
// the query's structure.
//
//   avg(rate(container_cpu_usage_seconds_total{namespace="{{namespace}}",
//                                               pod=~"{{target}}-.*"}[2m]))
//   sum(rate(http_requests_total{namespace="{{namespace}}",{{selector}}}[1m]))
//
// Variables:
//   {{namespace}}  the policy's namespace          } values: placed inside a string literal
//   {{name}}       the policy's name               } of the template ("...", '...' or `...`),
//   {{target}}     spec.scaleTargetRef.name        } escaped for that literal
//   {{selector}}   the target's label selector (the /scale's status.selector), as PromQL
//                  label matchers: placed between a selector's braces, outside any string
//   {{args.NAME}}  a named argument (an AnalysisTemplate's spec.args); a value, placed and
//                  escaped like {{namespace}}. A ScalingPolicy has no args: there,
//                  {{args.NAME}} is an unknown variable.
//
// Why the template's context matters: a value such as `a"} or vector(1) #` spliced in as
// text would end the string and append its own query. Here the template is scanned as PromQL
// is lexed (strings with their escapes, `#` comments), and each value is escaped for the
// exact place it lands:
//   - inside "..." or '...': backslash, the quote, newlines and other control bytes (and
//     bytes that are not UTF-8) are escaped, so the value is one literal;
//   - after a regex matcher (`=~"` or `!~"`), the value is also regex-quoted (RE2: `.` is a
//     dot, not any character), so `pod=~"{{target}}-.*"` cannot match another deployment;
//   - inside a `raw string`, nothing can be escaped: a value containing a backtick is an
//     error;
//   - in a comment, the value is escaped like a string, so a newline cannot end the comment;
//   - outside a string, {{namespace}}, {{name}} and {{target}} are an error: their meaning
//     would depend on the value, which is exactly what escaping must prevent.
// A regex context is recognized only for label matchers; a value used as a regex argument of
// a function (label_replace's regex) is escaped as a string but not regex-quoted.
//
// Thread-safety: pure functions.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "base/status.h"

namespace governor::policies {

struct TemplateVars {
  std::string namespace_{};  // {{namespace}}
  std::string name{};        // {{name}}
  std::string target{};      // {{target}}
  // {{selector}}, in Kubernetes string form ("app=web,tier in (a,b),!canary"). nullopt: not
  // known (a template that uses {{selector}} is then an error).
  std::optional<std::string> selector{};
  // {{args.NAME}}: NAME -> value. A template that uses an arg not in the map is an error.
  std::map<std::string, std::string> args{};
};

// The variables a template may use, for validateQueryTemplate. The default is a
// ScalingPolicy's: the four built-ins and no args.
struct TemplateSchema {
  // {{namespace}}, {{name}}, {{target}} and {{selector}} are known. Default: true.
  bool builtins = true;
  // The NAMEs that {{args.NAME}} may use. Default: none.
  std::set<std::string> args{};
};

// Renders `query_template` with `vars`, as the file comment says.
// Returns the query. Errors (InvalidArgument; the message names the variable and its byte
// offset in the template):
//   an unknown variable ("query template, offset 12: unknown variable {{x}} (known:
//   namespace, name, target, selector)"; the list ends with the args of `vars`, as
//   "args.NAME"), an unterminated "{{", a value variable outside a
//   string literal, {{selector}} inside one, {{selector}} without a selector, a selector
//   that does not parse, a backtick in a value placed in a raw string.
Result<std::string> renderQuery(std::string_view query_template, const TemplateVars& vars);

// Checks `query_template` as renderQuery would, without values (for spec validation, before
// the target's selector or the args' values are known). OK when every variable is known to
// `schema` and well placed; otherwise the error renderQuery would give, where an unknown
// variable lists what `schema` knows ("(known: args.service, args.namespace)", or
// "(known: none)").
Status validateQueryTemplate(std::string_view query_template, const TemplateSchema& schema = {});

// `value` escaped to be the contents of a PromQL string literal delimited by `quote` ('"' or
// '\''): `\` `quote` and control bytes escaped (\n, \r, \t, else \xHH); bytes that are not
// valid UTF-8 as \xHH. Unquoting the result gives back `value`, byte for byte.
std::string escapeStringLiteral(std::string_view value, char quote = '"');

// `value` with RE2's metacharacters backslash-quoted (as Go's regexp.QuoteMeta), so that the
// regex matches exactly `value`.
std::string quoteRegex(std::string_view value);

// A Kubernetes label key as a Prometheus label name, the way Prometheus's Kubernetes service
// discovery and `labelmap` relabeling spell it: every character outside [A-Za-z0-9_] becomes
// `_` (app.kubernetes.io/name -> app_kubernetes_io_name); a leading digit gets a `_` prefix.
std::string sanitizeLabelName(std::string_view key);

// A Kubernetes label selector in string form as PromQL label matchers, comma-separated, in
// the selector's order:
//   key=v, key==v   key="v"          key in (a,b)     key=~"a|b"   (values regex-quoted)
//   key!=v          key!="v"         key notin (a,b)  key!~"a|b"
//   key             key!=""          !key             key=""
// Keys go through sanitizeLabelName. "" (select everything) gives "".
// Errors: InvalidArgument quoting the selector and saying what was expected where
// (`label selector "app in (a": expected "," or ")" at offset 10`); `<`, `>` are refused (a
// workload's selector never has them).
Result<std::string> selectorToMatchers(std::string_view selector);

}  // namespace governor::policies
