#!/usr/bin/env bash
# Pipeline benchmark (issue #8): runs `pdiff-zoo run RECIPE` into a temporary folder under
# /usr/bin/time -v and writes JSON with the machine, the command, total wall / CPU / peak RSS
# and per-architecture, per-stage wall seconds, CPU seconds and memory.
#
#   scripts/bench-pipeline.sh RECIPE [OUT.json]      # default OUT: exports/bench/pipeline.<recipe>.json
#   KEEP=1 scripts/bench-pipeline.sh ...              # keep the temporary zoo and run log
#
# Builds (release) the workspace first, which includes the pdiff-zoo binary and the small
# `bench-pipeline` binary of the pdiff-zoo-benches crate. Measure on a quiet machine: the JSON
# records the load average at the start.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 RECIPE [OUT.json]" >&2
  exit 2
fi
recipe="$1"
out="${2:-$PDIFF_ZOO_ROOT/exports/bench/pipeline.$(basename "$recipe" .toml).json}"
build_workspace --quiet
keep=()
if [ -n "${KEEP:-}" ]; then keep=(--keep); fi
exec "$CARGO_TARGET_DIR/release/bench-pipeline" "${keep[@]}" \
  "$CARGO_TARGET_DIR/release/pdiff-zoo" "$recipe" "$out"
