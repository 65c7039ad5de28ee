#include "cli/app.h"

#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/forecast_command.h"
#include "cli/operator_command.h"
#include "cli/rollout_command.h"
#include "cli/simulate_command.h"
#include "cli/validate_command.h"

namespace governor::cli {

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CLI::App app(
      "Governor: a Kubernetes autoscaler and deployment controller.\n"
      "Threshold (HPA-exact), scheduled and predictive scaling policies, one engine shared by\n"
      "the in-cluster operator and the dry-run simulator.",
      "governor");
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");

  int exit_code = kExitOk;
  app.add_subcommand("version", "Print the version")->callback([&out] {
    out << "governor " << GOVERNOR_VERSION << "\n";
  });
  addValidateCommand(app, out, err, exit_code);
  addSimulateCommand(app, out, err, exit_code);
  addForecastCommand(app, out, err, exit_code);
  addOperatorCommand(app, out, err, exit_code);
  addRolloutCommand(app, out, err, exit_code);

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  if (!reversed.empty()) reversed.pop_back();  // The program name.
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    // Help and --version exit 0; every other parse error is bad input.
    int code = app.exit(e, out, err);
    if (code == 0) return kExitOk;
    err << "Run 'governor --help' for usage.\n";
    return kExitBadInput;
  }
  return exit_code;
}

}  // namespace governor::cli
