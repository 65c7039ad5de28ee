#!/usr/bin/env bash
# Installs Governor's build and test dependencies from Debian's packages.
# Idempotent: packages already installed are skipped, and apt is not touched when
# nothing is missing. Needs root (or sudo) only when something must be installed.
set -euo pipefail

packages=(
  build-essential cmake make pkg-config clang-format
  libcpprest-dev libssl-dev zlib1g-dev
  libyaml-cpp-dev libeigen3-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  prometheus-cpp-dev libhowardhinnant-date-dev tzdata
  libcli11-dev nlohmann-json3-dev
  libcivetweb-dev  # controller/health_server: the probes' HTTP server (prometheus-cpp's)
  prometheus python3  # tests/prometheus: a real Prometheus server and the test exporter
  curl openssl  # tests/apiserver (+ python3): the test API server's probes, raw HTTP and TLS certs
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
