#!/usr/bin/env bash
# The README's first command: set up, build, and run the main job — the recipe
# zoo/mnist-quick.toml on the embedded MNIST digits — then say where the report is.
# Running it again resumes (or, when finished, re-writes the manifest and report only).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
# The same build selection as scripts/test.sh (every target of the workspace): building only
# `-p pdiff-zoo` resolves other features for shared dependencies, and burn would be compiled a
# second time by the test command.
cargo build --release --workspace --all-targets
"$CARGO_TARGET_DIR/release/pdiff-zoo" run zoo/mnist-quick.toml --resume
echo
echo "zoo:    $(pwd)/exports/mnist-quick/ (manifest.json, members/, ensembles/)"
echo "report: $(pwd)/exports/mnist-quick/report.html"
