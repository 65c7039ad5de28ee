#include "tests/manifests/manifest_files.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/process.h"

namespace governor::testing::manifests {
namespace {

// Replaces or removes the node at path[i..] under `node`. `node` is a handle (yaml-cpp
// nodes are references), so writes land in the document it belongs to.
void setAt(YAML::Node node, const DocPath& path, size_t i, const std::optional<YAML::Node>& value) {
  const PathStep& step = path[i];
  const bool last = i + 1 == path.size();
  if (step.key.empty()) {
    if (last) {
      node[step.index] = value.value_or(YAML::Node());
    } else {
      setAt(node[step.index], path, i + 1, value);
    }
    return;
  }
  if (!last) {
    setAt(node[step.key], path, i + 1, value);
  } else if (value) {
    node[step.key] = *value;
  } else {
    node.remove(step.key);
  }
}

// The node at path[i..] under `node`. Reads through const nodes only, which never insert.
YAML::Node nodeFrom(const YAML::Node& node, const DocPath& path, size_t i) {
  if (i == path.size()) return node;
  const PathStep& step = path[i];
  if (step.key.empty()) {
    if (!node.IsSequence() || step.index >= node.size())
      return YAML::Node(YAML::NodeType::Undefined);
    return nodeFrom(node[step.index], path, i + 1);
  }
  if (!node.IsMap() || !node[step.key].IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
  return nodeFrom(node[step.key], path, i + 1);
}

}  // namespace

std::string sourcePath(std::string_view relative) {
  return std::string(GOVERNOR_SOURCE_DIR) + "/" + std::string(relative);
}

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return notFound("cannot open " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<std::vector<YAML::Node>> loadDocuments(const std::string& text, std::string_view source) {
  std::vector<YAML::Node> docs;
  try {
    for (const auto& doc : YAML::LoadAll(text)) {
      if (doc.IsDefined() && !doc.IsNull()) docs.push_back(doc);
    }
  } catch (const YAML::Exception& e) {
    return invalidArgument(std::string(source) + ": invalid YAML: " + e.what());
  }
  return docs;
}

Result<std::vector<YAML::Node>> renderKustomization(const std::string& dir) {
  CommandResult r = runCommand({"kubectl", "kustomize", dir}, std::chrono::seconds(60));
  if (r.exit_code != 0) {
    return unavailable("kubectl kustomize " + dir + " failed (exit " + std::to_string(r.exit_code) +
                       "): " + r.err);
  }
  return loadDocuments(r.out, "kubectl kustomize " + dir);
}

YAML::Node at(const YAML::Node& node, std::string_view key) {
  const std::string k(key);
  if (!node.IsDefined() || !node.IsMap() || !node[k].IsDefined()) {
    return YAML::Node(YAML::NodeType::Undefined);
  }
  return node[k];
}

const YAML::Node* findObject(const std::vector<YAML::Node>& docs, std::string_view kind,
                             std::string_view name) {
  for (const auto& doc : docs) {
    const YAML::Node doc_kind = at(doc, "kind");
    const YAML::Node doc_name = at(at(doc, "metadata"), "name");
    if (doc_kind.IsScalar() && doc_kind.Scalar() == kind && doc_name.IsScalar() &&
        doc_name.Scalar() == name) {
      return &doc;
    }
  }
  return nullptr;
}

std::vector<std::string> exampleFiles() {
  std::vector<std::string> files;
  for (const char* dir : {"examples/policies", "examples/operator"}) {
    const std::filesystem::path path = sourcePath(dir);
    if (!std::filesystem::is_directory(path)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(path)) {
      if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
        files.push_back(entry.path().string());
      }
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

Result<YAML::Node> loadCrdSchema() {
  auto text = readFile(sourcePath(kCrdPath));
  if (!text.ok()) return text.status();
  auto docs = loadDocuments(*text, kCrdPath);
  if (!docs.ok()) return docs.status();
  if (docs->size() != 1) return invalidArgument(std::string(kCrdPath) + ": expected one document");
  const YAML::Node versions = at(at((*docs)[0], "spec"), "versions");
  if (!versions.IsSequence() || versions.size() != 1) {
    return invalidArgument(std::string(kCrdPath) + ": expected exactly one version");
  }
  YAML::Node schema = at(at(versions[0], "schema"), "openAPIV3Schema");
  if (!schema.IsMap()) return invalidArgument(std::string(kCrdPath) + ": no openAPIV3Schema");
  return schema;
}

std::string pathText(const DocPath& path) {
  std::string out;
  for (const auto& step : path) {
    if (step.key.empty()) {
      out += "[" + std::to_string(step.index) + "]";
    } else {
      if (!out.empty()) out += ".";
      out += step.key;
    }
  }
  return out;
}

YAML::Node nodeAt(const YAML::Node& root, const DocPath& path) { return nodeFrom(root, path, 0); }

YAML::Node withField(const YAML::Node& root, const DocPath& path,
                     const std::optional<YAML::Node>& value) {
  YAML::Node copy = YAML::Clone(root);
  if (!path.empty()) setAt(copy, path, 0, value);
  return copy;
}

std::string emit(const YAML::Node& root) {
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

}  // namespace governor::testing::manifests
