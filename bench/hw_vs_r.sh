#!/usr/bin/env bash
# Holt-Winters fit time, Governor vs R's stats::HoltWinters, side by side in one run on the same
# 10,080-point (7 days at 1 minute), period-1440 series; prints both times and the ratio.
# Also prints the AirPassengers/co2 parity table (SSE and forecasts vs R's reference values).
#
# Usage: bench/hw_vs_r.sh [BUILD_DIR] [REPS]
#   BUILD_DIR defaults to build-forecast (must hold bench/bench_hw_vs_r, built RelWithDebInfo
#   or Release); REPS (default 10) fits per side, the median is reported.
# Installs Debian's r-base-core with apt-get when Rscript is missing (needs root).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build-forecast}"
reps="${2:-10}"
tool="$build/bench/bench_hw_vs_r"

if ! command -v Rscript >/dev/null; then
  echo "Rscript not found; installing r-base-core" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends r-base-core >/dev/null
fi
if [[ ! -x "$tool" ]]; then
  cmake --build "$build" --target bench_hw_vs_r -j2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$tool" generate "$work/week.csv"

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "== $(Rscript --version 2>&1 | head -1)"

r_line="$(Rscript -e '
  y <- ts(read.csv(commandArgs(TRUE)[1])$value, frequency = 1440)
  reps <- as.integer(commandArgs(TRUE)[2])
  invisible(HoltWinters(y))  # warm-up
  times <- numeric(reps)
  for (i in seq_len(reps)) times[i] <- system.time(fit <- HoltWinters(y))[["elapsed"]]
  cat(sprintf("R n=%d period=1440 median_seconds=%.6f min_seconds=%.6f sse=%.6f alpha=%.6f beta=%.6f gamma=%.6f\n",
      length(y), median(times), min(times), fit$SSE, fit$alpha, fit$beta, fit$gamma))
' "$work/week.csv" "$reps")"
ours_line="$("$tool" fit "$work/week.csv" 1440 "$reps")"
echo "$r_line"
echo "$ours_line"
r_s="$(sed -E 's/.*median_seconds=([0-9.]+).*/\1/' <<<"$r_line")"
ours_s="$(sed -E 's/.*median_seconds=([0-9.]+).*/\1/' <<<"$ours_line")"
awk -v r="$r_s" -v o="$ours_s" 'BEGIN { printf "speed-up (R median / Governor median): %.1fx\n", r / o }'

echo
echo "== parity on R's reference fits (tests/data/r-holtwinters)"
"$tool" parity "$root/tests/data/r-holtwinters"
