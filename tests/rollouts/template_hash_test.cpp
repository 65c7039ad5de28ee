#include "rollouts/template_hash.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace governor::rollouts {
namespace {

// FNV-1a 32 test vectors from the FNV reference (http://www.isthe.com/chongo/tech/comp/fnv/,
// test_fnv.c: FNV1A_32 of "", "a", "foobar").
TEST(TemplateHashTest, FnvReferenceVectors) {
  EXPECT_EQ(fnv1a32(""), 0x811c9dc5u);
  EXPECT_EQ(fnv1a32("a"), 0xe40c292cu);
  EXPECT_EQ(fnv1a32("foobar"), 0xbf9cf968u);
}

// k8s.io/apimachinery/pkg/util/rand SafeEncodeString: alphanums[b % 27].
TEST(TemplateHashTest, SafeEncodingOfDigits) {
  EXPECT_EQ(safeEncodeString("0123456789"), "456789bcdf");
  EXPECT_EQ(safeEncodeString(""), "");
  // Every byte lands in the alphabet.
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  for (char c : safeEncodeString(all)) {
    EXPECT_NE(kSafeAlphabet.find(c), std::string_view::npos) << static_cast<int>(c);
  }
}

TEST(TemplateHashTest, HashIsTheSafeEncodedDecimalFnv) {
  for (const char* json : {"", "{}", R"({"spec":{"containers":[]}})"}) {
    EXPECT_EQ(podTemplateHash(json), safeEncodeString(std::to_string(fnv1a32(json)))) << json;
  }
}

TEST(TemplateHashTest, CollisionCountChangesTheHash) {
  const std::string json = R"({"metadata":{"labels":{"app":"web"}}})";
  std::set<std::string> seen = {podTemplateHash(json)};
  for (int32_t count = 0; count < 50; ++count) {
    EXPECT_TRUE(seen.insert(podTemplateHash(json, count)).second) << count;
  }
  // As ComputeHash: the count's 4 little-endian bytes, then 4 zero bytes.
  const std::string bytes("\x02\x00\x00\x00\x00\x00\x00\x00", 8);
  EXPECT_EQ(podTemplateHash(json, 2), safeEncodeString(std::to_string(fnv1a32(json + bytes))));
}

struct CanonicalCase {
  std::string name;
  std::string yaml;
  std::string json;
};

class CanonicalJsonTest : public testing::TestWithParam<CanonicalCase> {};

TEST_P(CanonicalJsonTest, Converts) {
  auto got = canonicalJsonText(GetParam().yaml);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(*got, GetParam().json);
}

// Scalar resolution as go-yaml v2 (YAML 1.1), which kubectl's YAML-to-JSON conversion uses.
INSTANTIATE_TEST_SUITE_P(
    Table, CanonicalJsonTest,
    testing::Values(CanonicalCase{"SortsKeys", "{b: 1, a: 2, A: 3}", R"({"A":3,"a":2,"b":1})"},
                    CanonicalCase{"Nested", "b: {d: [1, {z: 1, y: 2}], c: x}\na: []\n",
                                  R"({"a":[],"b":{"c":"x","d":[1,{"y":2,"z":1}]}})"},
                    CanonicalCase{"QuotedStaysString", "{a: '80', b: \"true\", c: 'null'}",
                                  R"({"a":"80","b":"true","c":"null"})"},
                    CanonicalCase{"Yaml11Booleans", "[yes, No, on, OFF, true, False, y]",
                                  "[true,false,true,false,true,false,true]"},
                    CanonicalCase{"Nulls", "[~, null, Null, NULL]", "[null,null,null,null]"},
                    CanonicalCase{"EmptyValue", "{a: }", R"({"a":null})"},
                    CanonicalCase{"Integers", "[0, 42, -7, +3, 0x1F, 0o17, 017, 0b101]",
                                  "[0,42,-7,3,31,15,15,5]"},
                    CanonicalCase{"Floats", "[1.50, 1e3, -0.25, .5, 2.0, 1.0e-7]",
                                  "[1.5,1000,-0.25,0.5,2,1e-07]"},
                    CanonicalCase{"NotNumbers", "[1.2.3, 10m, 0x, 1e, v1.2]",
                                  R"(["1.2.3","10m","0x","1e","v1.2"])"},
                    CanonicalCase{"ExplicitStr", "[!!str 3, !!str true]", R"(["3","true"])"},
                    CanonicalCase{"BlockScalars", "a: |\n  x\n  y\nb: >\n  folded\n",
                                  R"({"a":"x\ny\n","b":"folded\n"})"},
                    CanonicalCase{"Escapes", R"(["q\"b\\s", "t\tn\nc\u0001", "é"])",
                                  "[\"q\\\"b\\\\s\",\"t\\tn\\nc\\u0001\",\"é\"]"},
                    CanonicalCase{"DuplicateKeyKeepsTheLast", "{a: 1, a: 2}", R"({"a":2})"},
                    CanonicalCase{"Scalar", "hello", R"("hello")"}),
    [](const testing::TestParamInfo<CanonicalCase>& info) { return info.param.name; });

TEST(CanonicalJsonTest, RejectsWhatJsonCannotHold) {
  auto key = canonicalJsonText("a: {[1]: x}");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().message(), "a: a mapping key must be a string, got a list");
  auto inf = canonicalJsonText("spec: {x: [1, .inf]}");
  ASSERT_FALSE(inf.ok());
  EXPECT_EQ(inf.status().message(),
            "spec.x[1]: \".inf\" is not a JSON number (quote it for a string)");
  auto bad = canonicalJsonText("a: [");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("invalid YAML"), std::string::npos);
}

// The same template written five ways: one hash. Formatting, key order, flow vs block
// style, JSON vs YAML and comments never change it.
TEST(TemplateHashTest, StableAcrossKeyOrderAndFormatting) {
  const std::vector<std::string> forms = {
      "metadata: {labels: {app: web, tier: fe}}\n"
      "spec: {containers: [{name: web, image: 'nginx:1.27', ports: [{containerPort: 80}]}]}\n",
      "spec:\n  containers:\n    - image: nginx:1.27   # pinned\n      ports:\n"
      "        - containerPort: 80\n      name: web\nmetadata:\n  labels:\n    tier: fe\n"
      "    app: web\n",
      R"({"spec":{"containers":[{"ports":[{"containerPort":80}],"name":"web",)"
      R"("image":"nginx:1.27"}]},"metadata":{"labels":{"tier":"fe","app":"web"}}})",
      R"({ "metadata" : { "labels" : { "app" : "web", "tier" : "fe" } },
          "spec" : { "containers" : [ { "name" : "web", "image" : "nginx:1.27",
          "ports" : [ { "containerPort" : 80.0 } ] } ] } })",
      "metadata:\n  labels: {\"app\": \"web\", \"tier\": \"fe\"}\nspec:\n  containers:\n"
      "  - {image: \"nginx:1.27\", name: \"web\", ports: [{containerPort: 0x50}]}\n",
  };
  std::set<std::string> hashes;
  for (const auto& form : forms) {
    auto json = canonicalJsonText(form);
    ASSERT_TRUE(json.ok()) << json.status().message() << "\n" << form;
    hashes.insert(podTemplateHash(*json));
  }
  EXPECT_EQ(hashes.size(), 1u);
}

// What changes the pods changes the hash: an image, a label, list order, a number that
// becomes a string.
TEST(TemplateHashTest, ChangesWithTheTemplate) {
  const std::vector<std::string> variants = {
      "{metadata: {labels: {app: web}}, spec: {containers: [{name: a, image: 'x:1'}]}}",
      "{metadata: {labels: {app: web}}, spec: {containers: [{name: a, image: 'x:2'}]}}",
      "{metadata: {labels: {app: web2}}, spec: {containers: [{name: a, image: 'x:1'}]}}",
      "{metadata: {labels: {app: web}}, spec: {containers: [{name: a, image: 'x:1'}, "
      "{name: b, image: y}]}}",
      "{metadata: {labels: {app: web}}, spec: {containers: [{name: b, image: y}, "
      "{name: a, image: 'x:1'}]}}",
      "{metadata: {labels: {app: web}}, spec: {containers: [{name: a, image: 'x:1', "
      "ports: [{containerPort: 80}]}]}}",
      "{metadata: {labels: {app: web}}, spec: {containers: [{name: a, image: 'x:1', "
      "ports: [{containerPort: '80'}]}]}}",
  };
  std::set<std::string> hashes;
  for (const auto& v : variants) {
    auto json = canonicalJsonText(v);
    ASSERT_TRUE(json.ok()) << json.status().message();
    const std::string h = podTemplateHash(*json);
    EXPECT_FALSE(h.empty());
    EXPECT_LE(h.size(), 10u);
    for (char c : h) EXPECT_NE(kSafeAlphabet.find(c), std::string_view::npos) << h;
    hashes.insert(h);
  }
  EXPECT_EQ(hashes.size(), variants.size());
}

}  // namespace
}  // namespace governor::rollouts
