// The CRD's OpenAPI schema against the one parser (policies/spec_parser.cpp), in process.
//
// The invariant: the schema is never stricter than the parser. Whatever the API server's
// schema rejects, the parser rejects too (at the same field path), so a policy that
// `governor validate` accepts can always be applied; and numeric bounds and enums are the
// parser's exactly. The parser may be stricter than the schema where OpenAPI cannot say a
// rule (cron syntax, time zones, cross-field references); the operator reports those as
// InvalidSpec. The test walks the schema, so a field added to one side only fails here.
//
// Also: the status schema is exactly what controller/status_json.cpp writes, and the schema
// is structural (what a real API server demands before it accepts the CRD).

#include <cmath>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "controller/status_json.h"
#include "policies/spec_parser.h"
#include "tests/manifests/full_status.h"
#include "tests/manifests/manifest_files.h"

namespace governor::testing::manifests {
namespace {

constexpr char kEveryField[] = "tests/manifests/testdata/every-field.yaml";

// A field of the base document together with its schema.
struct Occurrence {
  DocPath path;
  YAML::Node schema;
};

// `path` with list indices dropped: "spec.metrics[].target.type", for tables and messages.
std::string normalized(const DocPath& path) {
  std::string out;
  for (const auto& step : path) {
    if (step.key.empty()) {
      out += "[]";
    } else {
      if (!out.empty()) out += ".";
      out += step.key;
    }
  }
  return out;
}

// Every node of `doc` that the schema describes, depth first.
void collect(const YAML::Node& schema, const YAML::Node& doc, DocPath& path,
             std::vector<Occurrence>& out) {
  out.push_back({path, schema});
  if (at(schema, "properties").IsMap() && doc.IsMap()) {
    for (const auto& kv : at(schema, "properties")) {
      const std::string key = kv.first.Scalar();
      if (!doc[key].IsDefined()) continue;
      path.push_back({key, 0});
      collect(kv.second, doc[key], path, out);
      path.pop_back();
    }
  }
  if (at(schema, "items").IsMap() && doc.IsSequence()) {
    for (size_t i = 0; i < doc.size(); ++i) {
      path.push_back({"", i});
      collect(at(schema, "items"), doc[i], path, out);
      path.pop_back();
    }
  }
}

// Every field the schema declares under `prefix`, normalized.
void schemaFields(const YAML::Node& schema, const std::string& prefix, std::set<std::string>& out) {
  out.insert(prefix);
  if (at(schema, "properties").IsMap()) {
    for (const auto& kv : at(schema, "properties")) {
      schemaFields(kv.second, prefix + "." + kv.first.Scalar(), out);
    }
  }
  if (at(schema, "items").IsMap()) schemaFields(at(schema, "items"), prefix + "[]", out);
}

std::string numberText(double v) {
  std::ostringstream out;
  out.precision(12);
  out << v;
  return out.str();
}

bool isIntegerSchema(const YAML::Node& schema) {
  return (at(schema, "type").IsScalar() && at(schema, "type").Scalar() == "integer") ||
         (at(schema, "x-kubernetes-int-or-string").IsScalar() &&
          at(schema, "x-kubernetes-int-or-string").as<bool>());
}

class SchemaParityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto schema = loadCrdSchema();
    ASSERT_TRUE(schema.ok()) << schema.status().message();
    root_schema_ = *schema;
    auto text = readFile(sourcePath(kEveryField));
    ASSERT_TRUE(text.ok()) << text.status().message();
    auto docs = loadDocuments(*text, kEveryField);
    ASSERT_TRUE(docs.ok()) << docs.status().message();
    ASSERT_EQ(docs->size(), 1u);
    base_ = (*docs)[0];
    DocPath path = {{"spec", 0}};
    collect(at(at(root_schema_, "properties"), "spec"), base_["spec"], path, occurrences_);
  }

  // The parser's verdict on the base document with `path` set to `value` (nullopt: removed).
  static Status parse(const YAML::Node& doc) {
    auto parsed = policies::parsePolicy(emit(doc), "every-field.yaml");
    return parsed.ok() ? Status::okStatus() : parsed.status();
  }
  Status parseWith(const DocPath& path, const std::optional<YAML::Node>& value) const {
    return parse(withField(base_, path, value));
  }

  // Expects the parser to reject `value` at `path`, naming the path.
  void expectRejected(const DocPath& path, const std::optional<YAML::Node>& value,
                      const std::string& why) const {
    Status s = parseWith(path, value);
    const std::string shown =
        value ? (value->IsScalar() ? "\"" + value->Scalar() + "\"" : "a node") : "(removed)";
    EXPECT_FALSE(s.ok()) << pathText(path) << " = " << shown << ": the schema rejects it (" << why
                         << ") but the parser accepts it";
    if (!s.ok()) {
      EXPECT_NE(s.message().find(pathText(path)), std::string::npos)
          << "the parser's error does not name " << pathText(path) << ": " << s.message();
    }
  }

  YAML::Node root_schema_;
  YAML::Node base_;
  std::vector<Occurrence> occurrences_;
};

TEST_F(SchemaParityTest, BaseDocumentSetsEveryFieldAndParses) {
  Status s = parse(base_);
  ASSERT_TRUE(s.ok()) << s.message();
  std::set<std::string> declared;
  schemaFields(at(at(root_schema_, "properties"), "spec"), "spec", declared);
  std::set<std::string> present;
  for (const auto& o : occurrences_) present.insert(normalized(o.path));
  for (const auto& field : declared) {
    EXPECT_EQ(present.count(field), 1u) << field << " is in the schema but not in " << kEveryField
                                        << " (add it there, so this test covers it)";
  }
}

TEST_F(SchemaParityTest, NumericBoundsAreTheParsers) {
  int checked = 0;
  for (const auto& o : occurrences_) {
    const YAML::Node min = at(o.schema, "minimum");
    const YAML::Node max = at(o.schema, "maximum");
    const bool integer = isIntegerSchema(o.schema);
    const bool numeric =
        integer || (at(o.schema, "type").IsScalar() && at(o.schema, "type").Scalar() == "number");
    // The parser bounds every number it reads from below (no count, period or percentage
    // may be negative): so must the schema.
    EXPECT_TRUE(!numeric || min.IsDefined()) << pathText(o.path) << " has no minimum";
    if (!min.IsDefined() && !max.IsDefined()) continue;
    const std::string where = pathText(o.path);
    if (min.IsDefined()) {
      const double v = min.as<double>();
      Status at = parseWith(o.path, YAML::Node(numberText(v)));
      EXPECT_TRUE(at.ok()) << where << " = minimum " << v << ": " << at.message();
      expectRejected(o.path, YAML::Node(numberText(integer ? v - 1 : v - 1e-3)), "below minimum");
      ++checked;
    }
    if (max.IsDefined()) {
      const double v = max.as<double>();
      Status at = parseWith(o.path, YAML::Node(numberText(v)));
      EXPECT_TRUE(at.ok()) << where << " = maximum " << v << ": " << at.message();
      expectRejected(o.path, YAML::Node(numberText(integer ? v + 1 : v + 1e-3)), "above maximum");
      ++checked;
    }
  }
  EXPECT_GE(checked, 20);
}

TEST_F(SchemaParityTest, EnumsAreTheParsers) {
  // Each enum value must be accepted where the base document makes it valid (target.type
  // needs its own value field: some occurrence has it); a value outside it nowhere.
  std::map<std::string, std::set<std::string>> accepted;
  std::map<std::string, std::vector<std::string>> declared;
  for (const auto& o : occurrences_) {
    if (!at(o.schema, "enum").IsSequence()) continue;
    const std::string field = normalized(o.path);
    declared[field].clear();
    for (const auto& v : at(o.schema, "enum")) {
      declared[field].push_back(v.Scalar());
      if (parseWith(o.path, YAML::Node(v.Scalar())).ok()) accepted[field].insert(v.Scalar());
    }
    expectRejected(o.path, YAML::Node("NotInTheEnum"), "not in the enum");
  }
  EXPECT_GE(declared.size(), 6u);
  for (const auto& [field, values] : declared) {
    for (const auto& v : values) {
      EXPECT_EQ(accepted[field].count(v), 1u) << field << ": the parser never accepts " << v;
    }
  }
}

TEST_F(SchemaParityTest, RequiredFieldsAreRequiredByTheParser) {
  int checked = 0;
  for (const auto& o : occurrences_) {
    for (const auto& key : at(o.schema, "required")) {
      DocPath path = o.path;
      path.push_back({key.Scalar(), 0});
      if (!nodeAt(base_, path).IsDefined()) continue;
      expectRejected(path, std::nullopt, "required");
      ++checked;
    }
  }
  EXPECT_GE(checked, 10);
  // And the document root's: a ScalingPolicy without spec.
  Status s = parse(withField(base_, {{"spec", 0}}, std::nullopt));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("spec: required"), std::string::npos) << s.message();
}

TEST_F(SchemaParityTest, LengthAndItemBoundsAreEnforcedByTheParser) {
  int checked = 0;
  for (const auto& o : occurrences_) {
    if (at(o.schema, "minLength").IsDefined()) {
      const int n = at(o.schema, "minLength").as<int>();
      ASSERT_GE(n, 1);
      expectRejected(o.path, YAML::Node(std::string(n - 1, 'a')), "shorter than minLength");
      ++checked;
    }
    if (at(o.schema, "maxLength").IsDefined()) {
      const int n = at(o.schema, "maxLength").as<int>();
      expectRejected(o.path, YAML::Node(std::string(n + 1, 'a')), "longer than maxLength");
      ++checked;
    }
    if (at(o.schema, "minItems").IsDefined()) {
      ASSERT_EQ(at(o.schema, "minItems").as<int>(), 1) << pathText(o.path);
      expectRejected(o.path, YAML::Node(YAML::NodeType::Sequence), "fewer than minItems");
      ++checked;
    }
  }
  EXPECT_GE(checked, 10);
}

// Strings to try on each field with a pattern: some the pattern accepts, some it rejects.
// A new pattern needs its samples here (the test fails until it has them).
const std::map<std::string, std::vector<std::string>>& patternSamples() {
  static const auto* samples = [] {
    const std::vector<std::string> durations = {
        "10h", "1m30s", "0",   "1.5h", ".5h", "5.m",    "+5m",    "500ms", "2d", "1w", "336h",
        "90",  "10x",   "-1h", "h",    "1h-", "1.2.3h", "1h 30m", "",      "1H", "0s"};
    const std::vector<std::string> quantities = {
        "150m", "2k",  "512Mi", "1e3",  "1E-3",  "1.5", "+1",  ".5", "5.",   "1Ki", "0",
        "-5",   "abc", "1e",    "10 m", "1.5.1", "",    "1ki", "m",  "1e+2", "0.0"};
    const std::vector<std::string> names = {"cpu", "queue.depth", "a_b-C9", "cpu load",          "",
                                            "é",   "a/b",         "x:y",    std::string(64, 'a')};
    const std::vector<std::string> addresses = {"http://prometheus:9090",
                                                "https://thanos.example",
                                                "ftp://x",
                                                "prometheus:9090",
                                                "HTTP://x",
                                                "",
                                                "//x"};
    return new std::map<std::string, std::vector<std::string>>{
        {"spec.schedules[].duration", durations},
        {"spec.predictive.history", durations},
        {"spec.predictive.resolution", durations},
        {"spec.predictive.seasonalPeriods[]", durations},
        {"spec.metrics[].target.averageValue", quantities},
        {"spec.metrics[].target.value", quantities},
        {"spec.metrics[].name", names},
        {"spec.predictive.metric", names},
        {"spec.metrics[].prometheus.address", addresses},
    };
  }();
  return *samples;
}

TEST_F(SchemaParityTest, PatternsAreNeverStricterThanTheParser) {
  int patterns = 0;
  for (const auto& o : occurrences_) {
    if (!at(o.schema, "pattern").IsScalar()) continue;
    ++patterns;
    const std::string field = normalized(o.path);
    auto samples = patternSamples().find(field);
    ASSERT_NE(samples, patternSamples().end()) << field << " has a pattern but no samples";
    // Kubernetes matches patterns with Go's RE2, unanchored; these patterns anchor themselves
    // and use only syntax that ECMAScript and RE2 read alike.
    const std::regex pattern(at(o.schema, "pattern").Scalar());
    int matched = 0;
    int refused = 0;
    for (const auto& sample : samples->second) {
      if (std::regex_search(sample, pattern)) {
        ++matched;
      } else {
        ++refused;
        expectRejected(o.path, YAML::Node(sample), "pattern " + at(o.schema, "pattern").Scalar());
      }
    }
    // Samples on both sides, or the check has no teeth.
    EXPECT_GE(matched, 2) << field;
    EXPECT_GE(refused, 2) << field;
  }
  EXPECT_GE(patterns, 9);
}

TEST_F(SchemaParityTest, EverySampleThePatternAcceptsInContextIsParsed) {
  // The other direction, on fields where the parser has no further rule: what matches the
  // pattern parses, so the pattern is not looser than it needs to be.
  struct Case {
    DocPath path;
    std::vector<std::string> values;
  };
  const std::vector<Case> cases = {
      {{{"spec", 0}, {"schedules", 0}, {"", 0}, {"duration", 0}},
       {"10h", "1m30s", "1.5h", ".5h", "5.m", "+5m", "500ms", "2d", "1w"}},
      {{{"spec", 0}, {"metrics", 0}, {"", 1}, {"target", 0}, {"averageValue", 0}},
       {"150m", "2k", "512Mi", "1e3", "1E-3", "1.5", "+1", ".5", "5.", "1Ki", "1e+2"}},
      {{{"spec", 0}, {"metrics", 0}, {"", 0}, {"name", 0}}, {"cpu2", "queue.depth2", "a_b-C9"}},
      {{{"spec", 0}, {"metrics", 0}, {"", 1}, {"prometheus", 0}, {"address", 0}},
       {"http://prometheus:9090", "https://thanos.example"}},
  };
  for (const auto& c : cases) {
    for (const auto& v : c.values) {
      YAML::Node doc = withField(base_, c.path, YAML::Node(v));
      // A renamed metric must not leave spec.predictive.metric dangling.
      if (c.path.back().key == "name") {
        doc = withField(doc, {{"spec", 0}, {"predictive", 0}, {"metric", 0}}, YAML::Node(v));
      }
      Status s = parse(doc);
      EXPECT_TRUE(s.ok()) << pathText(c.path) << " = " << v << ": " << s.message();
    }
  }
}

// The CEL rules' meaning, pinned to the parser: each rule (by field and message) with a
// mutation that breaks it and the path the parser names. A rule added to the CRD without a
// case here fails the test.
struct CelCase {
  std::string field;    // normalized path of the schema node carrying the rule
  std::string message;  // the rule's message
  std::function<YAML::Node(const YAML::Node&)> mutate;
  std::string parser_path;
};

DocPath docPath(std::initializer_list<PathStep> steps) { return DocPath(steps); }

std::vector<CelCase> celCases() {
  const DocPath schedule0 = docPath({{"spec", 0}, {"schedules", 0}, {"", 0}});
  const DocPath schedule1 = docPath({{"spec", 0}, {"schedules", 0}, {"", 1}});
  auto at = [](DocPath base, const char* key) {
    base.push_back({key, 0});
    return base;
  };
  return {
      {"spec", "maxReplicas must be >= minReplicas",
       [](const YAML::Node& d) {
         return withField(withField(d, {{"spec", 0}, {"minReplicas", 0}}, YAML::Node("10")),
                          {{"spec", 0}, {"maxReplicas", 0}}, YAML::Node("5"));
       },
       "spec.maxReplicas"},
      {"spec.metrics[].target",
       "set exactly one of averageUtilization (type Utilization), averageValue (type "
       "AverageValue) or value (type Value)",
       [](const YAML::Node& d) {
         return withField(
             d, {{"spec", 0}, {"metrics", 0}, {"", 0}, {"target", 0}, {"averageValue", 0}},
             YAML::Node("1"));
       },
       "spec.metrics[0].target.averageValue"},
      {"spec.schedules[]", "set either duration or end, not both",
       [=](const YAML::Node& d) {
         return withField(d, at(schedule0, "end"), YAML::Node("0 18 * * *"));
       },
       "spec.schedules[0].end"},
      {"spec.schedules[]", "duration or end is required",
       [=](const YAML::Node& d) { return withField(d, at(schedule0, "duration"), std::nullopt); },
       "spec.schedules[0].duration"},
      {"spec.schedules[]", "set either replicas or minReplicas/maxReplicas, not both",
       [=](const YAML::Node& d) {
         return withField(d, at(schedule0, "replicas"), YAML::Node("3"));
       },
       "spec.schedules[0].replicas"},
      {"spec.schedules[]", "must set replicas, minReplicas or maxReplicas",
       [=](const YAML::Node& d) { return withField(d, at(schedule1, "replicas"), std::nullopt); },
       "spec.schedules[1]"},
      {"spec.schedules[]", "maxReplicas must be >= minReplicas",
       [=](const YAML::Node& d) {
         return withField(d, at(schedule0, "minReplicas"), YAML::Node("70"));
       },
       "spec.schedules[0].maxReplicas"},
  };
}

void collectRules(const YAML::Node& schema, const std::string& field,
                  std::set<std::pair<std::string, std::string>>& out) {
  for (const auto& rule : at(schema, "x-kubernetes-validations")) {
    out.insert({field, rule["message"].Scalar()});
  }
  if (at(schema, "properties").IsMap()) {
    for (const auto& kv : at(schema, "properties")) {
      collectRules(kv.second, field + "." + kv.first.Scalar(), out);
    }
  }
  if (at(schema, "items").IsMap()) collectRules(at(schema, "items"), field + "[]", out);
}

TEST_F(SchemaParityTest, EveryCelRuleIsAlsoAParserRule) {
  std::set<std::pair<std::string, std::string>> rules;
  collectRules(at(at(root_schema_, "properties"), "spec"), "spec", rules);
  std::set<std::pair<std::string, std::string>> covered;
  for (const auto& c : celCases()) {
    covered.insert({c.field, c.message});
    Status s = parse(c.mutate(base_));
    EXPECT_FALSE(s.ok()) << c.field << ": " << c.message;
    EXPECT_NE(s.message().find(c.parser_path + ": "), std::string::npos)
        << c.message << ": " << s.message();
  }
  EXPECT_EQ(rules, covered);
}

// --- The status schema against controller/status_json.cpp. ---

// Checks `value` against `schema`; records every mismatch with its path.
void checkJson(const nlohmann::json& value, const YAML::Node& schema, const std::string& path,
               std::vector<std::string>& problems, std::set<std::string>& seen) {
  seen.insert(path);
  const std::string type = at(schema, "type").IsScalar() ? at(schema, "type").Scalar() : "";
  auto problem = [&](const std::string& what) { problems.push_back(path + ": " + what); };
  if (type == "object") {
    if (!value.is_object()) return problem("must be an object");
    for (const auto& key : at(schema, "required")) {
      if (!value.contains(key.Scalar())) problem("required field " + key.Scalar() + " missing");
    }
    for (const auto& [key, item] : value.items()) {
      const YAML::Node property = at(at(schema, "properties"), key);
      if (!property.IsDefined()) {
        problem("field " + key + " is not in the schema (the API server would prune it)");
        continue;
      }
      checkJson(item, property, path + "." + key, problems, seen);
    }
  } else if (type == "array") {
    if (!value.is_array()) return problem("must be a list");
    for (const auto& item : value)
      checkJson(item, at(schema, "items"), path + "[]", problems, seen);
  } else if (type == "integer") {
    if (!value.is_number_integer()) problem("must be an integer");
  } else if (type == "string") {
    if (!value.is_string()) return problem("must be a string");
    if (at(schema, "enum").IsSequence()) {
      bool found = false;
      for (const auto& e : at(schema, "enum"))
        found = found || e.Scalar() == value.get<std::string>();
      if (!found) problem("not in the enum: " + value.get<std::string>());
    }
    if (at(schema, "format").IsScalar() && at(schema, "format").Scalar() == "date-time") {
      static const std::regex kDateTime(
          R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$)");
      if (!std::regex_search(value.get<std::string>(), kDateTime)) problem("not a date-time");
    }
  } else if (type == "boolean") {
    if (!value.is_boolean()) problem("must be a boolean");
  } else {
    problem("schema has no type");
  }
}

TEST_F(SchemaParityTest, StatusSchemaIsWhatTheOperatorWrites) {
  const nlohmann::json status = controller::statusToJson(fullPolicyStatus());
  std::vector<std::string> problems;
  std::set<std::string> seen;
  const YAML::Node schema = at(at(root_schema_, "properties"), "status");
  checkJson(status, schema, "status", problems, seen);
  for (const auto& p : problems) ADD_FAILURE() << p;
  // Every field of the schema is written for a fully populated status: the schema declares
  // nothing the operator does not maintain.
  std::set<std::string> declared;
  schemaFields(schema, "status", declared);
  for (const auto& field : declared) {
    EXPECT_EQ(seen.count(field), 1u) << field << " is declared but never written";
  }
}

// --- Structural schema: what kube-apiserver checks before it accepts the CRD. ---

void checkStructural(const YAML::Node& schema, const std::string& path,
                     std::vector<std::string>& problems) {
  const bool int_or_string = at(schema, "x-kubernetes-int-or-string").IsDefined();
  const bool preserve = at(schema, "x-kubernetes-preserve-unknown-fields").IsDefined();
  if (!at(schema, "type").IsScalar() && !int_or_string && !preserve) {
    problems.push_back(path + ": no type");
  }
  for (const char* junctor : {"oneOf", "anyOf", "allOf"}) {
    for (const auto& branch : schema[junctor]) {
      // Inside junctors only value validations: int-or-string's anyOf of types is the one
      // allowed exception.
      for (const char* banned : {"description", "default", "additionalProperties", "nullable"}) {
        if (branch[banned].IsDefined()) problems.push_back(path + "." + junctor + ": " + banned);
      }
      if (at(branch, "type").IsDefined() && !int_or_string) {
        problems.push_back(path + "." + junctor + ": type");
      }
      for (const auto& kv : at(branch, "properties")) {
        if (!at(at(schema, "properties"), kv.first.Scalar()).IsDefined()) {
          problems.push_back(path + "." + junctor + ": property " + kv.first.Scalar() +
                             " not declared outside the junctor");
        }
      }
    }
  }
  if (at(schema, "x-kubernetes-list-type").IsScalar() &&
      at(schema, "x-kubernetes-list-type").Scalar() == "map") {
    for (const auto& key : at(schema, "x-kubernetes-list-map-keys")) {
      bool required = false;
      for (const auto& r : at(at(schema, "items"), "required"))
        required = required || r.Scalar() == key.Scalar();
      if (!required) problems.push_back(path + ": list-map key " + key.Scalar() + " not required");
    }
  }
  if (at(schema, "properties").IsMap()) {
    for (const auto& kv : at(schema, "properties")) {
      checkStructural(kv.second, path + "." + kv.first.Scalar(), problems);
    }
  }
  if (at(schema, "items").IsMap()) checkStructural(at(schema, "items"), path + "[]", problems);
}

TEST_F(SchemaParityTest, SchemaIsStructural) {
  std::vector<std::string> problems;
  checkStructural(root_schema_, "", problems);
  for (const auto& p : problems) ADD_FAILURE() << p;
  // metadata may carry no schema of its own beyond its type.
  EXPECT_FALSE(at(at(at(root_schema_, "properties"), "metadata"), "properties").IsDefined());
}

}  // namespace
}  // namespace governor::testing::manifests
