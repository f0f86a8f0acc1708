#!/usr/bin/env bash
# Redraws the schedule figures in docs/ with `cyclr show --png`.
# Usage, from anywhere: bash docs/figures.sh   (CYCLR=... to use another cyclr command)
set -euo pipefail
cd "$(dirname "$0")/.."
CYCLR=${CYCLR:-.venv/bin/cyclr}
# The paper's CIFAR-10 bounds and step size; gamma is its exp_range setting.
paper=(--base-lr 0.001 --max-lr 0.006 --step-size 2000 --size 480x240)

"$CYCLR" show triangular  "${paper[@]}" --steps 16000 --png docs/triangular.png
"$CYCLR" show triangular2 "${paper[@]}" --steps 16000 --png docs/triangular2.png
"$CYCLR" show exp_range   "${paper[@]}" --steps 16000 --gamma 0.99994 --png docs/exp_range.png
for shape in linear welch hann; do
  "$CYCLR" show triangular "${paper[@]}" --steps 8000 --shape "$shape" \
    --png "docs/shape_$shape.png"
done
