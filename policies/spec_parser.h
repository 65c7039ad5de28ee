#pragma once

// The one parser of ScalingPolicy manifests, used by the operator (CRs arrive as JSON, which
// is YAML) and by the CLI and simulator (files). It validates as it reads and applies every
// default, so the rest of the code sees only valid PolicySpecs.
//
// Errors name the source, the line and the field path, and all errors of a document are
// reported together:
//   web.yaml:14: spec.metrics[1].target.averageUtilization: must be > 0
// Unknown fields under `spec` are errors (a typo must not silently change scaling);
// unknown fields elsewhere (metadata extras, status) are ignored.
//
// Thread-safety: pure functions.

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "policies/spec.h"

namespace governor::policies {

inline constexpr std::string_view kApiVersion = "governor.io/v1alpha1";
inline constexpr std::string_view kScalingPolicyKind = "ScalingPolicy";

// Parses one ScalingPolicy from YAML or JSON text. `source` names the text in messages
// (a file path, or "ScalingPolicy shop/web"). Returns InvalidArgument with every problem
// found, one per line.
Result<PolicySpec> parsePolicy(std::string_view text, std::string_view source);

// Parses every document of a multi-document YAML stream (`---` separated); empty documents
// are skipped. Fails as a whole if any document is invalid.
Result<std::vector<PolicySpec>> parsePolicies(std::string_view text, std::string_view source);

}  // namespace governor::policies
