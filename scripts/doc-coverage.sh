#!/usr/bin/env bash
# Documentation and doc-example coverage per library crate, from rustdoc's own count
# (`--show-coverage`, an unstable rustdoc flag that the stable toolchain accepts under
# RUSTC_BOOTSTRAP=1; nothing else is built that way). Prints one line per crate:
#   <crate> documented=<n>/<items> examples=<n> (<percent of items that can carry one>)
set -euo pipefail
cd "$(dirname "$0")/.."
crates=$(cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
m = json.load(sys.stdin)
for p in m["packages"]:
    if any("lib" in t["kind"] for t in p["targets"]):
        print(p["name"])')
for c in $crates; do
  out=$(RUSTC_BOOTSTRAP=1 cargo rustdoc -q -p "$c" --all-features -- -Z unstable-options --show-coverage 2>/dev/null)
  line=$(printf '%s\n' "$out" | grep '| Total')
  printf '%s\n' "$line" | awk -v c="$c" -F'|' '{gsub(/ /,""); printf "%-26s documented %5s (%s)  examples %4s (%s)\n", c, $3, $4, $5, $6}'
done
