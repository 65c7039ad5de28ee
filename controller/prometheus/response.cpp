#include "controller/prometheus/response.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include <nlohmann/json.hpp>

namespace governor::controller::prom {
namespace {

using nlohmann::json;

constexpr size_t kMaxQueryInMessage = 200;
constexpr size_t kMaxBodyInMessage = 120;
// Beyond this a timestamp cannot be held in milliseconds in an int64 (the year 2286 is
// 1e10 s; this bound is 1e13 s, far from both).
constexpr double kMaxAbsTimestampSeconds = 1e13;

// A prefix of `text` cut at a UTF-8 character boundary.
std::string_view utf8Prefix(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  // Continuation bytes are 10xxxxxx; back up to the start of the character they belong to.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

// The start of a body for an error message: printable ASCII only, so a binary or hostile
// body cannot mangle a log line.
std::string bodySnippet(std::string_view body) {
  std::string out;
  const std::string_view head = body.substr(0, std::min(body.size(), kMaxBodyInMessage));
  out.reserve(head.size() + 3);
  for (const char c : head) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7F) ? c : (c == '\n' || c == '\r' || c == '\t' ? ' ' : '?');
  }
  if (body.size() > head.size()) out += "...";
  return out;
}

std::string typeName(const json& j) {
  switch (j.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "a number";
    default:
      return "invalid";
  }
}

// The code a failed HTTP exchange gets when the body does not say better.
StatusCode codeForHttpStatus(int http_status) {
  if (http_status == 401 || http_status == 403) return StatusCode::kPermissionDenied;
  if (http_status == 408) return StatusCode::kDeadlineExceeded;
  if (http_status == 429) return StatusCode::kResourceExhausted;
  if (http_status >= 400 && http_status < 500) return StatusCode::kFailedPrecondition;
  return StatusCode::kUnavailable;
}

// Prometheus's errorType values (web/api/v1/api.go).
std::optional<StatusCode> codeForErrorType(std::string_view error_type) {
  if (error_type == "bad_data") return StatusCode::kInvalidArgument;
  if (error_type == "execution") return StatusCode::kFailedPrecondition;
  if (error_type == "timeout") return StatusCode::kDeadlineExceeded;
  if (error_type == "canceled" || error_type == "internal" || error_type == "unavailable") {
    return StatusCode::kUnavailable;
  }
  return std::nullopt;
}

// Walks the `data` of a success response; every error names the JSON path of the field.
class DataParser {
 public:
  explicit DataParser(std::string_view query) : query_(query) {}

  Result<QueryResult> parse(const json& data) {
    if (!data.is_object()) return malformed("data", "must be an object, got " + typeName(data));
    const auto type_it = data.find("resultType");
    if (type_it == data.end()) return malformed("data.resultType", "missing");
    if (!type_it->is_string()) {
      return malformed("data.resultType", "must be a string, got " + typeName(*type_it));
    }
    const auto result_it = data.find("result");
    if (result_it == data.end()) return malformed("data.result", "missing");
    const json& result = *result_it;
    const std::string& type = type_it->get_ref<const std::string&>();

    QueryResult out;
    if (type == "vector" || type == "matrix") {
      out.type = type == "vector" ? ResultType::kVector : ResultType::kMatrix;
      // Prometheus sends [] for an empty result; some compatible servers send null.
      if (result.is_null()) return out;
      if (!result.is_array()) {
        return malformed("data.result", "must be an array, got " + typeName(result));
      }
      out.series.reserve(result.size());
      for (size_t i = 0; i < result.size(); ++i) {
        auto series = parseSeries(result[i], "data.result[" + std::to_string(i) + "]",
                                  out.type == ResultType::kVector);
        if (!series.ok()) return series.status();
        out.series.push_back(std::move(series).value());
      }
      return out;
    }
    if (type == "scalar") {
      out.type = ResultType::kScalar;
      auto sample = parsePair(result, "data.result");
      if (!sample.ok()) return sample.status();
      out.scalar = *sample;
      return out;
    }
    if (type == "string") {
      out.type = ResultType::kString;
      if (!result.is_array() || result.size() != 2) {
        return malformed("data.result", "must be a [timestamp, \"string\"] pair");
      }
      auto t = parseTimestamp(result[0], "data.result[0]");
      if (!t.ok()) return t.status();
      if (!result[1].is_string()) {
        return malformed("data.result[1]", "must be a string, got " + typeName(result[1]));
      }
      out.scalar.timestamp = *t;
      out.string = result[1].get<std::string>();
      return out;
    }
    return malformed("data.resultType", "unknown result type \"" + bodySnippet(type) +
                                            "\" (expected vector, scalar, matrix or string)");
  }

 private:
  Status malformed(const std::string& path, const std::string& what) const {
    return {StatusCode::kUnavailable,
            describeQuery(query_) + ": malformed response: " + path + ": " + what};
  }

  Result<Series> parseSeries(const json& j, const std::string& path, bool vector) {
    if (!j.is_object()) return malformed(path, "must be an object, got " + typeName(j));
    Series series;
    const auto metric = j.find("metric");
    if (metric != j.end() && !metric->is_null()) {
      if (!metric->is_object()) {
        return malformed(path + ".metric", "must be an object, got " + typeName(*metric));
      }
      for (const auto& [name, value] : metric->items()) {
        if (!value.is_string()) {
          return malformed(path + ".metric." + bodySnippet(name),
                           "must be a string, got " + typeName(value));
        }
        series.labels.emplace(name, value.get<std::string>());
      }
    }
    const char* const key = vector ? "value" : "values";
    const auto values = j.find(key);
    if (values == j.end()) {
      if (j.contains(vector ? "histogram" : "histograms")) {
        return malformed(path,
                         "native histogram samples are not supported; query a float "
                         "series (e.g. histogram_quantile or histogram_count)");
      }
      return malformed(path + "." + key, "missing");
    }
    if (vector) {
      auto sample = parsePair(*values, path + ".value");
      if (!sample.ok()) return sample.status();
      series.samples.push_back(*sample);
      return series;
    }
    if (!values->is_array()) {
      return malformed(path + ".values", "must be an array, got " + typeName(*values));
    }
    series.samples.reserve(values->size());
    for (size_t i = 0; i < values->size(); ++i) {
      auto sample = parsePair((*values)[i], path + ".values[" + std::to_string(i) + "]");
      if (!sample.ok()) return sample.status();
      series.samples.push_back(*sample);
    }
    return series;
  }

  // [<unix seconds>, "<value>"].
  Result<Sample> parsePair(const json& j, const std::string& path) {
    if (!j.is_array() || j.size() != 2) {
      return malformed(
          path, "must be a [timestamp, \"value\"] pair, got " +
                    (j.is_array() ? "an array of " + std::to_string(j.size()) : typeName(j)));
    }
    auto t = parseTimestamp(j[0], path + "[0]");
    if (!t.ok()) return t.status();
    if (!j[1].is_string()) {
      return malformed(path + "[1]", "must be a string, got " + typeName(j[1]));
    }
    auto value = parseSampleValue(j[1].get_ref<const std::string&>());
    if (!value.ok()) return malformed(path + "[1]", value.status().message());
    return Sample{*t, *value};
  }

  Result<TimePoint> parseTimestamp(const json& j, const std::string& path) {
    if (!j.is_number()) return malformed(path, "must be a number, got " + typeName(j));
    const double seconds = j.get<double>();
    if (!std::isfinite(seconds) || std::abs(seconds) > kMaxAbsTimestampSeconds) {
      return malformed(path, "timestamp out of range");
    }
    // Rounded, not truncated: 1435781451.781 is 1435781451780.9998 ms as a double.
    return TimePoint(Duration(std::llround(seconds * 1000.0)));
  }

  std::string_view query_;
};

}  // namespace

std::string_view resultTypeName(ResultType type) {
  switch (type) {
    case ResultType::kVector:
      return "vector";
    case ResultType::kScalar:
      return "scalar";
    case ResultType::kMatrix:
      return "matrix";
    case ResultType::kString:
      return "string";
  }
  return "unknown";
}

std::string describeQuery(std::string_view query) {
  const std::string_view head = utf8Prefix(query, kMaxQueryInMessage);
  std::string out = "prometheus query \"";
  out += head;
  if (head.size() < query.size()) out += "...";
  out += '"';
  return out;
}

Result<double> parseSampleValue(std::string_view text) {
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "+Inf" || text == "Inf") return std::numeric_limits<double>::infinity();
  if (text == "-Inf") return -std::numeric_limits<double>::infinity();
  std::string_view digits = text;
  // from_chars takes no leading '+'; Go's FormatFloat writes one only in exponents.
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  double value = 0;
  const char* const end = digits.data() + digits.size();
  const auto [ptr, ec] = std::from_chars(digits.data(), end, value);
  // from_chars also reads "inf" and "nan" spellings Prometheus never writes: refuse them, so
  // a value is either Prometheus's own spelling or a plain number. Out-of-range numbers
  // ("1e999") are refused too rather than guessed.
  const bool plain = !digits.empty() && (std::isdigit(static_cast<unsigned char>(digits[0])) ||
                                         digits[0] == '-' || digits[0] == '.');
  if (ec != std::errc() || ptr != end || !plain || !std::isfinite(value)) {
    return invalidArgument("value \"" + bodySnippet(text) + "\" is not a number");
  }
  return value;
}

Result<QueryResult> parseQueryResponse(int http_status, std::string_view body,
                                       std::string_view query) {
  const bool http_ok = http_status >= 200 && http_status < 300;
  const std::string http = "HTTP " + std::to_string(http_status);
  json doc;
  try {
    doc = json::parse(body.begin(), body.end(), /*cb=*/nullptr, /*allow_exceptions=*/false);
  } catch (const std::exception&) {  // Defensive: parse() without exceptions should not throw.
    doc = json(json::value_t::discarded);
  }
  const bool envelope = doc.is_object() && doc.contains("status") && doc["status"].is_string();
  if (!envelope) {
    if (http_ok) {
      const std::string why =
          doc.is_discarded() ? "not JSON" : "status: missing (a " + typeName(doc) + " without it)";
      return Status(StatusCode::kUnavailable, describeQuery(query) + ": malformed response: " +
                                                  why + ": " + bodySnippet(body));
    }
    return Status(codeForHttpStatus(http_status),
                  describeQuery(query) + ": " + http + ": " + bodySnippet(body));
  }

  const std::string& status = doc["status"].get_ref<const std::string&>();
  if (status == "success" && http_ok) {
    const auto data = doc.find("data");
    if (data == doc.end()) {
      return Status(StatusCode::kUnavailable,
                    describeQuery(query) + ": malformed response: data: missing");
    }
    auto result = DataParser(query).parse(*data);
    if (!result.ok()) return result;
    const auto warnings = doc.find("warnings");
    if (warnings != doc.end() && warnings->is_array()) {
      for (const json& w : *warnings) {
        if (w.is_string()) result->warnings.push_back(w.get<std::string>());
      }
    }
    return result;
  }
  if (status == "success") {  // A success envelope with an error status: trust the status.
    return Status(codeForHttpStatus(http_status),
                  describeQuery(query) + ": " + http + " with a success body");
  }
  if (status != "error") {
    return Status(http_ok ? StatusCode::kUnavailable : codeForHttpStatus(http_status),
                  describeQuery(query) + ": malformed response: status: \"" + bodySnippet(status) +
                      "\" (expected success or error)");
  }

  std::string error_type;
  std::string error;
  if (const auto t = doc.find("errorType"); t != doc.end() && t->is_string()) {
    error_type = t->get<std::string>();
  }
  if (const auto e = doc.find("error"); e != doc.end() && e->is_string()) {
    error = e->get<std::string>();
  }
  StatusCode code = http_ok ? StatusCode::kUnavailable : codeForHttpStatus(http_status);
  if (const auto by_type = codeForErrorType(error_type)) code = *by_type;
  std::string message = describeQuery(query) + ": " + http + ": ";
  message += error_type.empty() ? "error" : error_type;
  message += ": ";
  message += error.empty() ? "(no message)" : error;
  return Status(code, std::move(message));
}

}  // namespace governor::controller::prom
