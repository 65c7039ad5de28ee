#pragma once

// Helpers for the tests of the install manifests (manifests/), the Dockerfile and the CRD
// schema: repository paths, YAML loading with errors as Status, the rendered kustomization,
// the example policies, and a small reader of the CRD's OpenAPI schema.
//
//   auto rendered = renderKustomization();          // `kubectl kustomize manifests/`
//   ASSERT_TRUE(rendered.ok()) << rendered.status().message();
//   const YAML::Node* deployment = findObject(*rendered, "Deployment", "governor-operator");
//
// Thread-safety: pure functions, except that they read files and run kubectl.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "base/status.h"

namespace governor::testing::manifests {

// The CRD file, relative to the repository root.
inline constexpr char kCrdPath[] = "manifests/crd/governor.io_scalingpolicies.yaml";

// `relative` under the repository root (GOVERNOR_SOURCE_DIR).
std::string sourcePath(std::string_view relative);

// The whole file. NotFound when it cannot be opened.
Result<std::string> readFile(const std::string& path);

// Every non-empty document of the YAML stream `text`. InvalidArgument naming `source` for
// text that is not YAML.
Result<std::vector<YAML::Node>> loadDocuments(const std::string& text, std::string_view source);

// The documents `kubectl kustomize <dir>` renders (no cluster needed). Unavailable, with
// kubectl's stderr, when kubectl fails.
Result<std::vector<YAML::Node>> renderKustomization(const std::string& dir);

// node[key] when `node` is a mapping with `key`; otherwise an undefined node. yaml-cpp
// throws on anything but IsDefined() for the "zombie" node a missing key yields, so code
// that looks for optional fields goes through here.
YAML::Node at(const YAML::Node& node, std::string_view key);

// The first document of `kind` named `name`, or nullptr.
const YAML::Node* findObject(const std::vector<YAML::Node>& docs, std::string_view kind,
                             std::string_view name);

// The example files with ScalingPolicies to check: examples/policies/*.yaml and
// examples/operator/*.yaml (when that folder exists), as absolute paths, sorted.
std::vector<std::string> exampleFiles();

// The OpenAPI v3 schema of the CRD's only version (spec.versions[0].schema.openAPIV3Schema).
// InvalidArgument when the file does not have that shape.
Result<YAML::Node> loadCrdSchema();

// One step of a path into a document: a mapping key, or a list index when `key` is empty.
struct PathStep {
  std::string key;
  size_t index = 0;
};
using DocPath = std::vector<PathStep>;

// The path as the policy parser writes it: "spec.metrics[0].target.type".
std::string pathText(const DocPath& path);

// The node at `path` under `root`, or an undefined node. Never creates nodes.
YAML::Node nodeAt(const YAML::Node& root, const DocPath& path);

// A deep copy of `root` with the node at `path` replaced by `value`, or removed when `value`
// is nullopt. REQUIRES: the parent of `path` exists.
YAML::Node withField(const YAML::Node& root, const DocPath& path,
                     const std::optional<YAML::Node>& value);

// The document as YAML text.
std::string emit(const YAML::Node& root);

}  // namespace governor::testing::manifests
