# Shared environment for pdiff-zoo scripts: `source scripts/env.sh`.
# Build artefacts live outside the clone so repeated runs (and CI on the same machine) reuse
# them; override with CARGO_TARGET_DIR.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pdiff-zoo/target}"
PDIFF_ZOO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PDIFF_ZOO_ROOT
# ONNX Runtime comes from the PyPI wheel in the project venv (ort is built with load-dynamic).
if [ -z "${ORT_DYLIB_PATH:-}" ]; then
  for lib in "$PDIFF_ZOO_ROOT"/.venv/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.1*; do
    if [ -f "$lib" ]; then export ORT_DYLIB_PATH="$lib"; break; fi
  done
fi
# The one build every script runs: every target of the workspace in release. A narrower
# selection (say `-p pdiff-zoo`) resolves other features for shared dependencies and would
# compile burn a second time. Extra cargo flags pass through.
build_workspace() { cargo build --release --manifest-path "$PDIFF_ZOO_ROOT/Cargo.toml" --workspace --all-targets "$@"; }
true
