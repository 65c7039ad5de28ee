#include "controller/kube/watch.h"

#include <gtest/gtest.h>

#include "controller/kube/backoff.h"
#include "controller/kube/informer.h"

namespace governor::controller::kube {
namespace {

struct EventCase {
  std::string name;
  std::string line;
  WatchEventType type;
  std::string error;  // "" when the line is valid.
};

class ParseWatchEventTest : public ::testing::TestWithParam<EventCase> {};

TEST_P(ParseWatchEventTest, Parses) {
  const EventCase& c = GetParam();
  auto event = parseWatchEvent(c.line);
  if (c.error.empty()) {
    ASSERT_TRUE(event.ok()) << event.status().toString();
    EXPECT_EQ(event->type, c.type);
    EXPECT_TRUE(event->object.is_object());
  } else {
    ASSERT_FALSE(event.ok());
    EXPECT_EQ(event.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(event.status().message().find(c.error), std::string::npos)
        << event.status().message();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Lines, ParseWatchEventTest,
    ::testing::Values(
        EventCase{"Added", R"({"type":"ADDED","object":{"metadata":{"name":"a"}}})",
                  WatchEventType::kAdded, ""},
        EventCase{"Modified", R"({"type":"MODIFIED","object":{}})", WatchEventType::kModified, ""},
        EventCase{"Deleted", R"({"type":"DELETED","object":{}})", WatchEventType::kDeleted, ""},
        EventCase{
            "Bookmark",
            R"({"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"12"}}})",
            WatchEventType::kBookmark, ""},
        EventCase{"Error", R"({"type":"ERROR","object":{"kind":"Status","code":410}})",
                  WatchEventType::kError, ""},
        EventCase{"NotJson", "{\"type\":", WatchEventType::kAdded, "not a JSON object"},
        EventCase{"NotAnObject", "[1,2]", WatchEventType::kAdded, "not a JSON object"},
        EventCase{"NoType", R"({"object":{}})", WatchEventType::kAdded, "type: missing"},
        EventCase{"UnknownType", R"({"type":"RENAMED","object":{}})", WatchEventType::kAdded,
                  "type: unknown \"RENAMED\""},
        EventCase{"NoObject", R"({"type":"ADDED"})", WatchEventType::kAdded, "object: missing"},
        EventCase{"ObjectNotAnObject", R"({"type":"ADDED","object":"x"})", WatchEventType::kAdded,
                  "object: missing"}),
    [](const auto& info) { return info.param.name; });

TEST(WatchParamsTest, BookmarksVersionAndTimeout) {
  WatchOptions options;
  options.label_selector = "app=web";
  options.resource_version = "41";
  options.timeout = std::chrono::seconds(300);
  EXPECT_EQ(queryString(watchParams(options)),
            "watch=true&labelSelector=app%3Dweb&resourceVersion=41&allowWatchBookmarks=true&"
            "timeoutSeconds=300");
  WatchOptions plain;
  plain.allow_bookmarks = false;
  plain.timeout = std::chrono::seconds(0);
  EXPECT_EQ(queryString(watchParams(plain)), "watch=true");
}

TEST(MetadataTest, ReadsOrEmpty) {
  const auto object =
      nlohmann::json::parse(R"({"metadata":{"name":"a","namespace":"web","resourceVersion":"7"}})");
  EXPECT_EQ(nameOf(object), "a");
  EXPECT_EQ(namespaceOf(object), "web");
  EXPECT_EQ(resourceVersionOf(object), "7");
  EXPECT_EQ(nameOf(nlohmann::json::parse(R"({"metadata":{"name":3}})")), "");
  EXPECT_EQ(nameOf(nlohmann::json::parse("[]")), "");
}

TEST(BackoffTest, DoublesToTheCapWithBoundedJitter) {
  Backoff backoff(Duration(500), Duration(30'000), 0.2, /*seed=*/7);
  Duration previous_cap(0);
  for (int i = 0; i < 12; ++i) {
    const Duration cap = std::min(Duration(500 * (int64_t{1} << i)), Duration(30'000));
    const Duration d = backoff.next();
    EXPECT_LE(d, cap) << "attempt " << i;
    EXPECT_GE(d.count(), static_cast<int64_t>(cap.count() * 0.8)) << "attempt " << i;
    EXPECT_GE(cap, previous_cap);
    previous_cap = cap;
  }
  backoff.reset();
  EXPECT_LE(backoff.next(), Duration(500));
}

TEST(BackoffTest, NoJitterIsExact) {
  Backoff backoff(Duration(100), Duration(350), 0.0, 1);
  EXPECT_EQ(backoff.next(), Duration(100));
  EXPECT_EQ(backoff.next(), Duration(200));
  EXPECT_EQ(backoff.next(), Duration(350));
  EXPECT_EQ(backoff.next(), Duration(350));
}

nlohmann::json object(const std::string& ns, const std::string& name, const std::string& rv) {
  return {{"metadata", {{"namespace", ns}, {"name", name}, {"resourceVersion", rv}}}};
}

// The relist after a 410: what vanished is deleted, what changed is updated, what is new is
// added, and unchanged objects keep their snapshot (readers holding it see no churn).
TEST(ReplaceCacheTest, DiffsAgainstTheList) {
  ObjectCache cache;
  auto initial = replaceCache(
      cache, {object("a", "kept", "1"), object("a", "changed", "2"), object("b", "vanished", "3")});
  EXPECT_EQ(initial.added.size(), 3u);
  EXPECT_TRUE(initial.updated.empty());
  EXPECT_TRUE(initial.deleted.empty());
  const ObjectPtr kept_before = cache.at("a/kept");

  auto delta = replaceCache(cache, {object("a", "kept", "1"), object("a", "changed", "5"),
                                    object("", "cluster-wide", "6"), nlohmann::json::object()});
  ASSERT_EQ(delta.added.size(), 1u);
  EXPECT_EQ(nameOf(*delta.added[0]), "cluster-wide");
  ASSERT_EQ(delta.updated.size(), 1u);
  EXPECT_EQ(resourceVersionOf(*delta.updated[0].first), "2");
  EXPECT_EQ(resourceVersionOf(*delta.updated[0].second), "5");
  ASSERT_EQ(delta.deleted.size(), 1u);
  EXPECT_EQ(nameOf(*delta.deleted[0]), "vanished");
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.at("a/kept"), kept_before);
  EXPECT_TRUE(cache.count("cluster-wide"));
}

}  // namespace
}  // namespace governor::controller::kube
