#pragma once

// ManifestReader: the field-reading machinery shared by Governor's manifest parsers
// (policies/spec_parser.cpp for ScalingPolicy, simulator/simulation_spec.cpp for Simulation).
//
// A reader belongs to one YAML document. It does not stop at the first problem: every
// accessor that finds a bad field records an error and returns nothing, so the caller goes
// on and the user sees every problem of the document at once. Each error reads
//   <source>:<line>: <field.path>: <message>
// e.g. "web.yaml:14: spec.metrics[1].target.averageUtilization: must be >= 1, got 0".
// The line is left out when the node has no position (a missing field is reported at the
// line of its parent). The message texts are a contract: tests and users match them.
//
// Field paths are built with join() ("spec" + "trace" -> "spec.trace"; "" + "kind" ->
// "kind") and index() ("spec.policies" + 2 -> "spec.policies[2]").
//
// Thread-safety: a ManifestReader is not thread-safe; use one per document and thread. The
// static functions are pure.

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "base/status.h"

namespace governor::policies {

class ManifestReader {
 public:
  // `source` names the text in messages: a file path, or "ScalingPolicy shop/web".
  explicit ManifestReader(std::string_view source) : source_(source) {}

  // Returns "<source>:<line>" for `at`, or "<source>" when `at` has no position.
  std::string where(const YAML::Node& at) const;

  // Records "<where(at)>: <path>: <message>".
  void error(const YAML::Node& at, const std::string& path, const std::string& message);

  // Returns true if no error has been recorded.
  bool ok() const { return errors_.empty(); }

  // Returns InvalidArgument with every recorded error, one per line, in the order recorded.
  // REQUIRES: !ok().
  Status status() const;

  // Records "unknown field" for every key of the mapping `node` that is not in `known`.
  // Does nothing if `node` is not a mapping.
  void rejectUnknown(const YAML::Node& node, const std::string& path,
                     std::initializer_list<std::string_view> known);

  // The envelope every Governor object shares. Checks that `doc` is a mapping of apiVersion,
  // kind, metadata, spec and status only, that apiVersion is `api_version` and kind is
  // `kind`, and that metadata and spec are present mappings. Returns the metadata and spec
  // nodes; one that is missing or not a mapping is returned as a null node, not a mapping
  // (the error recorded): callers test IsMap().
  struct Envelope {
    YAML::Node metadata;
    YAML::Node spec;
  };
  Envelope envelope(const YAML::Node& doc, std::string_view api_version, std::string_view kind);

  // Returns true if `node` is a mapping; otherwise records
  // "must be a mapping, got <kindName>" and returns false.
  bool expectMap(const YAML::Node& node, const std::string& path);

  // The accessors below read `parent[key]`, whose path is join(parent_path, key). A field
  // that is absent or null returns nullopt, after recording "required" (at the parent) if
  // `required`. A field that is present but invalid records an error and returns nullopt.

  // Returns a scalar as text. Records "must be a string, got <kindName>" for a mapping or
  // list, and "must not be empty" for an empty string if `required`. An empty optional
  // string is returned as "".
  std::optional<std::string> string(const YAML::Node& parent, const std::string& parent_path,
                                    const char* key, bool required);

  // Like string(), but an empty string is never valid: a non-scalar or empty value records
  // "must be a non-empty string, got <kindName>".
  std::optional<std::string> nonEmptyString(const YAML::Node& parent,
                                            const std::string& parent_path, const char* key,
                                            bool required);

  // Returns a base-10 integer in [min, max]. Records "must be an integer, got <kindName>",
  // or "must be in [min, max], got <text>" for a value out of range; when `max` is INT32_MAX
  // (no upper bound worth naming) that is "must be >= min, got <text>".
  std::optional<int64_t> integer(const YAML::Node& parent, const std::string& parent_path,
                                 const char* key, bool required, int64_t min, int64_t max);

  // Returns a finite number in [min, max]. Records "must be a number, got <kindName>", or
  // "must be in [min, max], got <text>" for a value out of range.
  std::optional<double> number(const YAML::Node& parent, const std::string& parent_path,
                               const char* key, bool required, double min, double max);

  // Returns a finite number > min. Records "must be a number, got <kindName>", or
  // "must be > min, got <text>" for a value <= min.
  std::optional<double> numberAbove(const YAML::Node& parent, const std::string& parent_path,
                                    const char* key, bool required, double min);

  // Returns `true` or `false`. Records "must be true or false, got <kindName>" for anything
  // else. Never required.
  std::optional<bool> boolean(const YAML::Node& parent, const std::string& parent_path,
                              const char* key);

  // Returns how messages name a node: "a mapping", "a list", "null", the quoted scalar
  // ("\"abc\""), or "nothing" for an undefined node.
  static std::string kindName(const YAML::Node& node);

  // Returns `path`.`key`, or `key` alone when `path` is empty.
  static std::string join(const std::string& path, std::string_view key);

  // Returns `path`[`i`].
  static std::string index(const std::string& path, size_t i);

  // Returns `v` in the shortest of std::to_string's fixed forms: 0.5 -> "0.5", 1 -> "1".
  static std::string formatNumber(double v);

  // Returns InvalidArgument "<source>[:<line>]: invalid YAML: <what>" for a YAML error.
  static Status invalidYaml(std::string_view source, const YAML::Exception& e);

  // Loads every document of the YAML stream `text` and calls `parse` on each that is not
  // empty, in order. A YAML error thrown by `parse` counts as that document's problem.
  // Returns OK if every call returned OK; otherwise InvalidArgument with the problems of
  // every failed document, one per line. A stream that is not valid YAML returns
  // invalidYaml() and calls nothing.
  static Status forEachDocument(std::string_view text, std::string_view source,
                                const std::function<Status(const YAML::Node& doc)>& parse);

 private:
  // Returns true if `node` (parent[key], at `path`) is present and not null; otherwise
  // records "required" at `parent` if `required`, and returns false.
  bool present(const YAML::Node& parent, const YAML::Node& node, const std::string& path,
               bool required);

  // Returns `node` as a finite number; otherwise records "must be a number, got <kindName>".
  std::optional<double> finiteNumber(const YAML::Node& node, const std::string& path);

  std::string source_;
  std::vector<std::string> errors_;
};

}  // namespace governor::policies
