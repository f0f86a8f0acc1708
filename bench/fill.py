"""Section 2: whole-run fills, ``s.array(n)``, in values per second.

Against: the write-bandwidth floor (``np.full(n, x)``, which allocates and writes the
same bytes and computes nothing), the numpy-vectorized formula, and the same formula
under ``jax.jit`` in float32. Every candidate allocates a fresh output per call, as
``s.array`` does.
"""

from __future__ import annotations

import numpy as np

from _harness import Row, best_of, fmt_rate, skipped
from cases import Case, cases, check_peers


def _rows_for(case: Case, n: int, repeat: int, jax_ok: bool) -> list[Row]:
    s = case.schedule
    rows = []
    for dtype in (np.float64, np.float32):
        tag = "f64" if dtype is np.float64 else "f32"
        candidates = {"cyclr": lambda: s.array(n, dtype=dtype),
                      "full": lambda: np.full(n, 0.5, dtype=dtype),
                      "numpy": lambda: case.numpy_fill(n, 0, dtype)}
        if tag == "f32" and jax_ok:
            fill = case.jax_fill(n)
            candidates["jax"] = lambda: fill(0).block_until_ready()
        times = best_of(candidates, number=1, repeat=repeat)
        rate = n / times["cyclr"]
        what = f"`s.array({n:_})` {case.name}, {tag}"
        rows.append(Row(2, what, f"`np.full` {tag} (write floor)", fmt_rate(rate),
                        fmt_rate(n / times["full"]), times["full"] / times["cyclr"],
                        (">=", case.full_target) if case.full_target and tag == "f64"
                        else None))
        rows.append(Row(2, what, f"numpy formula, {tag}", fmt_rate(rate),
                        fmt_rate(n / times["numpy"]), times["numpy"] / times["cyclr"],
                        (">=", 10.0) if case.peer_targets else None))
        if tag == "f32" and jax_ok:
            rows.append(Row(2, what, "`jax.jit` formula, f32", fmt_rate(rate),
                            fmt_rate(n / times["jax"]), times["jax"] / times["cyclr"],
                            (">=", 1.0) if case.peer_targets else None))
        elif tag == "f32":
            rows.append(skipped(2, what, "`jax.jit` formula, f32", "jax not importable"))
    return rows


def run(n: int, repeat: int) -> list[Row]:
    """All section-2 rows for fills of ``n`` steps."""
    try:
        import jax  # noqa: F401
        jax_ok = True
    except ImportError:
        jax_ok = False
    rows = []
    for case in cases(n):
        check_peers(case, min(n, 200_000), with_jax=jax_ok)
        rows += _rows_for(case, n, repeat, jax_ok)
    return rows
