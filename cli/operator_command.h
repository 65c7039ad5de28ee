#pragma once

// `governor operator`: runs the in-cluster operator (controller/operator/operator.h) until
// SIGTERM or SIGINT, then drains and exits 0. Exit 1 when it cannot go on (the Lease was lost,
// the API server never answered); 2 for bad flags.

#include <ostream>

#include <CLI/CLI.hpp>

namespace governor::cli {

void addOperatorCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code);

}  // namespace governor::cli
