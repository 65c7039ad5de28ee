# The Governor operator image: `docker build -t governor:TAG .` from the repository root.
#
# Two stages on Debian 12. The build stage installs the build dependencies with the same
# script developers use (scripts/install-deps.sh) and builds the `governor` binary only. The
# runtime stage installs only the Debian packages that own the shared libraries the binary
# links (derived from `ldd` in the build stage, so the list can never drift from the binary),
# plus tzdata (schedule time zones) and ca-certificates (TLS to the API server and
# Prometheus), and runs as an unprivileged user.

FROM debian:bookworm-slim AS build
ENV DEBIAN_FRONTEND=noninteractive
COPY scripts/install-deps.sh /src/scripts/install-deps.sh
RUN bash /src/scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=Release \
      -DGOVERNOR_BUILD_TESTS=OFF -DGOVERNOR_BUILD_BENCH=OFF \
 && cmake --build /build -j"$(nproc)" --target governor \
 && install -D -s -m 0755 /build/cli/governor /out/governor
# runtime-packages: the Debian packages owning every shared library the binary loads, one per
# line. dpkg knows a library by the path its package installed, /lib/... or /usr/lib/...
# (bookworm's merged /usr), so both the path ldd prints and the resolved one are asked for,
# in one dpkg -S call (it reads its whole database per call); a library no package owns
# fails the build. tests/manifests runs this same instruction against a freshly built binary.
ENV GOVERNOR_BIN=/out/governor RUNTIME_PACKAGES=/out/runtime-packages.txt
RUN set -eu; \
    libs=$(ldd "$GOVERNOR_BIN" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'); \
    test -n "$libs"; \
    paths=""; \
    for lib in $libs; do paths="$paths $lib $(readlink -f "$lib")"; done; \
    owners=$(dpkg -S $paths 2>/dev/null || true); \
    for lib in $libs; do \
      echo "$owners" | awk -v a="$lib" -v b="$(readlink -f "$lib")" \
        '$NF == a || $NF == b { found = 1 } END { exit !found }' \
        || { echo "no Debian package owns $lib" >&2; exit 1; }; \
    done; \
    echo "$owners" | cut -d: -f1 | sort -u > "$RUNTIME_PACKAGES"; \
    cat "$RUNTIME_PACKAGES"

FROM debian:bookworm-slim
LABEL org.opencontainers.image.title="governor" \
      org.opencontainers.image.description="Kubernetes autoscaler: the Governor operator and CLI"
ENV DEBIAN_FRONTEND=noninteractive
COPY --from=build /out/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update \
 && xargs -a /tmp/runtime-packages.txt apt-get install -y --no-install-recommends \
      ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt
COPY --from=build /out/governor /usr/local/bin/governor
# Fail the build, not the first pod, if a library is missing.
RUN ! ldd /usr/local/bin/governor | grep -F 'not found' \
 && /usr/local/bin/governor --help > /dev/null
# The uid the manifests' securityContext expects (runAsUser: 65532, runAsNonRoot).
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/governor"]
CMD ["operator"]
