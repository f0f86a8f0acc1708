"""Writes tests/data/golden.json: float64 values (as hex) of every policy, shape and
kind of schedule, saved before a refactor of the core so that tests/test_golden.py can
show the refactor changed no bit. Run it only to re-pin on purpose:

    python tests/make_golden.py
"""

import hashlib
import json
import os

import numpy as np

import cyclr

STARTS = (0, 1_000_003, 2**40 + 5, 2**62)
N = 24              # values kept as hex at each start
LONG = 20_000       # long enough for every block fill; kept as a digest per dtype


def cases():
    """(description, schedule) pairs: the description is evaluated with cyclr's names."""
    out = []
    for shape in ("linear", "welch", "hann"):
        for down in (None, 7, 2.5):
            out += [
                f"cyclr.triangular(0.001, 0.006, 13, step_size_down={down!r}, shape={shape!r})",
                f"cyclr.triangular2(0.001, 0.006, 13, step_size_down={down!r}, shape={shape!r})",
                f"cyclr.exp_range(0.001, 0.006, 13, gamma=0.999, step_size_down={down!r}, "
                f"shape={shape!r})",
                f"cyclr.exp_range(0.001, 0.006, 13, gamma=0.9, step_size_down={down!r}, "
                f"shape={shape!r}, scale_mode='cycle')",
                f"cyclr.triangular(0.1, 0.9, 1.25, step_size_down={down!r}, shape={shape!r})"
                f".momentum_schedule(0.8, 0.95)",
            ]
    out += [
        "cyclr.triangular(0.001, 0.006, 2000)",
        "cyclr.exp_range(0.0, 1.0, 50, gamma=0.99999)",
        "cyclr.one_cycle(0.1, 1000)",
        "cyclr.one_cycle(0.1, 1000, anneal='linear', three_phase=True, pct_start=0.25)",
        "cyclr.one_cycle(0.1, 1000).momentum_schedule(0.85, 0.95)",
        "cyclr.one_cycle(0.1, 1000, three_phase=True).momentum_schedule(0.85, 0.95)",
        "cyclr.constant(0.01)",
        "cyclr.decay(0.006, 0.001, 500)",
        "cyclr.decay(0.006, 0.001, 99.5)",
        "cyclr.exponential(0.1, 0.999)",
        "cyclr.step_decay(0.1, 0.5, 30)",
        "cyclr.step_decay(0.1, 0.5, 2.5)",
        "cyclr.chain((cyclr.triangular2(0.001, 0.006, 20), 160), "
        "cyclr.triangular2(0.0001, 0.001, 10))",
        "cyclr.chain((cyclr.one_cycle(0.1, 100), 100), (cyclr.constant(0.001), 50))",
        "cyclr.linear(0.0, 0.1, 37)",
        "cyclr.cosine(0.1, 0.001, 250.5)",
        "cyclr.cosine_restarts(0.1, 50, min_lr=0.001)",
        "cyclr.cosine_restarts(0.1, 10, min_lr=0.001, cycle_mult=2, amplitude_decay=0.5)",
        "cyclr.cosine_restarts(0.1, 2.5, cycle_mult=1.5).momentum_schedule(0.85, 0.95)",
        "cyclr.chain((cyclr.linear(0.0, 0.1, 100), 100), cyclr.cosine(0.1, 0.0, 900))",
    ]
    return out


def digest(values: np.ndarray) -> str:
    return hashlib.sha256(values.tobytes()).hexdigest()


def main():
    table = {}
    for text in cases():
        s = eval(text, {"cyclr": cyclr})
        table[text] = {str(start): [float(x).hex() for x in s.array(N, start=start)]
                       for start in STARTS}
        table[text]["long"] = {np.dtype(d).name: digest(s.array(LONG, start=7, dtype=d))
                               for d in (np.float64, np.float32)}
    path = os.path.join(os.path.dirname(__file__), "data", "golden.json")
    with open(path, "w") as f:
        json.dump(table, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
