#pragma once

// A clock that moves only when told: the simulator's time, and the tests'.

#include "base/time.h"
#include "controller/clock.h"

namespace governor::simulator {

// Not thread-safe: one replay drives one clock.
class ManualClock final : public controller::Clock {
 public:
  explicit ManualClock(TimePoint start) : now_(start) {}
  TimePoint now() const override { return now_; }
  void set(TimePoint t) { now_ = t; }
  void advance(Duration d) { now_ += d; }

 private:
  TimePoint now_;
};

}  // namespace governor::simulator
