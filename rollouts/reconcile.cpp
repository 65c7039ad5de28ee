#include "rollouts/reconcile.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "base/duration.h"
#include "rollouts/split.h"
#include "rollouts/template_hash.h"

namespace governor::rollouts {
namespace {

// status.analysisRuns is bounded: beyond this many entries the oldest finished runs go.
constexpr size_t kMaxAnalysisRuns = 16;

constexpr std::string_view kConditionProgressing = "Progressing";
constexpr std::string_view kConditionAvailable = "Available";
constexpr std::string_view kConditionPaused = "Paused";
constexpr std::string_view kConditionInvalidSpec = "InvalidSpec";

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string runName(AnalysisKind kind, std::optional<int32_t> step, const std::string& tmpl) {
  std::string out = lowered(analysisKindName(kind));
  if (kind == AnalysisKind::kStep && step) out += "-" + std::to_string(*step);
  return out + "-" + tmpl;
}

bool finished(const RolloutAnalysisRun& r) { return r.run.phase != AnalysisPhase::kRunning; }
bool failedPhase(AnalysisPhase p) {
  return p == AnalysisPhase::kFailed || p == AnalysisPhase::kError;
}

// Sets condition `type`, moving last_transition_time only when `status` changes.
void setCondition(std::vector<RolloutCondition>& conditions, std::string_view type,
                  std::string status, std::string reason, std::string message, TimePoint now) {
  auto it = std::find_if(conditions.begin(), conditions.end(),
                         [&](const RolloutCondition& c) { return c.type == type; });
  if (it == conditions.end()) {
    conditions.push_back(
        {std::string(type), std::move(status), std::move(reason), std::move(message), now});
    return;
  }
  if (it->status != status) it->last_transition_time = now;
  it->status = std::move(status);
  it->reason = std::move(reason);
  it->message = std::move(message);
}

void removeCondition(std::vector<RolloutCondition>& conditions, std::string_view type) {
  std::erase_if(conditions, [&](const RolloutCondition& c) { return c.type == type; });
}

const RolloutCondition* findCondition(const RolloutStatus& s, std::string_view type) {
  for (const auto& c : s.conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

// A pair of ReplicaSet sizes for the canary mover.
struct Sizes {
  int32_t stable = 0;
  int32_t canary = 0;
};

// One move of a rolling update from the current sizes `spec` (their available pods `avail`)
// towards `target`, as a Deployment's rolling update moves, for either direction (the canary
// growing, or the stable growing back):
//   1. the side that grows grows first, within a total of spec.replicas + maxSurge (or the
//      target's own total when that is larger: the split may use a surge pod itself);
//      `urgent` (an abort) lifts that cap, so the stable comes back at once;
//   2. the side that shrinks loses its unavailable pods freely, and its available ones only
//      while the available pods of both stay >= spec.replicas - maxUnavailable.
// Repeated moves reach `target` as the grown pods become available. Both limits 0 would
// never move: as Deployments do, maxUnavailable is then 1.
Sizes moveTowards(Sizes target, Sizes spec, Sizes avail, int32_t replicas, int32_t max_surge,
                  int32_t max_unavailable, bool urgent) {
  if (max_surge == 0 && max_unavailable == 0) max_unavailable = 1;
  const int64_t target_total = static_cast<int64_t>(target.stable) + target.canary;
  const int64_t max_total = urgent ? std::numeric_limits<int64_t>::max()
                                   : std::max<int64_t>(int64_t{replicas} + max_surge, target_total);
  const int64_t min_available =
      std::max<int64_t>(0, std::min<int64_t>(int64_t{replicas} - max_unavailable, target_total));
  Sizes out = spec;
  int64_t headroom = max_total - (int64_t{out.stable} + out.canary);
  for (int32_t* side : {&out.canary, &out.stable}) {
    const int32_t want = side == &out.canary ? target.canary : target.stable;
    if (want > *side && headroom > 0) {
      const int64_t add = std::min<int64_t>(want - *side, headroom);
      *side += static_cast<int32_t>(add);
      headroom -= add;
    }
  }
  const int32_t avail_stable = std::min(avail.stable, out.stable);
  const int32_t avail_canary = std::min(avail.canary, out.canary);
  int64_t budget = std::max<int64_t>(0, int64_t{avail_stable} + avail_canary - min_available);
  for (int32_t* side : {&out.stable, &out.canary}) {
    const int32_t want = side == &out.canary ? target.canary : target.stable;
    const int32_t available = side == &out.canary ? avail_canary : avail_stable;
    if (want >= *side) continue;
    const int64_t excess = *side - want;
    const int64_t free = std::min<int64_t>(excess, *side - available);
    const int64_t lose = std::min(excess - free, budget);
    *side -= static_cast<int32_t>(free + lose);
    budget -= lose;
  }
  return out;
}

// Where an update waits, for the phase, the Paused condition and the message.
enum class Wait {
  kNone,      // Nothing: the update moved as far as it can now, or there is none.
  kPods,      // Pods to be created or become available (the progress deadline counts).
  kTimer,     // A timed pause, an auto-promotion or scale-down delay.
  kAnalysis,  // A Running analysis.
  kPerson,    // pause {}, an inconclusive analysis, a manual blue-green promotion.
};

// One reconcile: the input, the status being built, and the plan's pieces.
class Pass {
 public:
  explicit Pass(const RolloutInput& in)
      : in_(in), spec_(in.spec), st_(in.status), n_(std::max(0, in.spec.replicas)) {}

  RolloutPlan run();

 private:
  // --- the world ---
  const ObservedReplicaSet* observed(const std::string& hash) const {
    auto it = rs_.find(hash);
    return it == rs_.end() ? nullptr : it->second;
  }
  int32_t specOf(const std::string& hash) const {
    const auto* r = observed(hash);
    return r == nullptr ? 0 : r->spec_replicas;
  }
  int32_t availableOf(const std::string& hash) const {
    const auto* r = observed(hash);
    return r == nullptr ? 0 : r->available_replicas;
  }
  // The revision's ReplicaSet has `size` as its spec, observed, with every pod available.
  bool ready(const std::string& hash, int32_t size) const {
    const auto* r = observed(hash);
    if (r == nullptr) return size == 0;
    return r->observed && r->spec_replicas == size && r->available_replicas >= size;
  }
  bool updating() const { return st_.canary_revision != st_.stable_revision; }

  // --- revisions ---
  void adoptRevisions();
  void startUpdate();
  void endUpdate(std::string_view reason, std::string message);
  void retry();

  // --- analysis ---
  const AnalysisTemplateSpec* templateOf(const std::string& name) const;
  bool checkTemplates();
  RolloutAnalysisRun* findRun(const std::string& name);
  // The runs of `ref` for `kind` (and `step`) on the canary revision, started if missing.
  std::vector<RolloutAnalysisRun*> ensureRuns(const AnalysisRef& ref, AnalysisKind kind,
                                              std::optional<int32_t> step);
  // The verdict of `runs`: failed (first failed run), inconclusive, running or successful.
  struct Verdict {
    const RolloutAnalysisRun* failed = nullptr;
    const RolloutAnalysisRun* inconclusive = nullptr;
    bool running = false;
  };
  Verdict verdictOf(const std::vector<RolloutAnalysisRun*>& runs);
  void stopRuns(std::string_view reason,
                const std::function<bool(const RolloutAnalysisRun&)>& which);
  void boundRuns();

  // --- canary ---
  void canary();
  Sizes canaryTarget(int32_t index, int32_t* weight) const;
  void sizeCanary(Sizes target, int32_t weight, bool urgent);
  bool canaryStep(int32_t index);
  void canaryPromotion();
  void canaryAborted();
  void canaryServices();

  // --- blue-green ---
  void blueGreen();
  bool blueGreenUpdate();
  void blueGreenAfterSwitch();
  void blueGreenAborted();

  // --- shared ---
  void beginAbort(const RolloutAnalysisRun* run, std::string where);
  std::string abortMessage() const;
  bool takePromote(PromoteRequest kind);
  void waitFor(Wait wait, std::string text);
  void waitForPerson(std::string reason, std::string text);
  void requeueAt(TimePoint t) {
    if (!requeue_at_ || t < *requeue_at_) requeue_at_ = t;
  }
  void event(std::string type, std::string reason, std::string message) {
    plan_.events.push_back({std::move(type), std::move(reason), std::move(message)});
  }
  void stepCompleted(std::string what);
  void planReplicaSets();
  void finishStatus();
  std::string podsOf(const std::string& hash) const;

  const RolloutInput& in_;
  const RolloutSpec& spec_;
  RolloutStatus st_;
  RolloutPlan plan_;
  const int32_t n_;  // spec.replicas.
  std::string hash_;
  std::map<std::string, const ObservedReplicaSet*> rs_;  // By pod-template-hash.
  std::map<std::string, int32_t> desired_;               // Sizes this pass sets.
  std::optional<TimePoint> requeue_at_;
  int32_t route_weight_ = 0;  // With a router: the weight the route gets.
  Wait wait_ = Wait::kNone;
  std::string stage_;         // "step 2/6: setWeight 20".
  std::string wait_text_;     // What it waits for.
  std::string pause_reason_;  // The Paused condition's reason while a person must act.
  bool progress_ = false;     // A step completed or the update moved: the deadline restarts.
  bool aborted_ = false;
  bool abort_reported_ = false;  // The abort's Events are in this plan.
  std::string invalid_reason_, invalid_message_;
  bool busy_ = false;  // Something of an update still runs (blue-green post-promotion).
};

const AnalysisTemplateSpec* Pass::templateOf(const std::string& name) const {
  auto it = in_.templates.find(name);
  if (it == in_.templates.end() || !it->second.ok()) return nullptr;
  return &it->second.value();
}

// Every template the strategy names must be there and accept the args it is given: a
// release gate that cannot run must stop the update before it starts, not halfway.
bool Pass::checkTemplates() {
  std::vector<const AnalysisRef*> refs;
  if (const CanaryStrategy* c = spec_.canary()) {
    for (const CanaryStep& s : c->steps) {
      if (const auto* a = std::get_if<AnalysisStep>(&s)) refs.push_back(&a->analysis);
    }
    if (c->analysis) refs.push_back(&c->analysis->analysis);
  } else if (const BlueGreenStrategy* b = spec_.blueGreen()) {
    if (b->pre_promotion_analysis) refs.push_back(&*b->pre_promotion_analysis);
    if (b->post_promotion_analysis) refs.push_back(&*b->post_promotion_analysis);
  }
  std::vector<std::string> problems;
  std::string reason;
  std::set<std::string> seen;
  for (const AnalysisRef* ref : refs) {
    std::map<std::string, std::string> supplied;
    for (const auto& a : ref->args) supplied[a.name] = a.value;
    for (const std::string& name : ref->templates) {
      auto it = in_.templates.find(name);
      if (it == in_.templates.end() || !it->second.ok()) {
        if (!seen.insert(name).second) continue;
        reason = "AnalysisTemplateNotFound";
        problems.push_back(
            "AnalysisTemplate " + name + ": " +
            (it == in_.templates.end() ? std::string("not found") : it->second.status().message()));
        continue;
      }
      if (auto args = resolveArgs(*it->second, supplied); !args.ok()) {
        if (!seen.insert(name + "/args").second) continue;
        if (reason.empty()) reason = "AnalysisArgsInvalid";
        problems.push_back(args.status().message());
      }
    }
  }
  if (problems.empty()) return true;
  invalid_reason_ = reason;
  std::string message;
  for (const auto& p : problems) message += (message.empty() ? "" : "; ") + p;
  invalid_message_ = message;
  return false;
}

RolloutAnalysisRun* Pass::findRun(const std::string& name) {
  for (auto& r : st_.analysis_runs) {
    if (r.name == name && r.revision == st_.canary_revision) return &r;
  }
  return nullptr;
}

std::vector<RolloutAnalysisRun*> Pass::ensureRuns(const AnalysisRef& ref, AnalysisKind kind,
                                                  std::optional<int32_t> step) {
  std::vector<RolloutAnalysisRun*> out;
  for (const std::string& t : ref.templates) {
    const std::string name = runName(kind, step, t);
    if (findRun(name) == nullptr) {
      const AnalysisTemplateSpec* tmpl = templateOf(t);
      if (tmpl == nullptr) continue;  // checkTemplates() has stopped the update already.
      RolloutAnalysisRun r;
      r.name = name;
      r.kind = kind;
      r.step_index = step;
      r.template_name = t;
      r.revision = st_.canary_revision;
      r.run = startAnalysisRun(*tmpl, in_.now);
      st_.analysis_runs.push_back(std::move(r));
    }
  }
  // Pointers only after every push_back: the vector may have moved.
  for (const std::string& t : ref.templates) {
    if (RolloutAnalysisRun* r = findRun(runName(kind, step, t))) out.push_back(r);
  }
  return out;
}

Pass::Verdict Pass::verdictOf(const std::vector<RolloutAnalysisRun*>& runs) {
  Verdict v;
  for (RolloutAnalysisRun* r : runs) {
    if (failedPhase(r->run.phase)) {
      if (v.failed == nullptr) v.failed = r;
    } else if (r->run.phase == AnalysisPhase::kInconclusive) {
      if (v.inconclusive == nullptr) v.inconclusive = r;
    } else if (r->run.phase == AnalysisPhase::kRunning) {
      v.running = true;
      if (const AnalysisTemplateSpec* tmpl = templateOf(r->template_name)) {
        if (auto at = nextMeasurementAt(*tmpl, r->run, in_.now)) requeueAt(*at);
      }
    }
  }
  return v;
}

void Pass::stopRuns(std::string_view reason,
                    const std::function<bool(const RolloutAnalysisRun&)>& which) {
  for (auto& r : st_.analysis_runs) {
    if (finished(r) || !which(r)) continue;
    if (const AnalysisTemplateSpec* tmpl = templateOf(r.template_name)) {
      stopAnalysisRun(*tmpl, r.run, reason);
    } else {
      // Without its template the run cannot be measured any more; it ends where it is.
      r.run.phase = AnalysisPhase::kSuccessful;
      r.run.message = "stopped (" + std::string(reason) + ")";
    }
    r.finished_at = in_.now;
  }
}

void Pass::boundRuns() {
  while (st_.analysis_runs.size() > kMaxAnalysisRuns) {
    auto oldest = st_.analysis_runs.end();
    for (auto it = st_.analysis_runs.begin(); it != st_.analysis_runs.end(); ++it) {
      if (!finished(*it)) continue;
      if (oldest == st_.analysis_runs.end() ||
          it->finished_at.value_or(TimePoint{}) < oldest->finished_at.value_or(TimePoint{})) {
        oldest = it;
      }
    }
    if (oldest == st_.analysis_runs.end()) return;  // All running: every one is needed.
    st_.analysis_runs.erase(oldest);
  }
}

// --- revisions ---

void Pass::adoptRevisions() {
  if (st_.stable_revision.empty()) {
    // First reconcile, or a status lost: a ReplicaSet of the current template, or none at
    // all, makes the current template stable at once (nothing runs that an update must
    // protect); otherwise the revision with the most available pods serves and the current
    // template is an update from it.
    const ObservedReplicaSet* best = nullptr;
    for (const auto& [hash, r] : rs_) {
      if (best == nullptr || r->available_replicas > best->available_replicas ||
          (r->available_replicas == best->available_replicas &&
           r->spec_replicas > best->spec_replicas)) {
        best = r;
      }
    }
    st_.stable_revision =
        (best == nullptr || observed(hash_) != nullptr) ? hash_ : best->pod_template_hash;
    st_.canary_revision = st_.stable_revision;
    if (const CanaryStrategy* c = spec_.canary()) {
      st_.current_step_index = static_cast<int32_t>(c->steps.size());
    }
  } else if (observed(st_.stable_revision) == nullptr && st_.stable_revision != hash_) {
    // The stable ReplicaSet is gone (deleted by hand): there is nothing to protect nor to
    // return to, so the current template becomes stable, as on a first deploy.
    event("Warning", "StableRevisionMissing",
          "ReplicaSet " + replicaSetName(spec_, st_.stable_revision) +
              " of the stable revision is gone; revision " + hash_ + " becomes stable");
    st_.stable_revision = hash_;
    st_.canary_revision = hash_;
    st_.abort = false;
    st_.analysis_runs.clear();
  }
  if (st_.canary_revision.empty()) st_.canary_revision = st_.stable_revision;

  if (hash_ == st_.canary_revision) return;
  if (hash_ == st_.stable_revision) {
    endUpdate("RolloutRolledBack", "the template is the stable revision's again: update to " +
                                       st_.canary_revision + " abandoned");
    return;
  }
  const std::string from = st_.canary_revision;
  st_.canary_revision = hash_;
  startUpdate();
  event("Normal", "RolloutUpdated",
        "update to revision " + hash_ + " started from stable revision " + st_.stable_revision +
            (from != st_.stable_revision ? " (replaces the update to " + from + ")" : ""));
}

// The progress of a new update (or a retried one): step 0, fresh analyses, no requests.
void Pass::startUpdate() {
  st_.current_step_index = 0;
  st_.current_step_started_at = in_.now;
  st_.paused_at.reset();
  st_.abort = false;
  st_.promote.reset();
  st_.canary_weight = 0;
  st_.analysis_runs.clear();
  st_.preview_ready_at.reset();
  st_.promoted_at.reset();
  // A pending blue-green scale-down of an earlier update happens now: one old revision
  // kept for a switch back is enough, and it is the stable one.
  st_.scale_down_at.reset();
  st_.previous_active.clear();
  progress_ = true;
}

void Pass::endUpdate(std::string_view reason, std::string message) {
  stopRuns("the update ended", [&](const RolloutAnalysisRun&) { return true; });
  st_.analysis_runs.clear();
  st_.canary_revision = st_.stable_revision;
  st_.abort = false;
  st_.promote.reset();
  st_.paused_at.reset();
  st_.canary_weight = 0;
  st_.preview_ready_at.reset();
  if (const CanaryStrategy* c = spec_.canary()) {
    st_.current_step_index = static_cast<int32_t>(c->steps.size());
  }
  progress_ = true;
  event("Normal", std::string(reason), std::move(message));
}

void Pass::retry() {
  const std::string revision = st_.canary_revision;
  std::erase_if(st_.analysis_runs,
                [&](const RolloutAnalysisRun& r) { return r.revision == revision; });
  startUpdate();
  event("Normal", "RolloutRetried", "update to revision " + revision + " restarts at step 0");
}

// --- shared ---

bool Pass::takePromote(PromoteRequest kind) {
  if (st_.promote != kind || spec_.paused) return false;
  st_.promote.reset();
  return true;
}

void Pass::waitFor(Wait wait, std::string text) {
  wait_ = wait;
  wait_text_ = std::move(text);
}

void Pass::waitForPerson(std::string reason, std::string text) {
  pause_reason_ = std::move(reason);
  waitFor(Wait::kPerson, std::move(text));
}

void Pass::stepCompleted(std::string what) {
  event("Normal", "RolloutStepCompleted", what);
  st_.paused_at.reset();
  progress_ = true;
}

void Pass::beginAbort(const RolloutAnalysisRun* run, std::string where) {
  st_.abort = true;
  abort_reported_ = true;
  if (run != nullptr) {
    event(
        "Warning", "AnalysisFailed",
        "analysis " + run->name + " of revision " + run->revision + " failed: " + run->run.message);
  }
  event("Warning", "RolloutAborted",
        where + ": " + (run != nullptr ? run->run.message : std::string("aborted by a person")));
}

std::string Pass::abortMessage() const {
  for (const auto& r : st_.analysis_runs) {
    if (r.revision != st_.canary_revision || !failedPhase(r.run.phase)) continue;
    switch (r.kind) {
      case AnalysisKind::kStep:
        return "aborted at step " + std::to_string(r.step_index.value_or(0)) + ": " + r.run.message;
      case AnalysisKind::kBackground:
        return "aborted at step " + std::to_string(st_.current_step_index) +
               " (background analysis): " + r.run.message;
      case AnalysisKind::kPrePromotion:
        return "aborted at prePromotionAnalysis: " + r.run.message;
      case AnalysisKind::kPostPromotion:
        return "switched back at postPromotionAnalysis: " + r.run.message;
    }
  }
  return spec_.canary() ? "aborted by a person at step " + std::to_string(st_.current_step_index)
                        : std::string("aborted by a person");
}

std::string Pass::podsOf(const std::string& hash) const {
  auto it = desired_.find(hash);
  const int32_t want = it == desired_.end() ? 0 : it->second;
  return std::to_string(std::min(availableOf(hash), want)) + "/" + std::to_string(want);
}

// --- canary ---

// The split of step `index` (the weight and canary scale of the last steps that set them).
Sizes Pass::canaryTarget(int32_t index, int32_t* weight) const {
  const CanaryStrategy& c = *spec_.canary();
  int32_t w = 0;
  CanaryScale scale;
  for (int32_t i = 0; i <= index && i < static_cast<int32_t>(c.steps.size()); ++i) {
    if (const auto* s = std::get_if<SetWeightStep>(&c.steps[i])) w = s->weight;
    if (const auto* s = std::get_if<SetCanaryScaleStep>(&c.steps[i])) scale = s->scale;
  }
  if (weight != nullptr) *weight = w;
  const ReplicaSplit split = canarySplit(c, n_, w, scale);
  return {split.stable, split.canary};
}

void Pass::sizeCanary(Sizes target, int32_t weight, bool urgent) {
  const CanaryStrategy& c = *spec_.canary();
  if (c.traffic_routing) {
    desired_[st_.stable_revision] = target.stable;
    desired_[st_.canary_revision] = target.canary;
    // Traffic follows the pods: the weight moves up only once the canary pods for it are
    // available; down at once.
    route_weight_ =
        ready(st_.canary_revision, target.canary) ? weight : std::min(route_weight_, weight);
    return;
  }
  const Sizes spec{specOf(st_.stable_revision), specOf(st_.canary_revision)};
  const Sizes avail{availableOf(st_.stable_revision), availableOf(st_.canary_revision)};
  const Sizes next = moveTowards(target, spec, avail, n_, c.max_surge.resolve(n_, true),
                                 c.max_unavailable.resolve(n_, false), urgent);
  desired_[st_.stable_revision] = next.stable;
  desired_[st_.canary_revision] = next.canary;
}

// Sizes the current step and returns true when it is complete.
bool Pass::canaryStep(int32_t index) {
  const CanaryStrategy& c = *spec_.canary();
  const CanaryStep& step = c.steps[index];
  const std::string counter =
      "step " + std::to_string(index) + "/" + std::to_string(c.steps.size());
  int32_t weight = 0;
  const Sizes target = canaryTarget(index, &weight);
  sizeCanary(target, weight, false);
  const bool pods_ready =
      ready(st_.stable_revision, target.stable) && ready(st_.canary_revision, target.canary);

  if (const auto* s = std::get_if<SetWeightStep>(&step)) {
    stage_ = counter + ": setWeight " + std::to_string(s->weight);
  } else if (std::holds_alternative<SetCanaryScaleStep>(step)) {
    stage_ = counter + ": setCanaryScale";
  }
  if (std::holds_alternative<SetWeightStep>(step) ||
      std::holds_alternative<SetCanaryScaleStep>(step)) {
    if (!pods_ready) {
      waitFor(Wait::kPods, "waiting for pods: canary " + podsOf(st_.canary_revision) +
                               " available, stable " + podsOf(st_.stable_revision));
      return false;
    }
    return true;
  }

  if (const auto* p = std::get_if<PauseStep>(&step)) {
    stage_ = counter + ": pause" + (p->duration ? " " + formatDuration(*p->duration) : "");
    if (takePromote(PromoteRequest::kStep)) {
      event("Normal", "RolloutPromoted", stage_ + ": promoted by a person");
      return true;
    }
    if (p->duration) {
      const TimePoint end = st_.current_step_started_at.value_or(in_.now) + *p->duration;
      if (in_.now >= end) return true;
      requeueAt(end);
      waitFor(Wait::kTimer, formatDuration(end - in_.now) + " left");
      return false;
    }
    waitForPerson("PauseStep", "waiting for `governor rollout promote`");
    return false;
  }

  const auto& analysis = std::get<AnalysisStep>(step).analysis;
  stage_ = counter + ": analysis " + joined(analysis.templates);
  const Verdict v = verdictOf(ensureRuns(analysis, AnalysisKind::kStep, index));
  // A failure is handled by the caller (it aborts the update); here only the wait.
  if (v.running) {
    waitFor(Wait::kAnalysis, "analysis running");
    return false;
  }
  if (v.inconclusive != nullptr) {
    if (takePromote(PromoteRequest::kStep)) {
      event("Normal", "RolloutPromoted", stage_ + ": inconclusive analysis accepted by a person");
      return true;
    }
    waitForPerson("InconclusiveAnalysis", "analysis inconclusive: " + v.inconclusive->run.message +
                                              "; `governor rollout promote` accepts it");
    return false;
  }
  return true;
}

void Pass::canary() {
  const CanaryStrategy& c = *spec_.canary();
  const auto n_steps = static_cast<int32_t>(c.steps.size());
  if (!updating()) {
    st_.promote.reset();  // Nothing to promote, nothing to abort.
    st_.abort = false;
    desired_[st_.stable_revision] = n_;
    stage_ = "stable revision " + st_.stable_revision;
    if (!ready(st_.stable_revision, n_)) {
      waitFor(Wait::kPods, "waiting for pods: " + podsOf(st_.stable_revision) + " available");
    }
    canaryServices();
    return;
  }
  if (st_.abort) {
    canaryAborted();
    return;
  }
  if (!checkTemplates()) {
    // Nothing moves: the ReplicaSets stay as they are (the canary is not created).
    for (const std::string& h : {st_.stable_revision, st_.canary_revision}) {
      if (observed(h) != nullptr) desired_[h] = specOf(h);
    }
    stage_ = "step " + std::to_string(st_.current_step_index) + "/" + std::to_string(n_steps);
    canaryServices();
    return;
  }
  if (st_.current_step_index < n_steps && takePromote(PromoteRequest::kFull)) {
    stopRuns("skipped by promote --full",
             [](const RolloutAnalysisRun& r) { return r.kind == AnalysisKind::kStep; });
    event("Normal", "RolloutPromoted",
          "full promotion requested at step " + std::to_string(st_.current_step_index) +
              ": the remaining steps are skipped");
    st_.current_step_index = n_steps;
    st_.current_step_started_at = in_.now;
    st_.paused_at.reset();
    progress_ = true;
  }
  // Each pass of the loop is one step; a step that completes at once (its pods already
  // there, a pause of 0) lets the next one start in the same reconcile.
  for (int32_t guard = 0; guard <= n_steps + 1; ++guard) {
    const int32_t index = st_.current_step_index;
    std::vector<RolloutAnalysisRun*> background;
    if (c.analysis && index >= c.analysis->starting_step) {
      background =
          ensureRuns(c.analysis->analysis, AnalysisKind::kBackground, c.analysis->starting_step);
    }
    for (auto& r : st_.analysis_runs) {
      if (r.revision == st_.canary_revision && failedPhase(r.run.phase)) {
        beginAbort(&r, index < n_steps ? "aborted at step " + std::to_string(index)
                                       : "aborted at promotion");
        canaryAborted();
        return;
      }
    }
    const Verdict bg = verdictOf(background);
    if (bg.inconclusive != nullptr) {
      if (takePromote(PromoteRequest::kStep)) {
        // As Argo: the person accepts the verdict and a fresh background run starts.
        std::erase_if(st_.analysis_runs, [&](const RolloutAnalysisRun& r) {
          return r.kind == AnalysisKind::kBackground && r.revision == st_.canary_revision;
        });
        event("Normal", "RolloutPromoted",
              "inconclusive background analysis accepted by a person; it starts again");
        st_.paused_at.reset();
        continue;
      }
      int32_t weight = 0;
      sizeCanary(canaryTarget(index, &weight), weight, false);
      stage_ = "step " + std::to_string(index) + "/" + std::to_string(n_steps);
      waitForPerson("InconclusiveAnalysis",
                    "background analysis inconclusive: " + bg.inconclusive->run.message +
                        "; `governor rollout promote` accepts it");
      break;
    }
    if (index >= n_steps) {
      canaryPromotion();
      break;
    }
    if (!canaryStep(index)) break;
    if (spec_.paused) {
      waitFor(Wait::kNone, "");
      break;
    }
    stepCompleted(stage_);
    st_.current_step_index = index + 1;
    st_.current_step_started_at = in_.now;
  }
  if (!st_.abort) canaryServices();
}

void Pass::canaryPromotion() {
  const CanaryStrategy& c = *spec_.canary();
  stage_ = "promotion";
  if (spec_.paused) {
    // Held before the promotion starts: the last step's split stays.
    int32_t weight = 0;
    sizeCanary(canaryTarget(static_cast<int32_t>(c.steps.size()) - 1, &weight), weight, false);
    return;
  }
  // The new revision comes up to the stable's CURRENT size, never below spec.replicas:
  // promotion must not land on a smaller fleet than the one serving now.
  const int32_t size = std::max(n_, c.traffic_routing ? specOf(st_.stable_revision) : n_);
  if (c.traffic_routing) {
    int32_t last_weight = 0;
    canaryTarget(static_cast<int32_t>(c.steps.size()) - 1, &last_weight);
    desired_[st_.stable_revision] = std::max(n_, specOf(st_.stable_revision));
    desired_[st_.canary_revision] = size;
    if (!ready(st_.canary_revision, size)) {
      route_weight_ = std::min(route_weight_, last_weight);
      stage_ = "promotion: scaling the canary to the stable's size (" + std::to_string(size) + ")";
      waitFor(Wait::kPods,
              "waiting for pods: canary " + podsOf(st_.canary_revision) + " available");
      return;
    }
    route_weight_ = 100;
    if (in_.status.canary_weight != 100) {
      // The route moves in this plan; the switch waits until the status says it moved.
      stage_ = "promotion: 100% of traffic to the canary";
      requeueAt(in_.now);
      return;
    }
  } else {
    sizeCanary({0, size}, 100, false);
    if (!ready(st_.stable_revision, 0) || !ready(st_.canary_revision, size)) {
      stage_ = "promotion: rolling to the canary";
      waitFor(Wait::kPods, "waiting for pods: canary " + podsOf(st_.canary_revision) +
                               " available, stable " + podsOf(st_.stable_revision));
      return;
    }
  }
  const std::string old = st_.stable_revision;
  stopRuns("rollout promoted",
           [](const RolloutAnalysisRun& r) { return r.kind == AnalysisKind::kBackground; });
  st_.stable_revision = st_.canary_revision;
  st_.paused_at.reset();
  st_.canary_weight = 0;
  route_weight_ = 0;
  progress_ = true;
  event("Normal", "RolloutCompleted",
        "revision " + st_.stable_revision + " is stable with " + std::to_string(size) +
            " pods; revision " + old + " goes to 0 pods");
  desired_.clear();
  desired_[st_.stable_revision] = n_;
  stage_ = "stable revision " + st_.stable_revision;
}

void Pass::canaryAborted() {
  const CanaryStrategy& c = *spec_.canary();
  aborted_ = true;
  if (in_.status.phase != RolloutPhase::kAborted && !abort_reported_) {
    beginAbort(nullptr, "aborted at step " + std::to_string(st_.current_step_index));
  }
  stopRuns("rollout aborted",
           [&](const RolloutAnalysisRun& r) { return r.revision == st_.canary_revision; });
  st_.paused_at.reset();
  route_weight_ = 0;
  if (c.traffic_routing) {
    desired_[st_.stable_revision] = n_;
    desired_[st_.canary_revision] = 0;
  } else {
    sizeCanary({n_, 0}, 0, true);
  }
  stage_ = abortMessage();
  if (!ready(st_.stable_revision, n_) || !ready(st_.canary_revision, 0)) {
    waitFor(Wait::kPods, "stable " + podsOf(st_.stable_revision) + " pods available");
  }
  canaryServices();
}

void Pass::canaryServices() {
  const CanaryStrategy& c = *spec_.canary();
  const bool live = updating() && !st_.abort;
  if (!c.stable_service.empty()) plan_.services.push_back({c.stable_service, st_.stable_revision});
  if (!c.canary_service.empty()) {
    plan_.services.push_back({c.canary_service, live ? st_.canary_revision : st_.stable_revision});
  }
  if (c.traffic_routing) {
    RouteWeights r;
    r.http_route = c.traffic_routing->http_route;
    r.namespace_ =
        c.traffic_routing->namespace_.empty() ? spec_.namespace_ : c.traffic_routing->namespace_;
    r.stable_service = c.stable_service;
    r.canary_service = c.canary_service;
    r.canary_weight = live ? route_weight_ : 0;
    plan_.route = r;
  }
}

// --- blue-green ---

void Pass::blueGreen() {
  const BlueGreenStrategy& b = *spec_.blueGreen();
  if (updating() && st_.abort) {
    blueGreenAborted();
  } else if (updating()) {
    if (!checkTemplates()) {
      for (const std::string& h : {st_.stable_revision, st_.canary_revision}) {
        if (observed(h) != nullptr) desired_[h] = specOf(h);
      }
      stage_ = "update to " + st_.canary_revision;
    } else if (blueGreenUpdate()) {
      blueGreenAfterSwitch();
    }
  } else {
    st_.promote.reset();
    st_.abort = false;
    blueGreenAfterSwitch();
  }
  if (aborted_) return;  // blueGreenAborted() set the Services.
  const bool preview = updating();
  st_.active_selector = st_.stable_revision;
  st_.preview_selector = preview ? st_.canary_revision : st_.stable_revision;
  plan_.services.push_back({b.active_service, st_.active_selector});
  if (!b.preview_service.empty())
    plan_.services.push_back({b.preview_service, st_.preview_selector});
}

// The update before the switch; true once the active Service switched in this pass.
bool Pass::blueGreenUpdate() {
  const BlueGreenStrategy& b = *spec_.blueGreen();
  const std::string& fresh = st_.canary_revision;
  const int32_t preview = std::min(b.preview_replica_count.value_or(n_), n_);
  desired_[st_.stable_revision] = n_;
  const bool full = st_.promote == PromoteRequest::kFull && !spec_.paused;

  if (!st_.preview_ready_at && !full) {
    desired_[fresh] = preview;
    stage_ = "preview: " + std::to_string(preview) + " pods";
    if (!ready(fresh, preview)) {
      waitFor(Wait::kPods, "waiting for pods: preview " + podsOf(fresh) + " available");
      return false;
    }
    st_.preview_ready_at = in_.now;
    progress_ = true;
    event("Normal", "RolloutStepCompleted",
          "preview of revision " + fresh + " ready with " + std::to_string(preview) + " pods");
  }
  desired_[fresh] = preview;

  if (!full) {
    TimePoint promote_base = st_.preview_ready_at.value_or(in_.now);
    if (b.pre_promotion_analysis) {
      stage_ = "prePromotionAnalysis " + joined(b.pre_promotion_analysis->templates);
      const auto runs =
          ensureRuns(*b.pre_promotion_analysis, AnalysisKind::kPrePromotion, std::nullopt);
      const Verdict v = verdictOf(runs);
      if (v.failed != nullptr) {
        beginAbort(v.failed, "aborted at prePromotionAnalysis");
        blueGreenAborted();
        return false;
      }
      if (v.running) {
        waitFor(Wait::kAnalysis, "analysis running");
        return false;
      }
      if (v.inconclusive != nullptr) {
        if (!takePromote(PromoteRequest::kStep)) {
          waitForPerson("InconclusiveAnalysis",
                        "analysis inconclusive: " + v.inconclusive->run.message +
                            "; `governor rollout promote` accepts it");
          return false;
        }
        event("Normal", "RolloutPromoted", "inconclusive prePromotionAnalysis accepted");
        st_.paused_at.reset();
        // Accepted: the auto-promotion wait does not start again.
        promote_base = TimePoint::min();
      }
      for (const auto* r : runs) {
        if (promote_base != TimePoint::min()) {
          promote_base = std::max(promote_base, r->finished_at.value_or(in_.now));
        }
      }
    }
    if (!b.auto_promotion_enabled) {
      stage_ = "waiting for promotion";
      // Not consumed here: bringing the new revision to the active's size below may take
      // several passes, and the person's promotion must survive them. Consumed at the switch.
      if (st_.promote != PromoteRequest::kStep || spec_.paused) {
        waitForPerson("AwaitingPromotion", "waiting for `governor rollout promote`");
        return false;
      }
      st_.paused_at.reset();
    } else if (b.auto_promotion_seconds && promote_base != TimePoint::min()) {
      const TimePoint at = promote_base + *b.auto_promotion_seconds;
      if (in_.now < at) {
        stage_ = "auto-promotion";
        requeueAt(at);
        waitFor(Wait::kTimer, "in " + formatDuration(at - in_.now));
        return false;
      }
    }
  }
  if (spec_.paused) {
    stage_ = "before promotion";
    return false;
  }
  // The new revision to the active's CURRENT size before it takes the traffic.
  const int32_t size = std::max(n_, specOf(st_.stable_revision));
  desired_[st_.stable_revision] = size;
  desired_[fresh] = size;
  if (!ready(fresh, size)) {
    stage_ = "scaling the new revision to the active's size (" + std::to_string(size) + ")";
    waitFor(Wait::kPods, "waiting for pods: " + podsOf(fresh) + " available");
    return false;
  }
  if (full) {
    st_.promote.reset();
    event("Normal", "RolloutPromoted", "full promotion requested: analyses and waits skipped");
  } else if (!b.auto_promotion_enabled && takePromote(PromoteRequest::kStep)) {
    event("Normal", "RolloutPromoted", "promoted by a person");
  }
  st_.previous_active = st_.stable_revision;
  st_.stable_revision = fresh;
  st_.promoted_at = in_.now;
  st_.scale_down_at.reset();
  st_.paused_at.reset();
  progress_ = true;
  event("Normal", "RolloutPromoted",
        "active Service " + b.active_service + " switched from " + st_.previous_active +
            " to revision " + fresh);
  return true;
}

// After the switch (or with no update): post-promotion analysis, then the scale-down delay.
void Pass::blueGreenAfterSwitch() {
  const BlueGreenStrategy& b = *spec_.blueGreen();
  desired_.clear();
  desired_[st_.stable_revision] = n_;
  stage_ = "active revision " + st_.stable_revision;
  if (st_.previous_active.empty() || st_.previous_active == st_.stable_revision) {
    st_.previous_active.clear();
    st_.scale_down_at.reset();
  } else {
    // The old revision keeps its pods until the scale-down: a switch back needs them.
    desired_[st_.previous_active] = n_;
    if (!st_.scale_down_at) {
      if (b.post_promotion_analysis) {
        if (!checkTemplates()) return;
        stage_ = "postPromotionAnalysis " + joined(b.post_promotion_analysis->templates);
        busy_ = true;
        const Verdict v = verdictOf(
            ensureRuns(*b.post_promotion_analysis, AnalysisKind::kPostPromotion, std::nullopt));
        if (v.failed != nullptr) {
          // Switch back: the old revision still runs at full size.
          const std::string fresh = st_.stable_revision;
          st_.stable_revision = st_.previous_active;
          st_.canary_revision = fresh;
          st_.previous_active.clear();
          beginAbort(v.failed, "switched back at postPromotionAnalysis");
          blueGreenAborted();
          return;
        }
        if (v.running) {
          waitFor(Wait::kAnalysis, "analysis running");
          return;
        }
        if (v.inconclusive != nullptr) {
          if (!takePromote(PromoteRequest::kStep)) {
            waitForPerson("InconclusiveAnalysis",
                          "analysis inconclusive: " + v.inconclusive->run.message +
                              "; `governor rollout promote` accepts it");
            return;
          }
          event("Normal", "RolloutPromoted", "inconclusive postPromotionAnalysis accepted");
          st_.paused_at.reset();
        }
        busy_ = false;
      }
      st_.scale_down_at = in_.now + b.scale_down_delay;
      // As a canary's promotion: the new revision is the stable one for good now (no switch
      // back after this point), whatever the scale-down delay still keeps.
      event("Normal", "RolloutCompleted",
            "revision " + st_.stable_revision + " is active with " + std::to_string(n_) +
                " pods; revision " + st_.previous_active + " goes to 0 pods in " +
                std::to_string(b.scale_down_delay.count()) + "s");
    }
    if (in_.now >= *st_.scale_down_at) {
      event("Normal", "ScaledDownOldRevision",
            "revision " + st_.previous_active + " goes to 0 pods");
      desired_.erase(st_.previous_active);
      st_.previous_active.clear();
      st_.scale_down_at.reset();
    } else {
      requeueAt(*st_.scale_down_at);
      stage_ += " (revision " + st_.previous_active + " kept for the scale-down delay)";
    }
  }
  if (!ready(st_.stable_revision, n_) && wait_ == Wait::kNone) {
    waitFor(Wait::kPods, "waiting for pods: " + podsOf(st_.stable_revision) + " available");
  }
}

void Pass::blueGreenAborted() {
  const BlueGreenStrategy& b = *spec_.blueGreen();
  aborted_ = true;
  if (in_.status.phase != RolloutPhase::kAborted && !abort_reported_) {
    beginAbort(nullptr, "aborted");
  }
  stopRuns("rollout aborted",
           [&](const RolloutAnalysisRun& r) { return r.revision == st_.canary_revision; });
  st_.paused_at.reset();
  desired_.clear();
  desired_[st_.stable_revision] = n_;
  desired_[st_.canary_revision] = 0;
  stage_ = abortMessage();
  if (!ready(st_.stable_revision, n_)) {
    waitFor(Wait::kPods, "active " + podsOf(st_.stable_revision) + " pods available");
  }
  st_.active_selector = st_.stable_revision;
  st_.preview_selector = st_.stable_revision;
  plan_.services.push_back({b.active_service, st_.stable_revision});
  if (!b.preview_service.empty())
    plan_.services.push_back({b.preview_service, st_.stable_revision});
}

// --- the plan ---

void Pass::planReplicaSets() {
  // Every other revision is old: 0 pods.
  for (const auto& [hash, r] : rs_) {
    if (desired_.count(hash) == 0) desired_[hash] = 0;
  }
  std::vector<ReplicaSetAction> grow, shrink, remove;
  for (const auto& [hash, size] : desired_) {
    const ObservedReplicaSet* r = observed(hash);
    if (r == nullptr) {
      // Only the current template can be created: the others' templates are not known.
      if (hash == hash_) {
        grow.push_back({ReplicaSetAction::Kind::kCreate, replicaSetName(spec_, hash), hash, size});
      }
      continue;
    }
    if (r->spec_replicas == size) continue;
    (size > r->spec_replicas ? grow : shrink)
        .push_back({ReplicaSetAction::Kind::kScale, r->name, hash, size});
  }
  // History: old revisions at 0 pods beyond revisionHistoryLimit, oldest first.
  std::vector<const ObservedReplicaSet*> history;
  for (const auto& [hash, r] : rs_) {
    if (hash == st_.stable_revision || hash == st_.canary_revision || hash == hash_ ||
        hash == st_.previous_active) {
      continue;
    }
    if (desired_.at(hash) == 0 && r->spec_replicas == 0 && r->replicas == 0) history.push_back(r);
  }
  std::sort(history.begin(), history.end(), [](const auto* a, const auto* b) {
    return std::tie(a->created_at, a->name) < std::tie(b->created_at, b->name);
  });
  const auto limit = static_cast<size_t>(std::max(0, spec_.revision_history_limit));
  for (size_t i = 0; i + limit < history.size(); ++i) {
    remove.push_back(
        {ReplicaSetAction::Kind::kDelete, history[i]->name, history[i]->pod_template_hash, 0});
  }
  for (auto* group : {&grow, &shrink, &remove}) {
    plan_.replica_sets.insert(plan_.replica_sets.end(), group->begin(), group->end());
  }
}

void Pass::finishStatus() {
  const CanaryStrategy* c = spec_.canary();
  // Revisions: the serving one, the new one, then old ones that still have pods.
  st_.revisions.clear();
  auto add = [&](const std::string& hash, RevisionRole role) {
    const ObservedReplicaSet* r = observed(hash);
    RevisionStatus rev;
    rev.pod_template_hash = hash;
    rev.role = role;
    rev.replica_set = replicaSetName(spec_, hash);
    auto it = desired_.find(hash);
    rev.replicas = it != desired_.end() ? it->second : (r ? r->spec_replicas : 0);
    if (r != nullptr) {
      rev.ready_replicas = r->ready_replicas;
      rev.available_replicas = r->available_replicas;
    }
    st_.revisions.push_back(rev);
  };
  add(st_.stable_revision, c ? RevisionRole::kStable : RevisionRole::kActive);
  if (updating()) add(st_.canary_revision, c ? RevisionRole::kCanary : RevisionRole::kPreview);
  for (const auto& [hash, r] : rs_) {
    if (hash == st_.stable_revision || (updating() && hash == st_.canary_revision)) continue;
    const int32_t want = desired_.count(hash) ? desired_.at(hash) : 0;
    if (want > 0 || r->replicas > 0) add(hash, RevisionRole::kOld);
  }

  st_.replicas = st_.ready_replicas = st_.available_replicas = st_.updated_replicas = 0;
  for (const auto& [hash, r] : rs_) {
    st_.replicas += r->replicas;
    st_.ready_replicas += r->ready_replicas;
    st_.available_replicas += r->available_replicas;
    if (hash == hash_) st_.updated_replicas = r->replicas;
  }
  st_.observed_generation = in_.generation;
  st_.strategy = c ? "Canary" : "BlueGreen";
  st_.selector = spec_.selector.toString();

  if (c != nullptr && updating()) {
    if (c->traffic_routing) {
      st_.canary_weight = aborted_ ? 0 : route_weight_;
    } else {
      const int64_t s = std::min(availableOf(st_.stable_revision), specOf(st_.stable_revision));
      const int64_t k = std::min(availableOf(st_.canary_revision), specOf(st_.canary_revision));
      st_.canary_weight =
          s + k == 0 ? 0
                     : static_cast<int32_t>(std::llround(100.0 * k / static_cast<double>(s + k)));
    }
  } else {
    st_.canary_weight = 0;  // Blue-green: the preview serves none; after the switch it is stable.
  }

  // Waiting for pods: the progress deadline counts from when the wait began or last moved.
  bool waiting_pods = false;
  for (const auto& [hash, size] : desired_) {
    if (size > 0 && !ready(hash, size)) waiting_pods = true;
  }
  if (!plan_.replica_sets.empty()) progress_ = true;
  for (const RevisionStatus& before : in_.status.revisions) {
    if (availableOf(before.pod_template_hash) > before.available_replicas) progress_ = true;
  }
  bool deadline_exceeded = false;
  if (waiting_pods) {
    if (!st_.progressing_since || progress_) st_.progressing_since = in_.now;
    const TimePoint deadline = *st_.progressing_since + spec_.progress_deadline;
    if (in_.now >= deadline) {
      deadline_exceeded = true;
    } else {
      requeueAt(deadline);
    }
  } else {
    st_.progressing_since.reset();
  }

  // Phase, in order of what a person must know first.
  const bool invalid = !invalid_reason_.empty();
  RolloutPhase phase = RolloutPhase::kHealthy;
  std::string message = stage_;
  if (invalid) {
    phase = RolloutPhase::kDegraded;
    message = stage_ + ": " + invalid_message_;
  } else if (aborted_) {
    phase = RolloutPhase::kAborted;
    message = stage_ + (wait_text_.empty() ? "" : "; " + wait_text_);
  } else if (spec_.paused && (updating() || busy_)) {
    phase = RolloutPhase::kPaused;
    pause_reason_ = "PausedBySpec";
    message = stage_ + ": paused by spec.paused" + (wait_text_.empty() ? "" : "; " + wait_text_);
  } else if (wait_ == Wait::kPerson) {
    phase = RolloutPhase::kPaused;
    message = stage_ + ": " + wait_text_;
  } else if (deadline_exceeded) {
    phase = RolloutPhase::kDegraded;
    message = stage_ + ": progress deadline " + formatDuration(spec_.progress_deadline) +
              " exceeded; " + wait_text_;
  } else if (updating() || busy_ || waiting_pods) {
    phase = RolloutPhase::kProgressing;
    message = stage_ + (wait_text_.empty() ? "" : ": " + wait_text_);
  } else {
    message = stage_ + ": " + std::to_string(std::min(availableOf(st_.stable_revision), n_)) +
              " of " + std::to_string(n_) + " pods available";
  }
  if (c != nullptr && updating() && !c->traffic_routing && !aborted_ && !invalid) {
    message +=
        " (" +
        std::to_string(std::min(availableOf(st_.canary_revision), specOf(st_.canary_revision))) +
        " of " + std::to_string(n_) + " pods on the canary)";
  }
  if (phase == RolloutPhase::kPaused) {
    if (!st_.paused_at) {
      st_.paused_at = in_.now;
      event("Normal", "RolloutPaused", message);
    }
  } else {
    st_.paused_at.reset();
  }
  st_.phase = phase;
  st_.message = message;

  // Conditions.
  const TimePoint now = in_.now;
  const RolloutCondition* before = findCondition(in_.status, kConditionProgressing);
  if (invalid) {
    setCondition(st_.conditions, kConditionProgressing, "False", invalid_reason_, message, now);
  } else if (phase == RolloutPhase::kAborted) {
    setCondition(st_.conditions, kConditionProgressing, "False", "RolloutAborted", message, now);
  } else if (phase == RolloutPhase::kPaused) {
    setCondition(st_.conditions, kConditionProgressing, "Unknown", "RolloutPaused", message, now);
  } else if (deadline_exceeded) {
    setCondition(st_.conditions, kConditionProgressing, "False", "ProgressDeadlineExceeded",
                 message, now);
    if (before == nullptr || before->reason != "ProgressDeadlineExceeded") {
      event("Warning", "ProgressDeadlineExceeded", message);
    }
  } else if (phase == RolloutPhase::kProgressing) {
    setCondition(st_.conditions, kConditionProgressing, "True", "ReplicaSetUpdated", message, now);
  } else {
    setCondition(st_.conditions, kConditionProgressing, "True", "NewReplicaSetAvailable", message,
                 now);
  }
  int32_t min_available = n_;
  if (c != nullptr) min_available = std::max(0, n_ - c->max_unavailable.resolve(n_, false));
  const bool available = st_.available_replicas >= min_available;
  setCondition(st_.conditions, kConditionAvailable, available ? "True" : "False",
               available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
               std::to_string(st_.available_replicas) + " of " + std::to_string(n_) +
                   " pods available (at least " + std::to_string(min_available) + " needed)",
               now);
  if (phase == RolloutPhase::kPaused) {
    setCondition(st_.conditions, kConditionPaused, "True", pause_reason_, message, now);
  } else {
    setCondition(st_.conditions, kConditionPaused, "False", "NotPaused", "", now);
  }
  if (invalid) {
    const RolloutCondition* was = findCondition(in_.status, kConditionInvalidSpec);
    if (was == nullptr || was->status != "True" || was->message != invalid_message_) {
      event("Warning", "InvalidSpec", invalid_message_);
    }
    setCondition(st_.conditions, kConditionInvalidSpec, "True", invalid_reason_, invalid_message_,
                 now);
  } else if (const RolloutCondition* was = findCondition(in_.status, kConditionInvalidSpec);
             was != nullptr && was->reason.starts_with("Analysis")) {
    // Ours (a template now found); an InvalidSpec of the controller's parser is its own.
    removeCondition(st_.conditions, kConditionInvalidSpec);
  }

  for (auto& r : st_.analysis_runs) {
    if (finished(r) && !r.finished_at) r.finished_at = now;
  }
  boundRuns();
}

RolloutPlan Pass::run() {
  std::optional<int32_t> collision;
  if (st_.collision_count != 0) collision = st_.collision_count;
  hash_ = podTemplateHash(spec_, collision);
  for (const ObservedReplicaSet& r : in_.replica_sets) {
    // Two ReplicaSets with one hash cannot both be ours; the first listed is kept.
    rs_.emplace(r.pod_template_hash, &r);
  }
  adoptRevisions();
  route_weight_ = st_.canary_weight;

  if (updating() && !st_.abort && in_.status.phase == RolloutPhase::kAborted &&
      in_.status.canary_revision == st_.canary_revision) {
    retry();  // A person cleared status.abort.
  }
  if (st_.abort) st_.promote.reset();  // A failed update is not promoted: retry first.

  if (spec_.canary()) {
    canary();
  } else {
    blueGreen();
  }
  planReplicaSets();
  finishStatus();
  plan_.status = std::move(st_);
  if (requeue_at_) plan_.requeue_after = std::max(Duration(0), *requeue_at_ - in_.now);
  return std::move(plan_);
}

}  // namespace

std::string replicaSetName(const RolloutSpec& spec, std::string_view pod_template_hash) {
  return spec.name + "-" + std::string(pod_template_hash);
}

const AnalysisRef* analysisRefOf(const RolloutSpec& spec, const RolloutAnalysisRun& run) {
  const AnalysisRef* ref = nullptr;
  if (const CanaryStrategy* c = spec.canary()) {
    if (run.kind == AnalysisKind::kStep && run.step_index && *run.step_index >= 0 &&
        *run.step_index < static_cast<int32_t>(c->steps.size())) {
      if (const auto* a = std::get_if<AnalysisStep>(&c->steps[*run.step_index])) {
        ref = &a->analysis;
      }
    } else if (run.kind == AnalysisKind::kBackground && c->analysis) {
      ref = &c->analysis->analysis;
    }
  } else if (const BlueGreenStrategy* b = spec.blueGreen()) {
    if (run.kind == AnalysisKind::kPrePromotion && b->pre_promotion_analysis) {
      ref = &*b->pre_promotion_analysis;
    } else if (run.kind == AnalysisKind::kPostPromotion && b->post_promotion_analysis) {
      ref = &*b->post_promotion_analysis;
    }
  }
  if (ref == nullptr) return nullptr;
  const auto& t = ref->templates;
  return std::find(t.begin(), t.end(), run.template_name) == t.end() ? nullptr : ref;
}

RolloutPlan reconcileRollout(const RolloutInput& input) { return Pass(input).run(); }

}  // namespace governor::rollouts
