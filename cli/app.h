#pragma once

// The `governor` command line: parses arguments and runs a subcommand.

#include <iosfwd>
#include <string>
#include <vector>

namespace governor::cli {

// Exit codes: 0 success; 1 runtime failure; 2 bad input (flags, files, specs).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitBadInput = 2;

// Runs the command line `args` (args[0] is the program name), writing to `out` and `err`.
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace governor::cli
