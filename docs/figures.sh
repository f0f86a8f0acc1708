#!/usr/bin/env bash
# Redraws the schedule figures in docs/ with `cyclr show --plot`.
# Usage, from anywhere: bash docs/figures.sh   (CYCLR=... to use another cyclr command)
set -euo pipefail
cd "$(dirname "$0")/.."
CYCLR=${CYCLR:-.venv/bin/cyclr}
size=(--size 480x240)
# The paper's CIFAR-10 bounds and step size; gamma is its exp_range setting.
paper=(--base-lr 0.001 --max-lr 0.006 --step-size 2000 "${size[@]}")

"$CYCLR" show triangular  "${paper[@]}" --steps 16000 --plot docs/triangular.png
"$CYCLR" show triangular2 "${paper[@]}" --steps 16000 --plot docs/triangular2.png
"$CYCLR" show exp_range   "${paper[@]}" --steps 16000 --gamma 0.99994 --plot docs/exp_range.png
for shape in linear welch hann; do
  "$CYCLR" show triangular "${paper[@]}" --steps 8000 --shape "$shape" \
    --plot "docs/shape_$shape.png"
done

# Warm restarts (SGDR): each cycle twice as long as the one before; the dotted lines
# are the restarts. By default show draws four cycles: 1000 + 2000 + 4000 + 8000 steps.
"$CYCLR" show cosine_restarts --max-lr 0.1 --first-cycle 1000 --cycle-mult 2 \
  "${size[@]}" --plot docs/cosine_restarts.png
# 1cycle with its cyclical momentum (orange, right axis).
"$CYCLR" show one_cycle --max-lr 0.1 --total-steps 10000 --momentum 0.85 0.95 \
  "${size[@]}" --plot docs/one_cycle.png
# Linear warm-up, then cosine decay: a chain, which show reads from its to_dict()
# description, cyclr.chain((cyclr.linear(0.0, 0.1, 500), 500),
# (cyclr.cosine(0.1, 0.0, 4500), 4500)).to_dict().
chain=$(mktemp --suffix=.json)
trap 'rm -f "$chain"' EXIT
cat > "$chain" <<'JSON'
{"version": 1, "type": "chain", "segments": [
  {"schedule": {"version": 1, "type": "linear", "start_lr": 0.0, "end_lr": 0.1,
                "steps": 500}, "steps": 500},
  {"schedule": {"version": 1, "type": "cosine", "start_lr": 0.1, "end_lr": 0.0,
                "steps": 4500}, "steps": 4500}]}
JSON
"$CYCLR" show --from "$chain" "${size[@]}" --plot docs/warmup_cosine.png
