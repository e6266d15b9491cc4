#!/usr/bin/env bash
# Creates the project-local Python venv (.venv) with ONNX Runtime, onnx, numpy and safetensors
# (import fixtures), pinned.
# Idempotent: re-running only checks. ort loads ONNX Runtime's shared library from this
# venv (load-dynamic), and the portability tests run onnx.checker through it.
set -euo pipefail
cd "$(dirname "$0")/.."
PINS=(onnxruntime==1.32.0 onnx==1.23.2 numpy==2.4.6 safetensors==0.8.0)
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python - "${PINS[@]}" <<'PY' 2>/dev/null
import sys, importlib.metadata as md
for pin in sys.argv[1:]:
    name, version = pin.split("==")
    if md.version(name) != version:
        sys.exit(1)
PY
then
  .venv/bin/python -m pip install --quiet "${PINS[@]}"
fi
lib=$(ls .venv/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.1* 2>/dev/null | head -n 1)
[ -n "$lib" ] || { echo "error: onnxruntime installed but libonnxruntime.so.1* not found under .venv" >&2; exit 2; }
echo "$PWD/$lib"
