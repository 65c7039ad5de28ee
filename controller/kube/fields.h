#pragma once

// Lenient readers of an API object's fields, for adapters that must go on with what they can
// read (a ReplicaSet without a status, an object whose metadata lacks a field): a field that
// is absent, null or of another type reads as absent. Strict decoding with error paths is
// controller/json_reader.h.
//
// Thread-safety: pure functions.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace governor::controller::kube {

// object[name] when `object` is an object holding a non-null `name`; otherwise null.
inline const nlohmann::json* member(const nlohmann::json& object, const char* name) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(name);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

// object[a] (or object[a][b]) when it is a string; otherwise "".
inline std::string stringAt(const nlohmann::json& object, const char* a, const char* b = nullptr) {
  const nlohmann::json* v = member(object, a);
  if (v != nullptr && b != nullptr) v = member(*v, b);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

// object[a][b] when it is an integer; otherwise nullopt.
inline std::optional<int64_t> intAt(const nlohmann::json& object, const char* a, const char* b) {
  const nlohmann::json* v = member(object, a);
  if (v != nullptr) v = member(*v, b);
  if (v == nullptr || !v->is_number_integer()) return std::nullopt;
  return v->get<int64_t>();
}

}  // namespace governor::controller::kube
