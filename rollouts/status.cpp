#include "rollouts/status.h"

#include <array>
#include <utility>

namespace governor::rollouts {
namespace {

// One table per enum, so that the name and the parse functions cannot disagree.
template <typename E, size_t N>
std::optional<E> parseByName(const std::array<std::pair<E, std::string_view>, N>& table,
                             std::string_view name) {
  for (const auto& [value, text] : table) {
    if (text == name) return value;
  }
  return std::nullopt;
}

template <typename E, size_t N>
std::string_view nameOf(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [v, text] : table) {
    if (v == value) return text;
  }
  return table.front().second;  // Unreachable for a valid enumerator.
}

constexpr std::array<std::pair<RolloutPhase, std::string_view>, 5> kPhases{{
    {RolloutPhase::kProgressing, "Progressing"},
    {RolloutPhase::kPaused, "Paused"},
    {RolloutPhase::kHealthy, "Healthy"},
    {RolloutPhase::kDegraded, "Degraded"},
    {RolloutPhase::kAborted, "Aborted"},
}};

constexpr std::array<std::pair<RevisionRole, std::string_view>, 5> kRoles{{
    {RevisionRole::kStable, "Stable"},
    {RevisionRole::kCanary, "Canary"},
    {RevisionRole::kActive, "Active"},
    {RevisionRole::kPreview, "Preview"},
    {RevisionRole::kOld, "Old"},
}};

constexpr std::array<std::pair<AnalysisKind, std::string_view>, 4> kKinds{{
    {AnalysisKind::kStep, "Step"},
    {AnalysisKind::kBackground, "Background"},
    {AnalysisKind::kPrePromotion, "PrePromotion"},
    {AnalysisKind::kPostPromotion, "PostPromotion"},
}};

constexpr std::array<std::pair<PromoteRequest, std::string_view>, 2> kPromotes{{
    {PromoteRequest::kStep, "Step"},
    {PromoteRequest::kFull, "Full"},
}};

}  // namespace

std::string_view rolloutPhaseName(RolloutPhase phase) { return nameOf(kPhases, phase); }
std::optional<RolloutPhase> parseRolloutPhase(std::string_view name) {
  return parseByName(kPhases, name);
}

std::string_view revisionRoleName(RevisionRole role) { return nameOf(kRoles, role); }
std::optional<RevisionRole> parseRevisionRole(std::string_view name) {
  return parseByName(kRoles, name);
}

std::string_view analysisKindName(AnalysisKind kind) { return nameOf(kKinds, kind); }
std::optional<AnalysisKind> parseAnalysisKind(std::string_view name) {
  return parseByName(kKinds, name);
}

std::string_view promoteRequestName(PromoteRequest request) { return nameOf(kPromotes, request); }
std::optional<PromoteRequest> parsePromoteRequest(std::string_view name) {
  return parseByName(kPromotes, name);
}

}  // namespace governor::rollouts
