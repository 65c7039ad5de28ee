#include "policies/manifest_reader.h"

#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace governor::policies {
namespace {

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

// A read of one field, its value rendered as text (nullopt: the reader returned nothing).
using Read = std::function<std::optional<std::string>(ManifestReader&, const YAML::Node&)>;

template <typename T>
std::optional<std::string> render(const std::optional<T>& v) {
  if (!v) return std::nullopt;
  if constexpr (std::is_same_v<T, std::string>) {
    return *v;
  } else if constexpr (std::is_same_v<T, bool>) {
    return *v ? "true" : "false";
  } else if constexpr (std::is_same_v<T, double>) {
    return ManifestReader::formatNumber(*v);
  } else {
    return std::to_string(*v);
  }
}

Read stringField(const char* key, bool required) {
  return [=](ManifestReader& r, const YAML::Node& n) {
    return render(r.string(n, "spec", key, required));
  };
}
Read nonEmptyStringField(const char* key, bool required) {
  return [=](ManifestReader& r, const YAML::Node& n) {
    return render(r.nonEmptyString(n, "spec", key, required));
  };
}
Read integerField(const char* key, bool required, int64_t min, int64_t max) {
  return [=](ManifestReader& r, const YAML::Node& n) {
    return render(r.integer(n, "spec", key, required, min, max));
  };
}
Read numberField(const char* key, bool required, double min, double max) {
  return [=](ManifestReader& r, const YAML::Node& n) {
    return render(r.number(n, "spec", key, required, min, max));
  };
}
Read numberAboveField(const char* key, bool required, double min) {
  return [=](ManifestReader& r, const YAML::Node& n) {
    return render(r.numberAbove(n, "spec", key, required, min));
  };
}
Read booleanField(const char* key) {
  return [=](ManifestReader& r, const YAML::Node& n) { return render(r.boolean(n, "spec", key)); };
}

struct ReadCase {
  std::string name;
  std::string yaml;  // The parent mapping, whose path is "spec".
  Read read;
  std::optional<std::string> want_value;
  std::string want_error;  // Empty: no error.
};

class ManifestReaderReadTest : public testing::TestWithParam<ReadCase> {};

TEST_P(ManifestReaderReadTest, Reads) {
  const ReadCase& c = GetParam();
  ManifestReader reader("m.yaml");
  const YAML::Node parent = YAML::Load(c.yaml);
  EXPECT_EQ(c.read(reader, parent), c.want_value);
  if (c.want_error.empty()) {
    EXPECT_TRUE(reader.ok()) << reader.status().message();
  } else {
    ASSERT_FALSE(reader.ok());
    EXPECT_EQ(reader.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(reader.status().message(), c.want_error);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, ManifestReaderReadTest,
    testing::Values(
        // string
        ReadCase{"String", "a: 1\nname: web\n", stringField("name", true), "web", ""},
        ReadCase{"StringMissingOptional", "a: 1\n", stringField("name", false), std::nullopt, ""},
        ReadCase{"StringNullOptional", "name: ~\n", stringField("name", false), std::nullopt, ""},
        ReadCase{"StringMissingRequired", "a: 1\n", stringField("name", true), std::nullopt,
                 "m.yaml:1: spec.name: required"},
        ReadCase{"StringList", "a: 1\nname: [x]\n", stringField("name", true), std::nullopt,
                 "m.yaml:2: spec.name: must be a string, got a list"},
        ReadCase{"StringEmptyRequired", "name: ''\n", stringField("name", true), std::nullopt,
                 "m.yaml:1: spec.name: must not be empty"},
        ReadCase{"StringEmptyOptional", "name: ''\n", stringField("name", false), "", ""},
        // nonEmptyString
        ReadCase{"NonEmptyString", "file: a.csv\n", nonEmptyStringField("file", true), "a.csv", ""},
        ReadCase{"NonEmptyStringEmptyOptional", "file: ''\n", nonEmptyStringField("file", false),
                 std::nullopt, "m.yaml:1: spec.file: must be a non-empty string, got \"\""},
        ReadCase{"NonEmptyStringMapping", "file: {a: 1}\n", nonEmptyStringField("file", true),
                 std::nullopt, "m.yaml:1: spec.file: must be a non-empty string, got a mapping"},
        ReadCase{"NonEmptyStringMissingRequired", "a: 1\n", nonEmptyStringField("file", true),
                 std::nullopt, "m.yaml:1: spec.file: required"},
        // integer
        ReadCase{"Integer", "n: 42\n", integerField("n", true, 0, 100), "42", ""},
        ReadCase{"IntegerNotANumber", "n: ten\n", integerField("n", true, 0, 100), std::nullopt,
                 "m.yaml:1: spec.n: must be an integer, got \"ten\""},
        ReadCase{"IntegerFraction", "n: 1.5\n", integerField("n", true, 0, 100), std::nullopt,
                 "m.yaml:1: spec.n: must be an integer, got \"1.5\""},
        ReadCase{"IntegerList", "n: [1]\n", integerField("n", true, 0, 100), std::nullopt,
                 "m.yaml:1: spec.n: must be an integer, got a list"},
        ReadCase{"IntegerAboveMax", "n: 101\n", integerField("n", true, 0, 100), std::nullopt,
                 "m.yaml:1: spec.n: must be in [0, 100], got 101"},
        ReadCase{"IntegerBelowUnboundedMin", "n: 0\n", integerField("n", true, 1, kInt32Max),
                 std::nullopt, "m.yaml:1: spec.n: must be >= 1, got 0"},
        ReadCase{"IntegerMissingOptional", "a: 1\n", integerField("n", false, 0, 100), std::nullopt,
                 ""},
        // number
        ReadCase{"Number", "q: 0.9\n", numberField("q", false, 0.5, 0.999), "0.9", ""},
        ReadCase{"NumberOutOfRange", "q: 1\n", numberField("q", false, 0.5, 0.999), std::nullopt,
                 "m.yaml:1: spec.q: must be in [0.5, 0.999], got 1"},
        ReadCase{"NumberNotFinite", "q: inf\n", numberField("q", false, 0, 1), std::nullopt,
                 "m.yaml:1: spec.q: must be a number, got \"inf\""},
        ReadCase{"NumberRequired", "a: 1\n", numberField("q", true, 0, 1), std::nullopt,
                 "m.yaml:1: spec.q: required"},
        // numberAbove
        ReadCase{"NumberAbove", "c: 2.5\n", numberAboveField("c", true, 0), "2.5", ""},
        ReadCase{"NumberAboveAtMin", "c: 0\n", numberAboveField("c", true, 0), std::nullopt,
                 "m.yaml:1: spec.c: must be > 0, got 0"},
        ReadCase{"NumberAboveMapping", "c: {}\n", numberAboveField("c", true, 0), std::nullopt,
                 "m.yaml:1: spec.c: must be a number, got a mapping"},
        // boolean
        ReadCase{"True", "b: true\n", booleanField("b"), "true", ""},
        ReadCase{"False", "b: false\n", booleanField("b"), "false", ""},
        ReadCase{"BooleanMissing", "a: 1\n", booleanField("b"), std::nullopt, ""},
        ReadCase{"BooleanYes", "b: yes\n", booleanField("b"), std::nullopt,
                 "m.yaml:1: spec.b: must be true or false, got \"yes\""}),
    [](const testing::TestParamInfo<ReadCase>& info) { return info.param.name; });

TEST(ManifestReaderTest, CollectsEveryProblemInOrder) {
  ManifestReader reader("m.yaml");
  const YAML::Node doc = YAML::Load("kind: 7\nspec:\n  typo: 1\n  n: x\n");
  EXPECT_TRUE(reader.expectMap(doc["spec"], "spec"));
  reader.rejectUnknown(doc["spec"], "spec", {"n"});
  EXPECT_EQ(reader.integer(doc["spec"], "spec", "n", true, 0, 10), std::nullopt);
  EXPECT_FALSE(reader.expectMap(doc["kind"], "kind"));
  EXPECT_EQ(reader.status().message(),
            "m.yaml:3: spec.typo: unknown field\n"
            "m.yaml:4: spec.n: must be an integer, got \"x\"\n"
            "m.yaml:1: kind: must be a mapping, got \"7\"");
}

TEST(ManifestReaderTest, WhereLeavesOutTheLineOfAMissingNode) {
  ManifestReader reader("m.yaml");
  const YAML::Node doc = YAML::Load("a: 1\nb: 2\n");
  EXPECT_EQ(reader.where(doc["b"]), "m.yaml:2");
  EXPECT_EQ(reader.where(doc["missing"]), "m.yaml");
}

struct PathCase {
  std::string got;
  std::string want;
};

TEST(ManifestReaderTest, Helpers) {
  const YAML::Node doc = YAML::Load("m: {}\nl: []\nn: ~\ns: abc\n");
  for (const auto& [got, want] : std::vector<PathCase>{
           {ManifestReader::join("", "kind"), "kind"},
           {ManifestReader::join("spec", "trace"), "spec.trace"},
           {ManifestReader::index("spec.policies", 2), "spec.policies[2]"},
           {ManifestReader::kindName(doc["m"]), "a mapping"},
           {ManifestReader::kindName(doc["l"]), "a list"},
           {ManifestReader::kindName(doc["n"]), "null"},
           {ManifestReader::kindName(doc["s"]), "\"abc\""},
           {ManifestReader::kindName(YAML::Node(YAML::NodeType::Undefined)), "nothing"},
           {ManifestReader::formatNumber(0), "0"},
           {ManifestReader::formatNumber(1e6), "1000000"},
           {ManifestReader::formatNumber(0.999), "0.999"},
       }) {
    EXPECT_EQ(got, want);
  }
}

struct DocumentsCase {
  std::string name;
  std::string text;
  std::vector<std::string> want_docs;  // The `name` of each document parsed.
  std::string want_error;              // Empty: OK.
};

class ForEachDocumentTest : public testing::TestWithParam<DocumentsCase> {};

// Each document must have a non-empty `name`.
TEST_P(ForEachDocumentTest, ParsesEveryDocument) {
  const DocumentsCase& c = GetParam();
  std::vector<std::string> docs;
  Status status =
      ManifestReader::forEachDocument(c.text, "d.yaml", [&](const YAML::Node& doc) -> Status {
        ManifestReader reader("d.yaml");
        if (!reader.expectMap(doc, "(document)")) return reader.status();
        auto name = reader.string(doc, "", "name", true);
        if (!reader.ok()) return reader.status();
        docs.push_back(*name);
        return Status::okStatus();
      });
  EXPECT_EQ(docs, c.want_docs);
  if (c.want_error.empty()) {
    EXPECT_TRUE(status.ok()) << status.message();
  } else {
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message(), c.want_error);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, ForEachDocumentTest,
    testing::Values(DocumentsCase{"One", "name: a\n", {"a"}, ""},
                    DocumentsCase{
                        "SkipsEmpty", "---\nname: a\n---\n---\nname: b\n", {"a", "b"}, ""},
                    DocumentsCase{"Empty", "", {}, ""},
                    DocumentsCase{"ProblemsOfEveryDocument",
                                  "name: a\n---\nother: 1\n---\n[1]\n",
                                  {"a"},
                                  "d.yaml:3: name: required\n"
                                  "d.yaml:5: (document): must be a mapping, got a list"},
                    DocumentsCase{"InvalidYaml",
                                  "name: [a\n",
                                  {},
                                  "d.yaml:2: invalid YAML: end of sequence flow not found"}),
    [](const testing::TestParamInfo<DocumentsCase>& info) { return info.param.name; });

TEST(ForEachDocumentTest, AYamlErrorWhileParsingIsThatDocumentsProblem) {
  Status status =
      ManifestReader::forEachDocument("name: a\n", "d.yaml", [](const YAML::Node& doc) -> Status {
        (void)doc["name"].as<int>();  // Throws YAML::TypedBadConversion.
        return Status::okStatus();
      });
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message().rfind("d.yaml:1: invalid YAML: ", 0), 0u) << status.message();
}

}  // namespace
}  // namespace governor::policies
