"""Checkpoints of cyclr's PyTorch schedulers (``cyclr.adapters.torch``).

- ``Checkpoints``: ``state_dict`` / ``load_state_dict`` of every scheduler there: the
  schedules as plain data, a custom ``scale_fn`` recorded by its values, and the states
  saved by torch's own ``CyclicLR``, ``OneCycleLR`` and ``CosineAnnealingWarmRestarts``
  (each read by a ``TorchFormat`` of ``_torch_formats``);
- ``untouched_on_error``: a constructor that raises leaves the optimizer as it was.

Imported by ``cyclr.adapters.torch`` only, once torch is known to import.
"""

from __future__ import annotations

import contextlib
import numbers
import re
import types
from typing import TYPE_CHECKING

import torch

from cyclr import Schedule
from cyclr.schedules import Field

if TYPE_CHECKING:
    from ._torch_formats import TorchFormat

# The largest step a schedule takes (the core counts steps in int64).
MAX_STEP = 2**63 - 1


def _describe(schedule: Schedule) -> dict:
    """A schedule as plain data. A ``scale_fn`` without an import path (a lambda, a
    closure, a callable object) cannot be named for import; such a schedule is recorded
    by its repr, which names the function (memory addresses dropped), so that a rebuilt
    scheduler can still be matched against it, by that name."""
    try:
        return schedule.to_dict()
    except ValueError:
        return {"repr": re.sub(r" at 0x[0-9a-fA-F]+", "", repr(schedule))}


def _first_difference(saved, ours, path: str):
    """The first place where two plain-data descriptions differ, or None."""
    if isinstance(saved, dict) and isinstance(ours, dict) and saved.keys() == ours.keys():
        for key in saved:
            found = _first_difference(saved[key], ours[key], f"{path}.{key}")
            if found:
                return found
        return None
    if (isinstance(saved, (list, tuple)) and isinstance(ours, (list, tuple))
            and len(saved) == len(ours)):
        for k, (a, b) in enumerate(zip(saved, ours)):
            found = _first_difference(a, b, f"{path}[{k}]")
            if found:
                return found
        return None
    if saved == ours and type(saved) is type(ours):
        return None
    return f"{path}: saved {saved!r}, this scheduler has {ours!r}"


def saved_counters(state_dict: dict) -> tuple:
    """``(last_epoch, _step_count)`` of a saved state, checked."""
    last_epoch = state_dict["last_epoch"]
    if (isinstance(last_epoch, bool) or not isinstance(last_epoch, numbers.Integral)
            or not 0 <= int(last_epoch) < MAX_STEP):
        raise ValueError(
            f"state_dict['last_epoch'] must be an integer in [0, 2**63 - 2] (the next step "
            f"must not pass the largest step, 2**63 - 1), got {last_epoch!r}")
    step_count = state_dict["_step_count"]
    if (isinstance(step_count, bool) or not isinstance(step_count, numbers.Integral)
            or step_count < 0):
        raise ValueError(
            f"state_dict['_step_count'] must be an int >= 0, got {step_count!r}")
    return int(last_epoch), int(step_count)


# -- custom scale_fn in checkpoints --------------------------------------------------

# Where a custom scale_fn's values are recorded in a checkpoint: the first cycles (or
# steps), where runs spend their time, and a few far ones. Its name alone cannot tell
# ``lambda c: 0.5**c`` from ``lambda c: 0.9**c``; its values can.
_PROBE_CYCLES = (1, 2, 3, 10, 1000)
_PROBE_STEPS = (0, 1, 2, 3, 10, 1000, 10**6)


def _custom_cyclics(schedule) -> list:
    """The schedules with a user ``scale_fn`` in ``schedule``, in a fixed order: its
    parameters walked by the kinds its class declares (nested schedules, chain
    segments), so any class that takes a scale_fn is found."""
    found = []
    for key, kind in type(schedule).fields.items():
        value = schedule.params[key]
        if kind == Field.SCHEDULE:
            found += _custom_cyclics(value)
        elif kind == Field.SEGMENTS:
            found += [c for s, _ in value for c in _custom_cyclics(s)]
        elif kind == Field.SCALE_FN and value is not None:
            found.append(schedule)
    return found


def _probe(fn, scale_mode: str) -> list:
    """``[[argument, value], ...]``: ``fn`` at the probe points, each value as
    ``float.hex`` (exact, and a NaN equals a NaN), or what calling it raised."""
    out = []
    for arg in (_PROBE_CYCLES if scale_mode == "cycle" else _PROBE_STEPS):
        try:
            value = float(fn(arg)).hex()
        except Exception as exc:  # noqa: BLE001  (a scale_fn meant for short runs may
            value = f"raises {type(exc).__name__}"  # raise far out: that is recorded too)
        out.append([arg, value])
    return out


def object_state(fn):
    """What torch's CyclicLR saves of a scale_fn: a callable object's ``__dict__`` (a
    copy); None for a plain function or lambda, or an object without ``__dict__``."""
    if isinstance(fn, types.FunctionType):
        return None
    state = getattr(fn, "__dict__", None)
    return None if state is None else dict(state)


def _scale_fn_records(schedules) -> list:
    return [{"state": object_state(c.params["scale_fn"]),
             "values": _probe(c.params["scale_fn"], c.params["scale_mode"])}
            for s in schedules for c in _custom_cyclics(s)]


def _values_difference(k: int, saved, ours: list):
    if saved == ours:
        return None
    if isinstance(saved, list) and len(saved) == len(ours):
        for pair, (arg, value) in zip(saved, ours):
            if pair != [arg, value]:
                return (f"custom scale_fn {k} computes other values: saved "
                        f"scale_fn({arg!r}) = {_readable(pair)}, this scheduler's gives "
                        f"{_readable([arg, value])}")
    return f"custom scale_fn {k}: saved values {saved!r}, this scheduler's {ours!r}"


def _readable(pair) -> str:
    value = pair[1] if isinstance(pair, list) and len(pair) == 2 else pair
    try:
        return repr(float.fromhex(value))
    except (TypeError, ValueError):
        return str(value)


def _rebuilt(schedule):
    """``schedule`` built again from its arguments (its nested schedules too), so that
    schedules with a scale_fn set up their kernels anew from scale_fn objects whose
    state was restored; a schedule without one is kept as it is."""
    if not _custom_cyclics(schedule):
        return schedule
    params = schedule.params
    for key, kind in type(schedule).fields.items():
        if kind == Field.SCHEDULE:
            params[key] = _rebuilt(params[key])
        elif kind == Field.SEGMENTS:
            params[key] = tuple((_rebuilt(s), n) for s, n in params[key])
    return type(schedule)(**params)


@contextlib.contextmanager
def _object_states(updates):
    """Update each ``(obj, state)``'s ``__dict__`` with ``state``, torch's way of
    restoring a scale_fn object; if the block raises, every object is put back."""
    before = {}
    try:
        for obj, state in updates:
            before.setdefault(id(obj), (obj, dict(obj.__dict__)))
            obj.__dict__.update(state)
        yield
    except BaseException:
        for obj, state in before.values():
            obj.__dict__.clear()
            obj.__dict__.update(state)
        raise


# -- a constructor that raises leaves the optimizer as it was ------------------------

_ABSENT = object()


def _tensors(value) -> list:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tensors(v)]
    return []


@contextlib.contextmanager
def untouched_on_error(optimizer):
    """Put the optimizer's param groups (values, and the contents of tensors in them)
    and its ``step`` (which torch's base class wraps) back as they were if the block
    raises."""
    groups = []
    for group in optimizer.param_groups:
        items = dict(group)
        tensors = [(t, t.detach().clone()) for key, value in items.items()
                   if key != "params" for t in _tensors(value)]
        groups.append((group, items, tensors))
    step = vars(optimizer).get("step", _ABSENT)
    try:
        yield
    except BaseException:
        with torch.no_grad():
            for group, items, tensors in groups:
                group.clear()
                group.update(items)
                for tensor, value in tensors:
                    tensor.copy_(value)
        if step is _ABSENT:
            vars(optimizer).pop("step", None)
        else:
            optimizer.step = step
        raise


class Checkpoints:
    """``state_dict`` / ``load_state_dict`` for the schedulers of
    ``cyclr.adapters.torch`` (mixed into their ``ScheduleLR``, before torch's
    ``LRScheduler``). A subclass that also reads the state of torch's class of its name
    sets ``_torch_format``."""

    _torch_format: TorchFormat | None = None
    # Kept by the scheduler (and torch's LRScheduler) these checkpoints are of.
    optimizer: torch.optim.Optimizer
    last_epoch: int
    _step_count: int
    _last_lr: list
    _schedules: tuple
    _momenta: tuple | None
    _distinct: tuple
    _slots: tuple

    def _install(self, schedules, momenta) -> None:
        raise NotImplementedError    # the scheduler's: follow these schedules from now on

    def _apply(self, i: int) -> None:
        raise NotImplementedError    # the scheduler's: set step i's values

    def state_dict(self) -> dict:
        """The step counters and the schedules, as plain data (no callables, no objects
        that ``torch.load(weights_only=True)`` would refuse, unless a callable-object
        ``scale_fn`` keeps such objects in its ``__dict__``, which is saved as torch
        saves it)."""
        return {
            "last_epoch": self.last_epoch,
            "_step_count": self._step_count,
            "_last_lr": list(self._last_lr),
            "schedules": [_describe(s) for s in self._schedules],
            "momentum_schedules": (None if self._momenta is None
                                   else [_describe(s) for s in self._momenta]),
            "scale_fns": _scale_fn_records(self._all_schedules()),
        }

    def load_state_dict(self, state_dict: dict) -> None:
        """Continue from a saved state, then set the optimizer's values for that step.

        A custom ``scale_fn`` must compute the values it computed when saved (checked
        at a few cycles or steps); a callable object's saved ``__dict__`` is restored
        into this scheduler's object first, as torch does. ``CyclicLR``,
        ``OneCycleLR`` and ``CosineAnnealingWarmRestarts`` also take a state saved by
        torch's class of that name, built with the same arguments.

        Raises:
            ValueError: the state was saved for other schedules (for example a
                different ``scale_fn``, ``max_lr`` or number of param groups), or its
                ``last_epoch`` is out of range; the message names the first
                difference, and the scheduler, its optimizer and the ``scale_fn``
                objects are left as they were.
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict, got {type(state_dict).__name__}")
        theirs = self._torch_format
        if "schedules" not in state_dict and theirs and theirs.keys <= state_dict.keys():
            self._load_torch_state(state_dict, theirs)
            return
        needed = ("last_epoch", "_step_count", "schedules", "momentum_schedules")
        missing = [k for k in needed if k not in state_dict]
        if missing:
            torch_name = f" nor by torch's {type(self).__name__}" if theirs else ""
            raise ValueError(
                f"state_dict lacks {missing}: it was not saved by a cyclr scheduler"
                f"{torch_name} (keys: {sorted(map(str, state_dict))})")
        last_epoch, step_count = saved_counters(state_dict)
        updates = self._object_updates(state_dict.get("scale_fns"))
        with _object_states(updates):
            schedules, momenta = self._after(updates)
            diff = self._native_difference(state_dict, schedules, momenta)
            if diff:
                raise ValueError(
                    f"state_dict does not match this {type(self).__name__}: {diff}. Build "
                    f"the scheduler with the arguments (and scale_fn) it was saved with")
            self._switch(schedules, momenta, last_epoch, step_count)
        self._load_extra(state_dict)

    def _all_schedules(self) -> tuple:
        return self._schedules + (self._momenta or ())

    def _object_updates(self, saved) -> list:
        """``(scale_fn object, saved __dict__)`` pairs to restore: for a checkpoint whose
        custom scale_fns line up one to one with this scheduler's (else the comparison
        that follows refuses it)."""
        ours = [c.params["scale_fn"] for s in self._all_schedules()
                for c in _custom_cyclics(s)]
        if not isinstance(saved, list) or len(saved) != len(ours):
            return []
        updates = []
        for k, (fn, record) in enumerate(zip(ours, saved)):
            state = record.get("state") if isinstance(record, dict) else None
            if state is None or object_state(fn) is None:
                continue
            if not isinstance(state, dict):
                raise ValueError(f"state_dict['scale_fns'][{k}]['state'] must be a dict "
                                 f"(a scale_fn object's __dict__), got {state!r}")
            updates.append((fn, state))
        return updates

    def _after(self, updates) -> tuple:
        """The schedules to follow once ``updates`` are restored: built anew when any
        scale_fn object changed (a schedule is an immutable value)."""
        if not updates:
            return self._schedules, self._momenta
        momenta = None if self._momenta is None else tuple(map(_rebuilt, self._momenta))
        return tuple(map(_rebuilt, self._schedules)), momenta

    def _native_difference(self, state_dict, schedules, momenta):
        ours = {"schedules": [_describe(s) for s in schedules],
                "momentum_schedules": (None if momenta is None
                                       else [_describe(s) for s in momenta])}
        for key in ("schedules", "momentum_schedules"):
            diff = _first_difference(state_dict[key], ours[key], key)
            if diff:
                return diff
        saved = state_dict.get("scale_fns")
        if saved is None:
            # Saved before cyclr recorded scale_fn values: matched by name only.
            return None
        mine = _scale_fn_records(schedules + (momenta or ()))
        if not isinstance(saved, list) or len(saved) != len(mine):
            return (f"scale_fns: saved {saved!r}, this scheduler has {len(mine)} custom "
                    f"scale_fn(s)")
        for k, (record, ours_record) in enumerate(zip(saved, mine)):
            values = record.get("values") if isinstance(record, dict) else record
            diff = _values_difference(k, values, ours_record["values"])
            if diff:
                return diff
        return None

    def _switch(self, schedules, momenta, last_epoch: int, step_count: int) -> None:
        """Follow ``schedules`` from step ``last_epoch`` on, and set that step's values;
        if setting them fails, nothing changes."""
        before = (self._schedules, self._momenta, self._distinct, self._slots)
        self._install(schedules, momenta)
        try:
            self._apply(last_epoch)   # computes every value before it writes any
        except BaseException:
            self._schedules, self._momenta, self._distinct, self._slots = before
            raise
        self.last_epoch, self._step_count = last_epoch, step_count

    def _load_torch_state(self, state_dict: dict, theirs: TorchFormat) -> None:
        diff = theirs.difference(self, state_dict)
        if diff:
            name = type(self).__name__
            raise ValueError(
                f"state_dict (saved by torch's {name}) does not match this {name}: "
                f"{diff}. Build the scheduler with the arguments it was saved with")
        last_epoch, step_count = saved_counters(state_dict)
        updates = theirs.updates(self, state_dict)
        with _object_states(updates):
            schedules, momenta = self._after(updates)
            self._switch(schedules, momenta, last_epoch, step_count)

    def _load_extra(self, state_dict: dict) -> None:
        """Restore what a subclass adds to the state (called after validation)."""
