// The informer against the test API server: initial list, events, bookmarks, surviving a
// dropped watch without missing a change, relisting after a compaction (410), prompt stop.

#include <mutex>
#include <set>

#include <gtest/gtest.h>

#include "controller/kube/informer.h"
#include "tests/controller/kube/kube_fixture.h"

namespace governor::controller::kube {
namespace {

using governor::testing::waitUntil;
constexpr auto kWait = std::chrono::seconds(20);

// What the handlers saw, in order: "add ns/name", "update ns/name rv", "delete ns/name".
class Recorder {
 public:
  void attach(Informer& informer) {
    informer.onAdd([this](const nlohmann::json& o) { push("add " + key(o)); });
    informer.onUpdate([this](const nlohmann::json&, const nlohmann::json& o) {
      push("update " + key(o) + " " + o["data"].value("value", ""));
    });
    informer.onDelete([this](const nlohmann::json& o) { push("delete " + key(o)); });
  }
  std::vector<std::string> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }
  bool saw(const std::string& line) {
    std::lock_guard lock(mu_);
    return std::find(seen_.begin(), seen_.end(), line) != seen_.end();
  }

 private:
  static std::string key(const nlohmann::json& o) { return objectKey(namespaceOf(o), nameOf(o)); }
  void push(std::string line) {
    std::lock_guard lock(mu_);
    seen_.push_back(std::move(line));
  }
  std::mutex mu_;
  std::vector<std::string> seen_;
};

std::string valueOf(const ObjectPtr& object) {
  return object ? (*object)["data"].value("value", "") : "<none>";
}

class InformerIntegrationTest : public KubeServerTest {
 protected:
  void create(const std::string& ns, const std::string& name, const std::string& value) {
    auto created = client_->create(kConfigMaps.inNamespace(ns), configMap(name, value));
    ASSERT_TRUE(created.ok()) << created.status().toString();
  }
  void set(const std::string& ns, const std::string& name, const std::string& value) {
    auto patched = client_->patch(kConfigMaps.inNamespace(ns).named(name), PatchType::kMerge,
                                  {{"data", {{"value", value}}}});
    ASSERT_TRUE(patched.ok()) << patched.status().toString();
  }
  void remove(const std::string& ns, const std::string& name) {
    ASSERT_TRUE(client_->remove(kConfigMaps.inNamespace(ns).named(name)).ok());
  }
  // Watches of configmaps the server has open.
  int openWatches() {
    const auto watches = nlohmann::json::parse(control("GET", "/_test/watches"));
    int n = 0;
    const auto& list =
        watches.is_object() && watches.contains("watches") ? watches["watches"] : watches;
    for (const auto& w : list) n += w.value("resource", "") == "configmaps";
    return n;
  }
};

TEST_F(InformerIntegrationTest, ListsThenFollowsEvents) {
  const std::string ns = makeNamespace("follow");
  create(ns, "a", "1");
  create(ns, "b", "1");
  Informer informer(*client_, kConfigMaps.inNamespace(ns));
  Recorder recorder;
  recorder.attach(informer);
  EXPECT_FALSE(informer.hasSynced());
  informer.start();
  ASSERT_TRUE(informer.waitForSync(kWait));
  EXPECT_EQ(informer.list().size(), 2u);
  EXPECT_TRUE(recorder.saw("add " + ns + "/a"));
  EXPECT_TRUE(recorder.saw("add " + ns + "/b"));

  create(ns, "c", "1");
  set(ns, "a", "2");
  remove(ns, "b");
  ASSERT_TRUE(waitUntil([&] { return recorder.saw("delete " + ns + "/b"); }, kWait));
  EXPECT_EQ(recorder.seen(),
            (std::vector<std::string>{"add " + ns + "/a", "add " + ns + "/b", "add " + ns + "/c",
                                      "update " + ns + "/a 2", "delete " + ns + "/b"}));
  EXPECT_EQ(valueOf(informer.get(ns, "a")), "2");
  EXPECT_EQ(informer.get(ns, "b"), nullptr);
  EXPECT_NE(informer.get(ns, "c"), nullptr);
  EXPECT_EQ(informer.relists(), 0u);
}

TEST_F(InformerIntegrationTest, SelectorsAndOneInformerPerNamespace) {
  const std::string ns1 = makeNamespace("team-a");
  const std::string ns2 = makeNamespace("team-b");
  Informer first(*client_, kConfigMaps.inNamespace(ns1), {.label_selector = "app=web"});
  Informer second(*client_, kConfigMaps.inNamespace(ns2), {.label_selector = "app=web"});
  first.start();
  second.start();
  ASSERT_TRUE(first.waitForSync(kWait));
  ASSERT_TRUE(second.waitForSync(kWait));
  ASSERT_TRUE(client_->create(kConfigMaps.inNamespace(ns1), configMap("x", "1", "web")).ok());
  ASSERT_TRUE(client_->create(kConfigMaps.inNamespace(ns2), configMap("y", "1", "web")).ok());
  ASSERT_TRUE(client_->create(kConfigMaps.inNamespace(ns1), configMap("z", "1", "other")).ok());
  ASSERT_TRUE(waitUntil([&] { return first.get(ns1, "x") && second.get(ns2, "y"); }, kWait));
  // The unselected object's event came after x's in the same stream: had the selector not
  // been applied, it would be cached by now.
  ASSERT_TRUE(client_->create(kConfigMaps.inNamespace(ns1), configMap("w", "1", "web")).ok());
  ASSERT_TRUE(waitUntil([&] { return first.get(ns1, "w") != nullptr; }, kWait));
  EXPECT_EQ(first.get(ns1, "z"), nullptr);
  EXPECT_EQ(first.list().size(), 2u);
  EXPECT_EQ(second.list().size(), 1u);
  EXPECT_EQ(first.get(ns2, "y"), nullptr);
}

// A BOOKMARK moves the informer's resourceVersion past writes it does not watch, without
// any handler running.
TEST_F(InformerIntegrationTest, BookmarksAdvanceTheResourceVersion) {
  const std::string watched = makeNamespace("watched");
  const std::string elsewhere = makeNamespace("elsewhere");
  Informer informer(*client_, kConfigMaps.inNamespace(watched));
  Recorder recorder;
  recorder.attach(informer);
  informer.start();
  ASSERT_TRUE(informer.waitForSync(kWait));
  auto other = client_->create(kConfigMaps.inNamespace(elsewhere), configMap("o", "1"));
  ASSERT_TRUE(other.ok());
  const std::string target = resourceVersionOf(*other);
  ASSERT_TRUE(waitUntil([&] { return informer.resourceVersion() == target; }, kWait))
      << "at " << informer.resourceVersion() << ", want " << target;
  EXPECT_GT(informer.bookmarks(), 0u);
  EXPECT_TRUE(recorder.seen().empty());
}

// The watch connection breaks; the object changes while no watch is open; the re-watch from
// the last resourceVersion replays the change: nothing is missed, and no relist is needed.
TEST_F(InformerIntegrationTest, SurvivesADroppedWatchWithoutMissingUpdates) {
  const std::string ns = makeNamespace("drops");
  create(ns, "a", "1");
  // A long first backoff keeps the watch down while the test writes.
  Informer informer(*client_, kConfigMaps.inNamespace(ns),
                    {.initial_backoff = std::chrono::seconds(3)});
  Recorder recorder;
  recorder.attach(informer);
  informer.start();
  ASSERT_TRUE(informer.waitForSync(kWait));
  ASSERT_TRUE(waitUntil([&] { return openWatches() == 1; }, kWait));

  control("POST", "/_test/watches/drop");
  ASSERT_TRUE(waitUntil([&] { return openWatches() == 0; }, kWait));
  set(ns, "a", "2");
  create(ns, "b", "1");
  ASSERT_TRUE(waitUntil([&] { return valueOf(informer.get(ns, "a")) == "2"; }, kWait));
  ASSERT_TRUE(waitUntil([&] { return informer.get(ns, "b") != nullptr; }, kWait));
  EXPECT_GE(informer.watchRestarts(), 1u);
  EXPECT_EQ(informer.relists(), 0u);
  EXPECT_TRUE(recorder.saw("update " + ns + "/a 2"));
  EXPECT_TRUE(recorder.saw("add " + ns + "/b"));
}

// History compacted while the watch was down: the re-watch gets 410, the informer relists
// and turns the difference into events: deletes for what vanished, updates, adds.
TEST_F(InformerIntegrationTest, RelistsAfterCompactionAndDiffsTheCache) {
  const std::string ns = makeNamespace("compaction");
  create(ns, "kept", "1");
  create(ns, "changed", "1");
  create(ns, "vanished", "1");
  Informer informer(*client_, kConfigMaps.inNamespace(ns),
                    {.initial_backoff = std::chrono::seconds(3)});
  Recorder recorder;
  recorder.attach(informer);
  informer.start();
  ASSERT_TRUE(informer.waitForSync(kWait));
  ASSERT_TRUE(waitUntil([&] { return openWatches() == 1; }, kWait));
  const ObjectPtr kept = informer.get(ns, "kept");

  control("POST", "/_test/watches/drop");
  ASSERT_TRUE(waitUntil([&] { return openWatches() == 0; }, kWait));
  set(ns, "changed", "2");
  remove(ns, "vanished");
  create(ns, "new", "1");
  control("POST", "/_test/compact");

  ASSERT_TRUE(waitUntil([&] { return informer.relists() == 1; }, kWait));
  ASSERT_TRUE(waitUntil([&] { return recorder.seen().size() == 6; }, kWait));
  const auto seen = recorder.seen();
  const std::set<std::string> after_sync(seen.begin() + 3, seen.end());
  EXPECT_EQ(after_sync,
            (std::set<std::string>{"delete " + ns + "/vanished", "update " + ns + "/changed 2",
                                   "add " + ns + "/new"}));
  EXPECT_EQ(informer.get(ns, "kept"), kept) << "an unchanged object keeps its snapshot";
  EXPECT_EQ(informer.get(ns, "vanished"), nullptr);
  EXPECT_EQ(informer.list().size(), 3u);

  // And it watches again from the fresh list: later changes still arrive.
  set(ns, "kept", "9");
  ASSERT_TRUE(waitUntil([&] { return valueOf(informer.get(ns, "kept")) == "9"; }, kWait));
}

// An index follows every change of the cache: adds, updates that move an object to another
// value, deletes, and the diff of a relist after a compaction.
TEST_F(InformerIntegrationTest, IndexFollowsEventsAndRelists) {
  const std::string ns = makeNamespace("index");
  create(ns, "a", "red");
  create(ns, "b", "red");
  create(ns, "c", "blue");
  Informer informer(*client_, kConfigMaps.inNamespace(ns),
                    {.initial_backoff = std::chrono::seconds(1)});
  informer.addIndex("value", [](const nlohmann::json& o) {
    std::vector<std::string> values;
    if (o.contains("data") && o["data"].contains("value")) values.push_back(o["data"]["value"]);
    return values;
  });
  auto names = [&](const std::string& value) {
    std::vector<std::string> out;
    for (const ObjectPtr& o : informer.byIndex("value", value)) out.push_back(nameOf(*o));
    return out;
  };
  using Names = std::vector<std::string>;
  informer.start();
  ASSERT_TRUE(informer.waitForSync(kWait));
  EXPECT_EQ(names("red"), (Names{"a", "b"}));
  EXPECT_EQ(names("blue"), (Names{"c"}));
  EXPECT_EQ(names("green"), Names{});
  EXPECT_TRUE(informer.byIndex("no such index", "red").empty());

  set(ns, "b", "blue");
  ASSERT_TRUE(waitUntil([&] { return names("blue") == Names{"b", "c"}; }, kWait));
  EXPECT_EQ(names("red"), (Names{"a"}));
  remove(ns, "c");
  ASSERT_TRUE(waitUntil([&] { return names("blue") == Names{"b"}; }, kWait));

  // Changes the watch misses, found by the relist after a compaction.
  ASSERT_TRUE(waitUntil([&] { return openWatches() == 1; }, kWait));
  control("POST", "/_test/watches/drop");
  ASSERT_TRUE(waitUntil([&] { return openWatches() == 0; }, kWait));
  set(ns, "a", "green");
  remove(ns, "b");
  create(ns, "d", "red");
  control("POST", "/_test/compact");
  ASSERT_TRUE(waitUntil([&] { return informer.relists() == 1; }, kWait));
  ASSERT_TRUE(waitUntil([&] { return names("green") == Names{"a"}; }, kWait));
  EXPECT_EQ(names("red"), (Names{"d"}));
  EXPECT_EQ(names("blue"), Names{});
}

// stop() cancels the open watch (the server sees its connection close) instead of waiting
// for the server's timeout, and the cache stays readable.
TEST_F(InformerIntegrationTest, StopCancelsTheWatch) {
  const std::string ns = makeNamespace("stopping");
  create(ns, "a", "1");
  Informer informer(*client_, kConfigMaps.inNamespace(ns),
                    {.watch_timeout = std::chrono::minutes(30)});
  informer.start();
  ASSERT_TRUE(informer.waitForSync(kWait));
  ASSERT_TRUE(waitUntil([&] { return openWatches() == 1; }, kWait));
  informer.stop();
  EXPECT_TRUE(waitUntil([&] { return openWatches() == 0; }, kWait));
  EXPECT_NE(informer.get(ns, "a"), nullptr);
  informer.stop();  // Idempotent.
}

// The API server is away: the informer keeps retrying with backoff and reports why.
TEST_F(InformerIntegrationTest, ReportsTheErrorWhileTheServerIsAway) {
  ClientConfig nowhere = config_;
  nowhere.server = "http://127.0.0.1:" + std::to_string(governor::testing::freeLoopbackPort());
  auto client = makeClient(nowhere, {.max_get_retries = 0});
  Informer informer(*client, kConfigMaps, {.initial_backoff = Duration(50)});
  informer.start();
  EXPECT_TRUE(
      waitUntil([&] { return informer.lastError().code() == StatusCode::kUnavailable; }, kWait));
  EXPECT_FALSE(informer.hasSynced());
  informer.stop();
}

}  // namespace
}  // namespace governor::controller::kube
