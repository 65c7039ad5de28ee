#pragma once

// The clock port. Pure code takes time as an argument; whoever calls it reads one of these.

#include "base/time.h"

namespace governor::controller {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

// The system's wall clock, at millisecond resolution. Thread-safe.
class SystemClock final : public Clock {
 public:
  TimePoint now() const override;
};

}  // namespace governor::controller
