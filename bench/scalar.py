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
    return rows
