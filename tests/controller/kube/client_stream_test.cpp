// The client against a fake server in this process (a cpprest http_listener on a loopback
// port): malformed answers, and watch streams written piece by piece, so the reading of
// events as they arrive, the ERROR event, the handler's stop and cancellation are checked
// without the test API server.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include <cpprest/http_listener.h>
#include <cpprest/producerconsumerstream.h>
#include <gtest/gtest.h>

#include "controller/kube/client.h"
#include "controller/kube/errors.h"
#include "tests/support/process.h"

namespace governor::controller::kube {
namespace {

using governor::testing::waitUntil;
namespace http = web::http;

constexpr auto kWait = std::chrono::seconds(10);
const ResourceRef kPods{.version = "v1", .resource = "pods", .namespace_ = "web"};

// Replies with a JSON body given as bytes: cpprest's string overloads read a char buffer
// through a uint8_t stream, which UBSan flags.
void replyJson(const http::http_request& request, http::status_code code, const std::string& body,
               const std::string& retry_after = "") {
  http::http_response response(code);
  response.headers().set_content_type("application/json");
  if (!retry_after.empty()) response.headers().add("Retry-After", retry_after);
  response.set_body(std::vector<unsigned char>(body.begin(), body.end()));
  request.reply(response);
}

// A listener answering every request with `handler`.
class FakeServer {
 public:
  explicit FakeServer(std::function<void(http::http_request)> handler)
      : port_(governor::testing::freeLoopbackPort()),
        listener_("http://127.0.0.1:" + std::to_string(port_)) {
    listener_.support(std::move(handler));
    listener_.open().wait();
  }
  ~FakeServer() { listener_.close().wait(); }

  std::unique_ptr<Client> client() const {
    ClientConfig config;
    config.server = "http://127.0.0.1:" + std::to_string(port_);
    config.timeout = std::chrono::seconds(5);
    auto client = Client::fromConfig(config, {.max_get_retries = 0});
    EXPECT_TRUE(client.ok()) << client.status().toString();
    return std::move(client).value();
  }

 private:
  int port_;
  http::experimental::listener::http_listener listener_;
};

// A response body the test writes piece by piece (chunked, no Content-Length).
class Stream {
 public:
  void reply(const http::http_request& request) {
    http::http_response response(http::status_codes::OK);
    response.headers().set_content_type("application/json");
    response.set_body(buffer_.create_istream());
    request.reply(response);
  }
  void write(const std::string& text) {
    // putn_nocopy reads `text` until its task completes: wait for it.
    buffer_.putn_nocopy(reinterpret_cast<const uint8_t*>(text.data()), text.size()).wait();
    buffer_.sync().wait();  // Hand what is there to the server now, not when a chunk fills.
  }
  void close() { buffer_.close(std::ios_base::out).wait(); }

 private:
  concurrency::streams::producer_consumer_buffer<uint8_t> buffer_;
};

struct BadBodyCase {
  std::string name;
  bool list;  // list() rather than get().
  std::string body;
  std::string error;
};

class BadAnswerTest : public ::testing::TestWithParam<BadBodyCase> {};

TEST_P(BadAnswerTest, ClearErrorNoCrash) {
  const BadBodyCase& c = GetParam();
  FakeServer server(
      [&](http::http_request request) { replyJson(request, http::status_codes::OK, c.body); });
  auto client = server.client();
  Status status = c.list ? client->list(kPods).status() : client->get(kPods.named("a")).status();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(status.message().find(c.error), std::string::npos) << status.message();
}

INSTANTIATE_TEST_SUITE_P(
    Bodies, BadAnswerTest,
    ::testing::Values(
        BadBodyCase{"GetNotJson", false, "<html>oops</html>",
                    "GET /api/v1/namespaces/web/pods/a: the response is not JSON: \"<html>"},
        BadBodyCase{"ListNotObject", true, "[1]", "the list is not a JSON object"},
        BadBodyCase{"ItemsNotList", true, R"({"items":{"a":1}})", "items: not a list"},
        BadBodyCase{"ItemNotObject", true, R"({"items":[{},2]})", "items[1]: not an object"},
        BadBodyCase{"Truncated", true, R"({"items":[{"metadata":)", "the response is not JSON"}),
    [](const auto& info) { return info.param.name; });

TEST(ClientStreamTest, ListReadsVersionAndContinue) {
  std::string query;
  FakeServer server([&](http::http_request request) {
    query = request.request_uri().query();
    replyJson(request, http::status_codes::OK,
              R"({"kind":"PodList","metadata":{"resourceVersion":"12","continue":"next"},
                  "items":[{"metadata":{"name":"a"}}]})");
  });
  auto list = server.client()->list(kPods, {.label_selector = "app in (a,b)", .limit = 1});
  ASSERT_TRUE(list.ok()) << list.status().toString();
  EXPECT_EQ(list->resource_version, "12");
  EXPECT_EQ(list->continue_token, "next");
  ASSERT_EQ(list->items.size(), 1u);
  EXPECT_EQ(query, "labelSelector=app%20in%20%28a%2Cb%29&limit=1");
}

// Events arrive split at arbitrary points, several per write or one across writes; each is
// handed over as soon as its line is complete, and the ERROR event ends the watch as 410.
TEST(ClientStreamTest, WatchReassemblesLinesAndEndsOnErrorEvent) {
  Stream stream;
  std::atomic<bool> requested{false};
  std::string query;
  FakeServer server([&](http::http_request request) {
    query = request.request_uri().query();
    stream.reply(request);
    requested = true;
  });
  auto client = server.client();
  std::mutex mu;
  std::vector<std::string> seen;
  std::atomic<size_t> count{0};
  Status result;
  std::thread watcher([&] {
    result = client->watch(kPods, {.resource_version = "5", .timeout = std::chrono::seconds(60)},
                           [&](WatchEvent&& event) {
                             std::lock_guard lock(mu);
                             seen.push_back(std::string(watchEventTypeName(event.type)) + " " +
                                            nameOf(event.object) + resourceVersionOf(event.object));
                             ++count;
                             return true;
                           });
  });
  ASSERT_TRUE(waitUntil([&] { return requested.load(); }, kWait));
  stream.write(R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"6"}}})"
               "\n"
               R"({"type":"MODIFIED","object":{"metadata":{"name":"a","resou)");
  // The first event is delivered before the rest of the stream exists.
  ASSERT_TRUE(waitUntil([&] { return count.load() == 1; }, kWait));
  stream.write(R"(rceVersion":"7"}}})"
               "\r\n\n"
               R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}})"
               "\n");
  ASSERT_TRUE(waitUntil([&] { return count.load() == 3; }, kWait));
  stream.write(R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired",)"
               R"json("message":"too old resource version: 5 (8)"}})json"
               "\n");
  watcher.join();
  stream.close();
  EXPECT_TRUE(isGone(result)) << result.toString();
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED a6", "MODIFIED a7", "BOOKMARK 9"}));
  EXPECT_EQ(query, "watch=true&resourceVersion=5&allowWatchBookmarks=true&timeoutSeconds=60");
}

TEST(ClientStreamTest, WatchEndsCleanlyWhenTheServerClosesAndOnHandlerStop) {
  {
    Stream stream;
    FakeServer server([&](http::http_request request) {
      stream.reply(request);
      stream.write(R"({"type":"ADDED","object":{"metadata":{"name":"a"}}})"
                   "\n");
      stream.close();
    });
    int events = 0;
    Status status = server.client()->watch(kPods, {}, [&](WatchEvent&&) {
      ++events;
      return true;
    });
    EXPECT_TRUE(status.ok()) << status.toString();
    EXPECT_EQ(events, 1);
  }
  {
    // The handler says stop while the server keeps the stream open: watch returns at once.
    Stream stream;
    FakeServer server([&](http::http_request request) {
      stream.reply(request);
      stream.write(R"({"type":"ADDED","object":{"metadata":{"name":"a"}}})"
                   "\n");
    });
    Status status = server.client()->watch(kPods, {}, [](WatchEvent&&) { return false; });
    EXPECT_TRUE(status.ok()) << status.toString();
    stream.close();
  }
}

TEST(ClientStreamTest, WatchRejectsAMalformedEvent) {
  Stream stream;
  FakeServer server([&](http::http_request request) {
    stream.reply(request);
    stream.write("{\"type\":\"ADDED\",\"object\":[]}\n");
  });
  Status status = server.client()->watch(kPods, {}, [](WatchEvent&&) { return true; });
  stream.close();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("watch /api/v1/namespaces/web/pods: watch event"),
            std::string::npos)
      << status.message();
}

TEST(ClientStreamTest, StopCancelsAQuietWatch) {
  Stream stream;
  std::atomic<bool> requested{false};
  FakeServer server([&](http::http_request request) {
    stream.reply(request);
    requested = true;
  });
  auto client = server.client();
  std::stop_source stop;
  std::atomic<bool> returned{false};
  Status status = internalError("not returned");
  std::thread watcher([&] {
    status = client->watch(
        kPods, {}, [](WatchEvent&&) { return true; }, stop.get_token());
    returned = true;
  });
  ASSERT_TRUE(waitUntil([&] { return requested.load(); }, kWait));
  stop.request_stop();
  EXPECT_TRUE(waitUntil([&] { return returned.load(); }, kWait));
  watcher.join();
  stream.close();
  EXPECT_TRUE(status.ok()) << status.toString();
}

TEST(ClientStreamTest, WatchRefusedWithRetryAfter) {
  FakeServer server([](http::http_request request) {
    replyJson(request, http::status_codes::TooManyRequests,
              R"({"kind":"Status","code":429,"reason":"TooManyRequests","message":"slow down"})",
              "4");
  });
  Status status = server.client()->watch(kPods, {}, [](WatchEvent&&) { return true; });
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(retryAfter(status), std::chrono::seconds(4));
}

}  // namespace
}  // namespace governor::controller::kube
