#!/usr/bin/env bash
# Peak resident memory of `cloudcapex run` on the base scenario at several path counts
# (GNU time's maximum RSS), and the bytes per path it implies between the smallest and each
# larger count. Usage: benches/memory.sh [PATHS...]   (default 100000 1000000 10000000)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(100000 1000000 10000000)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf "%12s %10s %12s %16s\n" paths seconds "peak MB" "bytes/path"
first_paths="" first_kb=""
for paths in "${counts[@]}"; do
  report=$( { /usr/bin/time -f "%e %M" ./target/release/cloudcapex run --paths "$paths" --quiet --out "$out" > /dev/null; } 2>&1 | tail -1)
  read -r seconds kb <<< "$report"
  if [ -z "$first_paths" ]; then
    first_paths=$paths first_kb=$kb per_path="-"
  else
    per_path=$(( (kb - first_kb) * 1024 / (paths - first_paths) ))
  fi
  printf "%12d %10.1f %12.1f %16s\n" "$paths" "$seconds" "$(awk "BEGIN { print $kb / 1024 }")" "$per_path"
done
