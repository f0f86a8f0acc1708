"""The loop the range-test runners share: ramp, train, record, stop, restore.

Each runner (torch, Keras, Optax) supplies only its framework's part: one training step
at a given LR, and the restore of what it saved. The ramp, the records, the smoothing,
the divergence stop and the progress report are :class:`cyclr.RangeTest`'s.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from cyclr.rangetest import RangeTest, RangeTestResult

# A one-shot validation iterable is kept in memory for the whole test; past this many
# batches it is refused, as it would likely not fit.
MAX_ONE_SHOT_BATCHES = 1000


def run(rt: RangeTest, data: Iterable[Any], name: str,
        step: Callable[[float, Iterator[Any]], tuple[Any, Any] | None],
        restore: Callable[[], None] | None = None) -> RangeTestResult:
    """Drive ``rt`` over ``data`` and return its result.

    Args:
        rt: the engine, not started.
        data: the training batches (see :func:`cycle`).
        name: the argument ``data`` came in as, for messages.
        step: ``step(lr, batches)`` trains one step at ``lr``, taking what it needs from
            the iterator ``batches``, and returns ``(loss, accuracy)`` (either may be
            None), or None when ``batches`` ran out.
        restore: called last, whether the test ends, diverges or raises.
    """
    try:
        # Nothing is drawn from data before the first step: a loader's first pass may
        # use random state that the runner saved just before.
        batches = cycle(data, name)
        for lr in rt:
            out = step(lr, batches)
            if out is None:
                rt.stop(f"{name} ran out after {rt.step} steps")
                break
            rt.record(loss=out[0], accuracy=out[1])
    finally:
        rt.close()
        if restore is not None:
            restore()
    return rt.result()


def cycle(data: Iterable[Any], name: str) -> Iterator[Any]:
    """The batches of ``data`` pass after pass; a one-shot iterator just ends. Nothing
    is drawn from ``data`` before the first ``next``."""
    one_shot = isinstance(data, Iterator)
    while True:
        empty = True
        for batch in data:
            empty = False
            yield batch
        if empty:
            raise ValueError(f"{name} yields no batches")
        if one_shot:
            return


def reusable(data: Any, name: str) -> Iterable[Any]:
    """``data`` if it can be iterated again, else its batches, read once into a list.

    A validation set is read after every step; a generator would be empty after the
    first. Refused when empty or longer than :data:`MAX_ONE_SHOT_BATCHES` batches.
    """
    if not isinstance(data, Iterator):
        try:
            iter(data)
        except TypeError:
            raise TypeError(f"{name} must be an iterable of batches, got {data!r}") from None
        try:
            empty = len(data) == 0
        except TypeError:  # no length (an IterableDataset's loader): found out later
            empty = False
        if empty:
            raise ValueError(f"{name} yields no batches")
        return data
    batches = list(itertools.islice(data, MAX_ONE_SHOT_BATCHES + 1))
    if not batches:
        raise ValueError(f"{name} yields no batches")
    if len(batches) > MAX_ONE_SHOT_BATCHES:
        raise ValueError(
            f"{name} is a one-shot iterator (a generator) with more than "
            f"{MAX_ONE_SHOT_BATCHES} batches, too many to keep for a pass after every "
            f"step; pass something that can be iterated again (a DataLoader, a list)")
    return batches
