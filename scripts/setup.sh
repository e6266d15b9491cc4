#!/usr/bin/env bash
# Installs what a fresh machine lacks, idempotently: the Python venv with ONNX Runtime, onnx
# and numpy (used to verify exports), and checks the Rust toolchain. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "error: cargo not found; install Rust (rustup) first" >&2; exit 2; }
command -v python3 >/dev/null || { echo "error: python3 not found; install it (apt-get install python3 python3-venv)" >&2; exit 2; }
bash scripts/setup-python.sh > /dev/null
source scripts/env.sh
echo "setup: cargo target dir $CARGO_TARGET_DIR" >&2
echo "setup: ONNX Runtime ${ORT_DYLIB_PATH:-<not found>}" >&2
