#pragma once

// `governor validate -f FILE...`: parses ScalingPolicy manifests with the parser the operator
// uses and reports every problem with its file, line and field path.

#include <CLI/CLI.hpp>

namespace governor::cli {

void addValidateCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code);

}  // namespace governor::cli
