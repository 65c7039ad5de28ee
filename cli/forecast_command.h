#pragma once

// `governor forecast --input FILE.csv [...]`: fits a model (or selects one by backtest) on a
// series and prints the model, its parameters, in-sample SSE, each candidate's backtest MASE
// and the forecast with its interval — what the predictive policy would see.

#include <ostream>

#include <CLI/CLI.hpp>

namespace governor::cli {

void addForecastCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code);

}  // namespace governor::cli
