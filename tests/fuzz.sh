#!/usr/bin/env bash
# Fuzzing with a time budget: each cargo-fuzz target (fuzz/fuzz_targets/) runs for
# FUZZ_SECONDS (default 60) from its seed corpus (fuzz/seeds/), under AddressSanitizer.
# A crash fails the script; its input is copied to fuzz/regressions/TARGET/, where
# tests/fuzz_regressions.rs replays it on every `cargo test` once committed.
# Installs what it needs: cargo-fuzz (pinned) into target/tools. libFuzzer needs nightly
# compiler flags: the nightly toolchain when this machine has one, else the stable
# toolchain with RUSTC_BOOTSTRAP=1 (same flags, same sanitizer runtime).
# Recorded runs and what was tried: docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
targets=(scenario_toml set_override history_csv finance shard_file)
cargo_fuzz_version=0.13.2

tools="$PWD/target/tools"
if ! "$tools/bin/cargo-fuzz" --version 2>/dev/null | grep -q "$cargo_fuzz_version"; then
  echo "installing cargo-fuzz $cargo_fuzz_version into $tools"
  cargo install --quiet --locked cargo-fuzz --version "$cargo_fuzz_version" --root "$tools"
fi
export PATH="$tools/bin:$PATH"

if rustup run nightly rustc --version >/dev/null 2>&1; then
  toolchain=(+nightly)
  echo "toolchain: $(rustup run nightly rustc --version)"
else
  toolchain=()
  export RUSTC_BOOTSTRAP=1
  echo "toolchain: $(rustc --version) with RUSTC_BOOTSTRAP=1 (no nightly on this machine)"
fi

cd fuzz
# The fuzz crate's lockfile must be current: a build never rewrites a tracked file.
cargo metadata --locked --format-version 1 >/dev/null
cargo "${toolchain[@]}" fuzz build --release 2>&1 | tail -1
summary=()
status=0
for target in "${targets[@]}"; do
  corpus="corpus/$target"
  mkdir -p "$corpus" "artifacts/$target"
  cp -n seeds/"$target"/* "$corpus"/ 2>/dev/null || true
  log=$(mktemp)
  echo "== fuzz $target for ${seconds}s"
  if cargo "${toolchain[@]}" fuzz run --release "$target" "$corpus" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 >"$log" 2>&1; then
    result=ok
  else
    result=CRASH
    status=1
    tail -60 "$log"
    mkdir -p "regressions/$target"
    for artifact in artifacts/"$target"/*; do
      [ -f "$artifact" ] || continue
      cp "$artifact" "regressions/$target/"
      echo "saved $artifact to fuzz/regressions/$target/ (commit it with the fix)"
    done
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  summary+=("$(printf '%-14s %-6s %10s executions, corpus %s inputs' "$target" "$result" "${runs:-?}" "$(ls "$corpus" | wc -l)")")
  rm -f "$log"
done
echo "== fuzz summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
exit $status
