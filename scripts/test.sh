#!/usr/bin/env bash
# Sets up, builds once in release (tests share the optimized dependency build), and runs every
# check CI runs: formatting, the test suite, clippy, and a type-check of the CUDA code path.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
step() { echo; echo "==> $*" >&2; }
step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo build --release (binary + tests)"
build_workspace
step "cargo test --release"
cargo test --release --workspace
step "clippy + CUDA type-check (DOCS_RS=1 skips burn-cuda's LLVM download; no runnable CUDA binary)"
DOCS_RS=1 cargo clippy --workspace --all-targets --features pdiff-zoo/cuda -- -D warnings
