#include "cli/simulate_command.h"

#include <iostream>
#include <memory>
#include <ostream>
#include <string>

#include <unistd.h>

#include "cli/app.h"
#include "simulator/report.h"
#include "simulator/simulation.h"

namespace governor::cli {
namespace {

// Runs shorter than this many steps (over all policies and baselines) finish before a bar
// would be worth drawing.
constexpr int64_t kProgressMinSteps = 200'000;

// A one-line progress bar, redrawn when the percentage changes.
class ProgressBar {
 public:
  explicit ProgressBar(std::ostream& err) : err_(err) {}
  ~ProgressBar() {
    if (drawn_) err_ << "\r\033[K" << std::flush;
  }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void update(int64_t done, int64_t total) {
    if (total <= 0) return;
    const int percent = static_cast<int>(done * 100 / total);
    if (percent == percent_) return;
    percent_ = percent;
    constexpr int kWidth = 30;
    const int filled = percent * kWidth / 100;
    err_ << "\rsimulating [" << std::string(static_cast<size_t>(filled), '#')
         << std::string(static_cast<size_t>(kWidth - filled), '.') << "] " << percent << "% ("
         << done << "/" << total << " steps)" << std::flush;
    drawn_ = true;
  }

 private:
  std::ostream& err_;
  int percent_ = -1;
  bool drawn_ = false;
};

struct SimulateFlags {
  std::string file;
  std::string output = "table";
  std::string report_dir;
  bool quiet = false;
};

int runSimulate(const SimulateFlags& flags, std::ostream& out, std::ostream& err) {
  auto input = simulator::loadSimulation(flags.file);
  if (!input.ok()) {
    err << "error: " << input.status().message() << "\n";
    return input.status().code() == StatusCode::kInvalidArgument ||
                   input.status().code() == StatusCode::kNotFound
               ? kExitBadInput
               : kExitFailure;
  }

  simulator::SimulationOptions options;
  options.record_timelines = !flags.report_dir.empty();
  std::unique_ptr<ProgressBar> bar;
  const int64_t total_steps =
      ((input->trace.end() - input->trace.start()) / input->spec.step + 1) *
      static_cast<int64_t>(input->policies.size() + input->spec.baselines.size());
  // Only the process's real stderr can be a terminal; tests pass string streams.
  if (!flags.quiet && &err == &std::cerr && isatty(STDERR_FILENO) == 1 &&
      total_steps >= kProgressMinSteps) {
    bar = std::make_unique<ProgressBar>(err);
    options.progress = [&bar](int64_t done, int64_t total) { bar->update(done, total); };
  }
  auto result = simulator::runSimulation(*input, options);
  bar.reset();
  if (!result.ok()) {
    err << "error: " << result.status().message() << "\n";
    return kExitFailure;
  }

  if (flags.output == "json") {
    out << simulator::formatJson(*input, *result);
  } else {
    out << simulator::formatTable(*input, *result);
  }
  out << std::flush;  // The table before anything said on stderr.
  if (!flags.report_dir.empty()) {
    Status written = simulator::writeReport(flags.report_dir, *input, *result);
    if (!written.ok()) {
      err << "error: " << written.message() << "\n";
      return kExitFailure;
    }
    if (!flags.quiet) err << "report: " << flags.report_dir << "/report.html\n";
  }
  return kExitOk;
}

}  // namespace

void addSimulateCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code) {
  auto flags = std::make_shared<SimulateFlags>();
  CLI::App* cmd = app.add_subcommand(
      "simulate",
      "Replay a load trace through the scaling policies (dry run) and compare cost against "
      "service level");
  cmd->add_option("-f,--filename", flags->file, "The Simulation manifest (YAML)")->required();
  cmd->add_option("-o,--output", flags->output, "Output format: table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->default_str("table");
  cmd->add_option("--report", flags->report_dir,
                  "Write timeline-<policy>.csv files and report.html to this directory");
  cmd->add_flag("-q,--quiet", flags->quiet, "No progress bar or notes on stderr");
  cmd->callback([flags, &out, &err, &exit_code] { exit_code = runSimulate(*flags, out, err); });
}

}  // namespace governor::cli
