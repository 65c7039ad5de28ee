#pragma once

// Kubernetes resource quantities ("100", "100m", "1.5", "2k", "512Mi", "1e3"), as they
// appear in HPA targets (`averageValue: "100m"`), parsed to double.

#include <string_view>

#include "base/status.h"

namespace governor::policies {

// Error messages quote the text and say what is wrong.
Result<double> parseQuantity(std::string_view text);

}  // namespace governor::policies
