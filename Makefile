# A thin layer over CMake and CTest: the two commands of the README, and a few helpers.
#   make demo   install dependencies, build, run the bundled example
#   make test   install dependencies, build, run every test (also under ASan + UBSan)

BUILD_DIR ?= build
ASAN_DIR ?= build-asan
JOBS ?= $(shell nproc)
CMAKE ?= cmake
CTEST ?= ctest
GOVERNOR := $(BUILD_DIR)/cli/governor

.PHONY: all deps configure build demo test test-build test-sanitize format format-check bench clean

all: build

deps:
	./scripts/install-deps.sh

# -g1: line tables only (backtraces and sanitizer reports keep file:line, not variables):
# a third less compile time than -g and objects a quarter the size, which makes CI's build
# half as costly to link. Configure your own build dir with -g for a debugger.
DEBUG_INFO ?= -g1

configure: deps
	$(CMAKE) -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGOVERNOR_WERROR=ON \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 $(DEBUG_INFO) -DNDEBUG"

build: configure
	$(CMAKE) --build $(BUILD_DIR) -j $(JOBS)

demo: build
	$(GOVERNOR) validate -f examples/policies/threshold.yaml -f examples/policies/scheduled.yaml \
	  -f examples/policies/predictive.yaml
	$(GOVERNOR) simulate -f examples/simulations/nasa-web.yaml --report $(BUILD_DIR)/report

# Every test: formatting and architecture checks, unit and integration tests, then the unit
# tests again under AddressSanitizer + UndefinedBehaviorSanitizer (building only what the
# unit tests need: the target governor_unit_tests).
test: test-build test-sanitize

test-build: build
	$(CTEST) --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

test-sanitize: deps
	$(CMAKE) -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DGOVERNOR_WERROR=ON \
	  -DGOVERNOR_SANITIZE=ON -DGOVERNOR_BUILD_BENCH=OFF -DCMAKE_CXX_FLAGS_DEBUG="$(DEBUG_INFO)"
	$(CMAKE) --build $(ASAN_DIR) -j $(JOBS) --target governor_unit_tests
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  $(CTEST) --test-dir $(ASAN_DIR) --output-on-failure -j $(JOBS) -L unit

format:
	find base forecasting policies rollouts simulator controller cli tests bench \
	  -name '*.h' -o -name '*.cpp' | xargs clang-format -i

format-check:
	find base forecasting policies rollouts simulator controller cli tests bench \
	  -name '*.h' -o -name '*.cpp' | xargs clang-format --dry-run --Werror

# Google Benchmarks (numbers recorded in docs/benchmarks.md); bench/hw_vs_r.sh compares
# Holt-Winters with R's side by side (it installs r-base-core).
bench: build
	$(BUILD_DIR)/bench/bench_engine
	$(BUILD_DIR)/bench/bench_schedule
	$(BUILD_DIR)/bench/bench_forecasting
	$(BUILD_DIR)/bench/bench_simulate
	$(BUILD_DIR)/bench/bench_predictive

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR)
