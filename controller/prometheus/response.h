#pragma once

// The Prometheus HTTP API's query results (`/api/v1/query`, `/api/v1/query_range`), and the
// parser of its JSON envelope. Pure: no I/O, so it is tested with a table of bodies, garbage
// included.
//
// Values are kept as Prometheus sent them: "NaN" stays NaN, "+Inf" and "-Inf" stay infinite,
// an empty result stays empty. Deciding that NaN is not data is the policies' job
// (policies/threshold.cpp treats NaN, infinite and negative values as invalid metrics); the
// client never turns any of them into a zero.
//
// Thread-safety: value types and a pure function.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"

namespace governor::controller::prom {

// data.resultType.
enum class ResultType { kVector, kScalar, kMatrix, kString };

std::string_view resultTypeName(ResultType type);

// One value at one instant. Prometheus timestamps have millisecond resolution, as TimePoint.
struct Sample {
  TimePoint timestamp{};
  double value = 0;
};

using Labels = std::map<std::string, std::string>;

// One series: its labels (`__name__` included when Prometheus returns it) and its samples,
// in time order. A vector's series has exactly one sample.
struct Series {
  Labels labels;
  std::vector<Sample> samples;
};

struct QueryResult {
  ResultType type = ResultType::kVector;
  std::vector<Series> series;         // kVector and kMatrix; empty when nothing matched.
  Sample scalar;                      // kScalar: its value; kString: its timestamp (value 0).
  std::string string;                 // kString.
  std::vector<std::string> warnings;  // The response's `warnings`, if any.
};

// Parses the body of a query or query_range response received with HTTP status
// `http_status`. `query` is only used in error messages: every error message starts with
// `prometheus query "<query>"` (shortened if long), so a person can tell which metric failed.
//
// Returns the result on `{"status":"success", "data":{...}}` (with a 2xx status).
// Errors, when the body is Prometheus's error envelope (errorType and error in the message):
//   bad_data                  InvalidArgument (a syntax error: fix the query)
//   execution                 FailedPrecondition (the query failed on the data it met)
//   timeout                   DeadlineExceeded
//   canceled, internal,
//   unavailable               Unavailable
//   any other errorType       by HTTP status, as below
// Errors, when it is not (a proxy's page, a truncated body, garbage), by HTTP status:
//   401, 403                  PermissionDenied
//   408                       DeadlineExceeded
//   429                       ResourceExhausted
//   404, other 4xx            FailedPrecondition (not NotFound: that would tell a work queue
//                             the *policy* is gone; a 404 here means a wrong URL or prefix)
//   5xx, 2xx with a body that is not a valid response
//                             Unavailable ("malformed response: <why>", naming the JSON field)
// Never throws, whatever the body.
Result<QueryResult> parseQueryResponse(int http_status, std::string_view body,
                                       std::string_view query);

// Parses a sample value as Prometheus formats it: "NaN", "+Inf", "-Inf" or a decimal number
// ("1.5", "-2", "1e+21"). Errors: InvalidArgument quoting the text.
Result<double> parseSampleValue(std::string_view text);

// `prometheus query "<query>"`, the query shortened to its first 200 bytes ("...") when long:
// the prefix of every error message about a query.
std::string describeQuery(std::string_view query);

}  // namespace governor::controller::prom
