#!/usr/bin/env bash
# Shared set-up steps for scripts/run, scripts/test and scripts/bench. Every step checks before
# it installs, so a second run is fast and changes nothing. Everything comes from crates.io,
# npm or Debian's packages, by name.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"
CARGO_LEPTOS_VERSION="0.3.10"
CARGO_FUZZ_VERSION="0.13.2"

STARTED_AT="$(date +%s)"
# A step's heading, with the minutes and seconds since the script started, so a slow step shows.
say() {
  local elapsed=$(($(date +%s) - STARTED_AT))
  printf '\033[1m==> [%d:%02d] %s\033[0m\n' $((elapsed / 60)) $((elapsed % 60)) "$*"
}

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "Installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

ensure_rust_tools() {
  rustup target list --installed | grep -q '^wasm32-unknown-unknown$' || {
    say "Adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  }
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    say "Installing cargo-leptos $CARGO_LEPTOS_VERSION (once; about 15 minutes on 2 cores)"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
  fi
  # wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
  local wanted
  wanted="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")"
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $wanted\$"; then
    say "Installing wasm-bindgen-cli $wanted (once; about 5 minutes)"
    cargo install wasm-bindgen-cli --version "$wanted"
  fi
}

ensure_npm_packages() {
  if [ ! -f "$ROOT/node_modules/.package-lock.json" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    say "Installing npm packages (ECharts, wasm-opt, the browser-test driver)"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  # The charts' library, served by the app itself from its site directory (public/ is copied
  # there by cargo-leptos); installed from npm, never committed.
  mkdir -p "$ROOT/public/vendor"
  cp "$ROOT/node_modules/echarts/dist/echarts.min.js" "$ROOT/public/vendor/echarts.min.js"
}

SCHEMATHESIS_VERSION="4.32.5"
OTEL_PYTHON_VERSION="1.45.2"

# Schemathesis (from PyPI) in a virtual environment under target/, so it is cached with the build.
ensure_python_tools() {
  local venv="$ROOT/target/python"
  if ! "$venv/bin/st" --version 2>/dev/null | grep -q " $SCHEMATHESIS_VERSION\$"; then
    say "Installing Schemathesis $SCHEMATHESIS_VERSION from PyPI (once)"
    command -v python3 >/dev/null || apt_install python3 python3-venv
    python3 -m venv "$venv" || { apt_install python3-venv; python3 -m venv "$venv"; }
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  fi
  # The OpenTelemetry Python SDK and its OTLP/HTTP exporters, in a venv of their own (their
  # protobuf need not agree with Schemathesis's): the integration tests drive it unchanged.
  local otel="$ROOT/target/python-otel"
  if ! "$otel/bin/pip" show opentelemetry-sdk 2>/dev/null | grep -q "^Version: $OTEL_PYTHON_VERSION\$"; then
    say "Installing the OpenTelemetry Python SDK $OTEL_PYTHON_VERSION from PyPI (once)"
    python3 -m venv "$otel"
    "$otel/bin/pip" install --quiet --disable-pip-version-check \
      "opentelemetry-sdk==$OTEL_PYTHON_VERSION" "opentelemetry-exporter-otlp-proto-http==$OTEL_PYTHON_VERSION"
  fi
}

# cargo-fuzz drives libFuzzer over the decoders in fuzz/ (stable Rust, no sanitizer).
ensure_fuzz_tools() {
  if ! cargo fuzz --version 2>/dev/null | grep -q " $CARGO_FUZZ_VERSION\$"; then
    say "Installing cargo-fuzz $CARGO_FUZZ_VERSION (once; about 3 minutes)"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
  fi
}

FUZZ_TARGETS="ingest_batch otlp_protobuf otlp_json import_json_lines import_csv"

# Runs every fuzz target for the given seconds, from its seeds and the corpus kept under
# target/fuzz/; a crash fails, with the input saved under fuzz/artifacts/<target>/. A second
# argument, `--dev`, builds the targets without optimisation: several times quicker to build,
# slower to run, which suits the test command's short runs; scripts/fuzz builds optimised.
run_fuzzers() {
  local seconds="$1" mode="${2:---release}" log
  for target in $FUZZ_TARGETS; do
    local corpus="$ROOT/target/fuzz/corpus/$target"
    mkdir -p "$corpus"
    log="$(mktemp)"
    if (cd "$ROOT" && cargo fuzz run "$mode" --sanitizer none --target-dir target/fuzz "$target" \
        "$corpus" "fuzz/seeds/$target" -- -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1) >"$log" 2>&1; then
      printf '  %-18s %10s inputs run, corpus %5s, peak %5s MB\n' "$target" \
        "$(awk '/stat::number_of_executed_units/ {print $2}' "$log")" \
        "$(find "$corpus" -type f | wc -l)" \
        "$(awk '/stat::peak_rss_mb/ {print $2}' "$log")"
      rm -f "$log"
    else
      tail -n 40 "$log"
      echo "The fuzz target $target failed; its input is under fuzz/artifacts/$target/."
      return 1
    fi
  done
}
