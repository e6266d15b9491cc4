#!/usr/bin/env bash
# The README's first command: set up, build, and run the main job on the embedded MNIST digits.
# Until the zoo run lands, the main job trains each family's default small variant and
# collects K = 200 checkpoints of its last two normalization layers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
cargo build --release -p pdiff-zoo
bin="$CARGO_TARGET_DIR/release/pdiff-zoo"
for arch in resnet8 vit-micro convnext-micro; do
  "$bin" train --arch "$arch" --dataset mnist --seed 0
  "$bin" collect --model "exports/models/$arch.mnist_s0.safetensors"
done
echo "models, cards and collections: exports/models/" >&2
