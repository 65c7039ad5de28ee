#pragma once

// The pod-template-hash of a Rollout revision, computed as Kubernetes' Deployment controller
// computes it (k8s.io/kubernetes pkg/controller ComputeHash): the 32-bit FNV-1a of the
// serialized template, optionally followed by a collision count, printed in decimal and
// each digit mapped to the "safe" alphabet of k8s.io/apimachinery's rand.SafeEncodeString
// (no vowels, so a hash never spells a word). Kubernetes serializes the Go struct with a
// pretty-printer; Governor serializes the template as canonical JSON, so the hashes have
// the same shape and stability but not the same bytes as a Deployment's.
//
// The hash names the revision's ReplicaSet (`<rollout>-<hash>`) and labels it, its pods and
// the Services' selectors, so it must not change when nothing in the template changed: the
// canonical JSON sorts keys and drops formatting, and resolves plain YAML scalars the way
// kubectl converts YAML to JSON (YAML 1.1, as go-yaml v2: `80` is a number, `"80"` a string,
// `yes`/`on`/`true` booleans, `~`/`null`/empty null), so a template applied from a file and
// the same template read back from the API server as JSON hash alike.
//
// Thread-safety: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "base/status.h"
#include "rollouts/spec.h"

namespace governor::rollouts {

// The alphabet of rand.SafeEncodeString: 27 characters, no vowels.
inline constexpr std::string_view kSafeAlphabet = "bcdfghjklmnpqrstvwxz2456789";

// Returns `node` as JSON text with object keys sorted bytewise and no whitespace. Plain
// scalars are resolved as the header says; quoted, block and `!!str` scalars are strings.
// Numbers: integers in decimal (hex 0x and octal 0o/leading-0 forms converted), others in
// the shortest form that reads back exactly (`1.50` -> `1.5`, `1e3` -> `1000`).
// InvalidArgument for what JSON cannot hold: a mapping key that is not a scalar, `.inf` or
// `.nan`; the message names the path inside `node` ("metadata.labels: ...").
Result<std::string> canonicalJson(const YAML::Node& node);

// canonicalJson() of the single YAML or JSON document `text`. InvalidArgument for text that
// is not YAML.
Result<std::string> canonicalJsonText(std::string_view text);

// 32-bit FNV-1a of `bytes` (offset basis 2166136261, prime 16777619).
uint32_t fnv1a32(std::string_view bytes);

// rand.SafeEncodeString: each byte b of `s` becomes kSafeAlphabet[b % 27]. Used on decimal
// digits: '0'..'5' -> "456789", '6'..'9' -> "bcdf".
std::string safeEncodeString(std::string_view s);

// The hash of a canonical template: safeEncodeString(decimal(FNV-1a(json [+ count]))).
// `collision_count`, when set, is appended as Kubernetes does (8 bytes: the count as a
// little-endian uint32, then 4 zero bytes); the controller bumps it when a ReplicaSet of
// that name exists with another template. 1 to 10 characters of kSafeAlphabet.
std::string podTemplateHash(std::string_view canonical_json,
                            std::optional<int32_t> collision_count = std::nullopt);

// podTemplateHash() of spec.pod_template.json.
std::string podTemplateHash(const RolloutSpec& spec,
                            std::optional<int32_t> collision_count = std::nullopt);

}  // namespace governor::rollouts
