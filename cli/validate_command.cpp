#include "cli/validate_command.h"

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "cli/app.h"
#include "cli/files.h"
#include "policies/spec_parser.h"

namespace governor::cli {

void addValidateCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code) {
  auto files = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = app.add_subcommand(
      "validate", "Check ScalingPolicy manifests as the operator would read them");
  cmd->add_option("-f,--filename", *files, "Manifest files (multi-document YAML or JSON)")
      ->required();
  cmd->callback([files, &out, &err, &exit_code] {
    int invalid = 0;
    for (const auto& path : *files) {
      auto text = readFile(path);
      if (!text.ok()) {
        err << "error: " << text.status().message() << "\n";
        ++invalid;
        continue;
      }
      auto policies = policies::parsePolicies(*text, path);
      if (!policies.ok()) {
        err << policies.status().message() << "\n";
        ++invalid;
        continue;
      }
      for (const auto& p : *policies) {
        out << path << ": ScalingPolicy " << p.namespace_ << "/" << p.name << " is valid ("
            << p.metrics.size() << " metrics, " << p.schedules.size() << " schedules, replicas "
            << p.min_replicas << ".." << p.max_replicas << ")\n";
      }
    }
    exit_code = invalid == 0 ? kExitOk : kExitBadInput;
  });
}

}  // namespace governor::cli
