#pragma once

// Typed reads of the fields of a JSON object (a status as the API server stores it), for the
// status codecs (controller/status_json.cpp, controller/rollout_status_json.cpp). The first
// problem is kept with its field path ("status.revisions[1].replicas: must be an integer");
// later reads are no-ops once an error is recorded. A null field counts as absent.
//
// Thread-safety: one reader per thread; the Status it writes to is the caller's.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/rfc3339.h"
#include "base/status.h"
#include "base/time.h"

namespace governor::controller {

// A reader over one JSON object at `path`, recording into a Status shared by every reader of
// one document (child and list readers share it), so the first error wins.
class JsonReader {
 public:
  using json = nlohmann::json;

  JsonReader(const nlohmann::json& object, std::string path, Status& error)
      : object_(object), path_(std::move(path)), error_(error) {}

  // The field `name`, or nullptr when it is absent or null (or the object is not an object).
  const json* field(const char* name) const {
    if (!object_.is_object()) return nullptr;
    auto it = object_.find(name);
    if (it == object_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  // Fails when `name` is absent (a key the schema requires of a list element).
  bool require(const char* name) {
    if (field(name) != nullptr) return true;
    fail(name, "required");
    return false;
  }

  template <typename Int>
  void integer(const char* name, Int& out) {
    const json* value = field(name);
    if (value == nullptr) return;
    if (!value->is_number_integer()) return fail(name, "must be an integer");
    // Unsigned values above int64's range cannot fit any field here either.
    if (value->is_number_unsigned() &&
        value->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return fail(name, "out of range: " + value->dump());
    }
    const auto wide = value->get<int64_t>();
    if (wide < std::numeric_limits<Int>::min() || wide > std::numeric_limits<Int>::max()) {
      return fail(name, "out of range: " + std::to_string(wide));
    }
    out = static_cast<Int>(wide);
  }

  template <typename Int>
  void optionalInteger(const char* name, std::optional<Int>& out) {
    if (field(name) == nullptr) return;
    Int v{};
    integer(name, v);
    if (error_.ok()) out = v;
  }

  void string(const char* name, std::string& out) {
    const json* value = field(name);
    if (value == nullptr) return;
    if (!value->is_string()) return fail(name, "must be a string");
    out = value->get<std::string>();
  }

  void boolean(const char* name, bool& out) {
    const json* value = field(name);
    if (value == nullptr) return;
    if (!value->is_boolean()) return fail(name, "must be a boolean");
    out = value->get<bool>();
  }

  void time(const char* name, TimePoint& out) {
    const json* value = field(name);
    if (value == nullptr) return;
    if (!value->is_string()) return fail(name, "not an RFC 3339 time: must be a string");
    auto parsed = parseRfc3339(value->get<std::string>());
    if (!parsed.ok()) return fail(name, "not an RFC 3339 time: " + parsed.status().message());
    out = *parsed;
  }

  void optionalTime(const char* name, std::optional<TimePoint>& out) {
    if (field(name) == nullptr) return;
    TimePoint t{};
    time(name, t);
    if (error_.ok()) out = t;
  }

  // An enum written by its name: `parse` maps a name to the value (nullopt when unknown);
  // `names` lists the accepted names for the message.
  template <typename Enum, typename Parse>
  void enumeration(const char* name, std::optional<Enum>& out, Parse parse, const char* names) {
    const json* value = field(name);
    if (value == nullptr) return;
    if (!value->is_string()) return fail(name, std::string("must be one of ") + names);
    auto parsed = parse(value->get<std::string_view>());
    if (!parsed) {
      return fail(name, "unknown value " + value->dump() + " (want one of " + names + ")");
    }
    out = *parsed;
  }

  template <typename Enum, typename Parse>
  void enumeration(const char* name, Enum& out, Parse parse, const char* names) {
    std::optional<Enum> parsed;
    enumeration(name, parsed, parse, names);
    if (parsed) out = *parsed;
  }

  // Calls read(JsonReader&, T&) for each element of the array `name`.
  template <typename T, typename Fn>
  void list(const char* name, std::vector<T>& out, Fn read) {
    const json* value = field(name);
    if (value == nullptr) return;
    if (!value->is_array()) return fail(name, "must be a list");
    out.clear();
    out.reserve(value->size());
    for (size_t i = 0; i < value->size() && error_.ok(); ++i) {
      const std::string path = path_ + "." + name + "[" + std::to_string(i) + "]";
      if (!(*value)[i].is_object()) {
        error_ = invalidArgument(path + ": must be an object");
        return;
      }
      JsonReader element((*value)[i], path, error_);
      T item{};
      read(element, item);
      out.push_back(std::move(item));
    }
  }

  // The object at `name`, to read its fields (an empty object when absent; an error when it is
  // not an object).
  JsonReader child(const char* name) const {
    static const json kEmpty = json::object();
    const json* value = field(name);
    if (value != nullptr && !value->is_object()) {
      error_ = invalidArgument(path_ + "." + name + ": must be an object");
    }
    return JsonReader(value != nullptr && value->is_object() ? *value : kEmpty, path_ + "." + name,
                      error_);
  }

  // Records "<path>.<name>: <why>" unless an error is already recorded.
  void fail(const char* name, const std::string& why) {
    if (error_.ok()) error_ = invalidArgument(path_ + "." + name + ": " + why);
  }

  bool ok() const { return error_.ok(); }

 private:
  const nlohmann::json& object_;
  std::string path_;
  Status& error_;
};

}  // namespace governor::controller
