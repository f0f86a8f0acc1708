"""Section 1: the cost of one scalar call ``s(i)``.

Against: the Python call floor (``math.fabs(x)``, a C builtin that does almost nothing)
and a pure-Python closed form of the same policy. timeit compiles each statement into
its loop, so both sides carry the same loop overhead and nothing else.
"""

from __future__ import annotations

import math

import cyclr
from _harness import Row, best_of_statements, fmt_time
from cases import BASE, STEP, TOP


def _python_triangular(i, base=BASE, span=TOP - BASE, up=STEP, period=2 * STEP):
    t = i % period
    u = t / up if t <= up else (period - t) / up
    return base + span * u


def _python_exp_range(i, base=BASE, span=TOP - BASE, up=STEP, period=2 * STEP,
                      gamma=0.99999):
    t = i % period
    u = t / up if t <= up else (period - t) / up
    return base + span * u * gamma ** i


def _python_one_cycle(i, top=TOP, initial=TOP / 25, low=TOP / 25e4, end0=29_999.0,
                      end1=99_999.0, cos=math.cos, pi=math.pi):
    x = float(min(i, 99_999))
    if x <= end0:
        return top + (initial - top) / 2.0 * (cos(pi * x / end0) + 1.0)
    return low + (top - low) / 2.0 * (cos(pi * (x - end0) / (end1 - end0)) + 1.0)


def run(number: int, repeat: int) -> list[Row]:
    """Section-1 rows."""
    schedules = {
        "triangular": (cyclr.triangular(BASE, TOP, STEP), _python_triangular),
        "exp_range": (cyclr.exp_range(BASE, TOP, STEP, gamma=0.99999), _python_exp_range),
        "one_cycle": (cyclr.one_cycle(TOP, 100_000), _python_one_cycle),
    }
    rows = []
    for name, (s, closed_form) in schedules.items():
        i = 12_345                           # mid-cycle, on the rising half
        if not math.isclose(s(i), closed_form(i), rel_tol=1e-12):
            raise AssertionError(f"the pure-Python {name} peer disagrees with cyclr")
        namespace = {"s": s, "py": closed_form, "fabs": math.fabs, "i": i, "x": -1.5}
        t = best_of_statements({"cyclr": "s(i)", "floor": "fabs(x)", "py": "py(i)"},
                               namespace, number=number, repeat=repeat)
        what = f"`s(i)` {name}"
        rows.append(Row(1, what, "`math.fabs(x)` (call floor)", fmt_time(t["cyclr"]),
                        fmt_time(t["floor"]), t["cyclr"] / t["floor"], ("<=", 2.0)))
        rows.append(Row(1, what, "pure-Python closed form", fmt_time(t["cyclr"]),
                        fmt_time(t["py"]), t["cyclr"] / t["py"]))
    rows += chain_rows(number, repeat)
    return rows


def chain_rows(number: int, repeat: int) -> list[Row]:
    """``s(i)`` of chains of 2, 1,000 and 100,000 segments at their first, middle and
    last segment: the segment is found by bisection, so 100,000 segments should cost
    about as much as 2 (target: within 3x)."""
    chains = {}
    for segments in (2, 1_000, 100_000):
        parts = [(cyclr.triangular(BASE, TOP, 50 + k % 7), 300) for k in range(segments - 1)]
        chains[segments] = cyclr.chain(*parts, cyclr.triangular(BASE, TOP, 50))
    rows = []
    for where in ("first", "middle", "last"):
        steps = {n: {"first": 7, "middle": 300 * (n // 2) + 7, "last": 300 * n + 7}[where]
                 for n in chains}
        namespace = {f"c{n}": c for n, c in chains.items()}
        namespace.update({f"i{n}": i for n, i in steps.items()})
        t = best_of_statements({n: f"c{n}(i{n})" for n in chains}, namespace,
                               number=number, repeat=repeat)
        for n in (1_000, 100_000):
            rows.append(Row(1, f"chain `s(i)`, {n:,} segments, {where} segment",
                            "the same call, 2 segments", fmt_time(t[n]), fmt_time(t[2]),
                            t[n] / t[2], ("<=", 3.0) if n == 100_000 else None))
    return rows
