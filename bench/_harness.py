"""Timing and reporting shared by every benchmark section.

Each row of the report is one ratio between cyclr and a peer (another library, a
hand-written formula, or a physical floor such as ``np.full``) timed in the same process,
interleaved and best-of, so that machine load drifting during the run hits both sides
alike and the ratio stays meaningful on a busy machine.
"""

from __future__ import annotations

import dataclasses
import math
import timeit
from typing import Callable


@dataclasses.dataclass
class Row:
    """One line of the report.

    Attributes:
        section: the issue's section number (1-5).
        what: what cyclr does in this row.
        against: the peer or floor it is compared with.
        cyclr: cyclr's figure, already formatted with its unit.
        peer: the peer's figure, same unit.
        ratio: cyclr over peer (time or memory: lower is better; throughput: higher).
        target: ``("<=", x)`` or ``(">=", x)``, or None where the issue sets none.
        note: anything that qualifies the figures.
    """

    section: int
    what: str
    against: str
    cyclr: str
    peer: str
    ratio: float
    target: tuple | None = None
    note: str = ""

    @property
    def met(self) -> str:
        if self.target is None or not math.isfinite(self.ratio):
            return ""
        op, bound = self.target
        ok = self.ratio <= bound if op == "<=" else self.ratio >= bound
        return "yes" if ok else "**no**"


def skipped(section: int, what: str, against: str, why: str) -> Row:
    """A row that could not be measured in this run, with the reason."""
    return Row(section, what, against, "-", "-", math.nan, None, f"skipped: {why}")


def best_of(candidates: dict[str, Callable[[], object]], *, number: int,
            repeat: int) -> dict[str, float]:
    """Seconds per call of each candidate: best of ``repeat`` rounds of ``number`` calls.

    The candidates take turns within every round, so a burst of load from another
    process slows one round of each rather than all rounds of one.
    """
    timers = {k: timeit.Timer(f) for k, f in candidates.items()}
    for timer in timers.values():
        timer.timeit(1)                     # warm caches, JIT and allocator first
    best = dict.fromkeys(timers, math.inf)
    for _ in range(repeat):
        for k, timer in timers.items():
            best[k] = min(best[k], timer.timeit(number) / number)
    return best


def best_of_statements(statements: dict[str, str], namespace: dict, *, number: int,
                       repeat: int) -> dict[str, float]:
    """Like :func:`best_of` for source statements: timeit compiles them into its loop,
    so no extra Python call wraps the call being measured."""
    timers = {k: timeit.Timer(s, globals=namespace) for k, s in statements.items()}
    best = dict.fromkeys(timers, math.inf)
    for _ in range(repeat):
        for k, timer in timers.items():
            best[k] = min(best[k], timer.timeit(number) / number)
    return best


def fmt_time(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def fmt_rate(values_per_second: float) -> str:
    return f"{values_per_second / 1e6:,.0f} M/s"


def fmt_bytes(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def markdown(rows: list[Row]) -> str:
    """The report table."""
    lines = ["| # | cyclr | against | cyclr | peer | ratio | target | met | note |",
             "|---|---|---|---:|---:|---:|---|---|---|"]
    for r in rows:
        ratio = "-" if not math.isfinite(r.ratio) else f"{r.ratio:.2f}x"
        target = "" if r.target is None else f"{r.target[0]} {r.target[1]}x"
        target = target.replace("<=", "≤").replace(">=", "≥")
        lines.append(f"| {r.section} | {r.what} | {r.against} | {r.cyclr} | {r.peer} | "
                     f"{ratio} | {target} | {r.met} | {r.note} |")
    return "\n".join(lines)
