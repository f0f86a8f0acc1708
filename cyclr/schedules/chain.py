"""Schedules one after another: ``Chain``."""

from __future__ import annotations

import numpy as np

from .. import _validate as v
from ._base import Ends, Field, Schedule, Segment, _check_ends, _ends_array

#: Deepest nesting of chains in chains (each level is one C call deep when evaluated).
MAX_NESTING = 64
#: Most schedules a chain may hold, counting a sub-schedule once per place it is used
#: (what ``to_dict`` and ``repr`` write out): a few shared sub-chains nested a few levels
#: deep would otherwise describe billions of segments.
MAX_CHAIN_SIZE = 1_000_000


class Chain(Schedule):
    """Schedules one after another; each segment sees its own step, starting at 0.

    ``segments`` is a tuple of ``(schedule, steps)`` pairs; the last may have ``steps``
    None (open-ended). A finite chain holds its last value after its end. Build it with
    ``chain``.

    Examples:
        >>> import cyclr
        >>> s = cyclr.chain((cyclr.constant(0.5), 2), cyclr.linear(0.5, 1.0, 2))
        >>> isinstance(s, cyclr.Chain), [s(i) for i in range(4)]
        (True, [0.5, 0.5, 0.5, 0.75])
    """

    __slots__ = ("_depth", "_size", "_top")
    _depth: int
    _size: int
    _top: float
    type_name = "chain"
    fields = {"segments": Field.SEGMENTS}

    def __init__(self, segments: tuple[Segment, ...] | list[Segment]) -> None:
        if not isinstance(segments, (tuple, list)) or not segments:
            raise ValueError(f"segments must be a non-empty sequence, got {segments!r}")
        canonical = []
        for k, segment in enumerate(segments):
            if isinstance(segment, Schedule):
                segment = (segment, None)
            if (not isinstance(segment, (tuple, list)) or len(segment) != 2
                    or not isinstance(segment[0], Schedule)):
                raise TypeError(
                    f"segment {k} must be a schedule or a (schedule, steps) pair, got {segment!r}")
            schedule, steps = segment
            if steps is None:
                if k != len(segments) - 1:
                    raise ValueError(
                        f"only the last segment may be open-ended; segment {k} has steps=None")
            else:
                steps = v.count(f"steps of segment {k}", steps, minimum=1)
            canonical.append((schedule, steps))
        canonical = tuple(canonical)  # type: ignore[assignment]  # frozen from here on
        # Each sub-chain already knows its depth and size: linear work, however often
        # a sub-chain is shared.
        depth = 1 + max((getattr(s, "_depth", 1) for s, _ in canonical
                         if isinstance(s, Chain)), default=0)
        size = 1 + sum(getattr(s, "_size", 1) if isinstance(s, Chain) else 1
                       for s, _ in canonical)
        if depth > MAX_NESTING:
            raise ValueError(f"chains may nest at most {MAX_NESTING} levels deep")
        if size > MAX_CHAIN_SIZE:
            raise ValueError(
                f"this chain would hold {size} schedules, counting each sub-schedule once "
                f"per use; at most {MAX_CHAIN_SIZE} are allowed")
        self._freeze(segments=canonical)
        object.__setattr__(self, "_depth", depth)
        object.__setattr__(self, "_size", size)
        self._setup_chain(kernels=tuple(s for s, _ in canonical),
                          lengths=[n for _, n in canonical])
        # Each sub-chain's bound is cached too: linear in the distinct nodes.
        object.__setattr__(self, "_top", max(s._peak() for s, _ in canonical))

    @property
    def is_cyclical(self) -> bool:  # type: ignore[override]
        return any(s.is_cyclical for s, _ in self.params["segments"])

    @property
    def open_tail(self) -> tuple[int, Schedule] | None:
        """``(first step, schedule)`` of the open-ended last segment, or None for a
        finite chain."""
        segments = self.params["segments"]
        if segments[-1][1] is not None:
            return None
        return sum(n for _, n in segments[:-1]), segments[-1][0]

    @property
    def total_steps(self) -> int | None:
        """Steps until the chain ends (it holds its value after), or None if open-ended."""
        segments = self.params["segments"]
        if segments[-1][1] is None:
            return None
        return sum(n for _, n in segments)

    def _ends(self, total_steps: int) -> Ends:
        parts, start = [], 0
        for schedule, steps in self.params["segments"]:
            if start > total_steps:
                break
            local = total_steps - start if steps is None else min(steps, total_steps - start)
            parts.append(start + _ends_array(schedule._ends(local)))
            if steps is not None:
                start += steps
        if self.params["segments"][-1][1] is not None and start <= total_steps:
            parts.append(np.array([start], dtype=np.int64))        # the run's end
        ends = np.unique(np.concatenate(parts)) if parts else np.empty(0, np.int64)
        _check_ends(ends.size, total_steps)
        return ends[ends >= 1]

    def _peak(self) -> float:
        return self._top

    def natural_length(self) -> int | None:
        segments = self.params["segments"]
        if segments[-1][1] is not None:
            return self.total_steps
        tail = segments[-1][0].natural_length()
        return None if tail is None else sum(n for _, n in segments[:-1]) + tail

    def momentum_schedule(self, base_momentum: float, max_momentum: float) -> Chain:
        """The chain of each segment's momentum schedule (same bounds for all)."""
        return Chain(tuple((s.momentum_schedule(base_momentum, max_momentum), n)
                           for s, n in self.params["segments"]))

    def __repr__(self):
        parts = [repr(s) if n is None else f"({s!r}, {n!r})"
                 for s, n in self.params["segments"]]
        return f"chain({', '.join(parts)})"
