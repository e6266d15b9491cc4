#!/usr/bin/env bash
# The README's first command: set up, build, and run the main job — the recipe
# zoo/mnist-quick.toml on the embedded MNIST digits — then say where the report is.
# Running it again resumes (or, when finished, re-writes the manifest and report only).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
build_workspace
"$CARGO_TARGET_DIR/release/pdiff-zoo" run zoo/mnist-quick.toml --resume
echo
echo "zoo:    $(pwd)/exports/mnist-quick/ (manifest.json, members/, ensembles/)"
echo "report: $(pwd)/exports/mnist-quick/report.html"
