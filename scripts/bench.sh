#!/usr/bin/env bash
# Criterion benches without `cargo bench`'s second build of burn (issue #8): builds the
# workspace in release (the test command's build, a no-op when it is current) and runs the
# bench executables that build produced, with criterion's arguments passed through.
#
#   scripts/bench.sh                          # every bench file
#   scripts/bench.sh pdiff                    # one file: train_step | pdiff | evaluate | export | diversity
#   scripts/bench.sh pdiff ddpm_step --noplot # a file, then criterion's filter and options
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
files=(train_step pdiff evaluate export diversity)
only="${1:-}"
if [ -n "$only" ]; then
  shift
  case " ${files[*]} " in
    *" $only "*) files=("$only") ;;
    *) echo "unknown bench file '$only' (expected one of: ${files[*]})" >&2; exit 2 ;;
  esac
fi
# Executables of the `[[bench]]` targets, from cargo's build messages.
mapfile -t paths < <(build_workspace --message-format=json-render-diagnostics \
  | python3 -c '
import json, sys
for line in sys.stdin:
    if not line.startswith("{"):
        continue
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["kind"] == ["bench"] and m.get("executable"):
        print(m["target"]["name"] + " " + m["executable"])
')
for file in "${files[@]}"; do
  exe=""
  for entry in "${paths[@]}"; do
    if [ "${entry%% *}" = "$file" ]; then exe="${entry#* }"; fi
  done
  if [ -z "$exe" ]; then
    echo "the build produced no bench executable for '$file'" >&2
    exit 1
  fi
  echo "== $file ($exe)" >&2
  "$exe" --bench "$@"
done
