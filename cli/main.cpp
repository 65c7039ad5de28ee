#include <iostream>
#include <string>
#include <vector>

#include "cli/app.h"
#include "controller/logging.h"

int main(int argc, char** argv) {
  // Library warnings (the Kubernetes client's "retrying in 200 ms") go to stderr, never into
  // a command's output on stdout (`-o json` is piped into other tools); `governor operator`
  // sets up its own logging from its flags.
  (void)governor::controller::setupLogging(governor::controller::LogFormat::kText, "warn");
  std::vector<std::string> args(argv, argv + argc);
  return governor::cli::run(args, std::cout, std::cerr);
}
