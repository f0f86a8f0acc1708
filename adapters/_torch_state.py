"""Checkpoints of cyclr's PyTorch schedulers (``cyclr.adapters.torch``).

- ``Checkpoints``: ``state_dict`` / ``load_state_dict`` of every scheduler there: the
  schedules as plain data, a custom ``scale_fn`` recorded by its values, and the states
  saved by torch's own ``CyclicLR``, ``OneCycleLR`` and ``CosineAnnealingWarmRestarts``
  (each read by a ``TorchFormat``);
- ``untouched_on_error``: a constructor that raises leaves the optimizer as it was.

Imported by ``cyclr.adapters.torch`` only, once torch is known to import.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import re
import types

import numpy as np
import torch

from cyclr import Chain, Cyclic, Momentum, Schedule

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


def _saved_counters(state_dict: dict) -> tuple:
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


def _number(name: str, value) -> float:
    """A number from a state saved by torch (a float, an int or a 0-d tensor)."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.item())
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"state_dict['{name}'] must be a number, got {value!r}")
    return float(value)


def _numbers_difference(name: str, saved, ours: list):
    """The first difference between a saved per-group list of numbers and ours."""
    if not isinstance(saved, (list, tuple)) or len(saved) != len(ours):
        return (f"{name}: saved {saved!r}, this scheduler has {ours!r} (one value per "
                f"param group)")
    for k, (a, b) in enumerate(zip(saved, ours)):
        if _number(f"{name}[{k}]", a) != b:
            return f"{name}[{k}]: saved {a!r}, this scheduler has {b!r}"
    return None


# -- custom scale_fn in checkpoints --------------------------------------------------

# Where a custom scale_fn's values are recorded in a checkpoint: the first cycles (or
# steps), where runs spend their time, and a few far ones. Its name alone cannot tell
# ``lambda c: 0.5**c`` from ``lambda c: 0.9**c``; its values can.
_PROBE_CYCLES = (1, 2, 3, 10, 1000)
_PROBE_STEPS = (0, 1, 2, 3, 10, 1000, 10**6)


def _custom_cyclics(schedule) -> list:
    """The cyclic schedules with a user ``scale_fn`` in ``schedule``, in a fixed order."""
    if isinstance(schedule, Cyclic):
        return [schedule] if schedule.params["scale_fn"] is not None else []
    if isinstance(schedule, Momentum):
        return _custom_cyclics(schedule.params["schedule"])
    if isinstance(schedule, Chain):
        return [c for s, _ in schedule.params["segments"] for c in _custom_cyclics(s)]
    return []


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


def _object_state(fn):
    """What torch's CyclicLR saves of a scale_fn: a callable object's ``__dict__`` (a
    copy); None for a plain function or lambda, or an object without ``__dict__``."""
    if isinstance(fn, types.FunctionType):
        return None
    state = getattr(fn, "__dict__", None)
    return None if state is None else dict(state)


def _scale_fn_records(schedules) -> list:
    return [{"state": _object_state(c.params["scale_fn"]),
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
    """``schedule`` built again from its arguments, so that cyclic schedules set up
    their kernels anew from scale_fn objects whose state was restored."""
    if isinstance(schedule, Cyclic):
        return Cyclic(**schedule.params)
    if isinstance(schedule, Momentum):
        p = schedule.params
        return Momentum(_rebuilt(p["schedule"]), p["base_momentum"], p["max_momentum"])
    if isinstance(schedule, Chain):
        return Chain(tuple((_rebuilt(s), n) for s, n in schedule.params["segments"]))
    return schedule


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
        last_epoch, step_count = _saved_counters(state_dict)
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
            if state is None or _object_state(fn) is None:
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
        last_epoch, step_count = _saved_counters(state_dict)
        updates = theirs.updates(self, state_dict)
        with _object_states(updates):
            schedules, momenta = self._after(updates)
            self._switch(schedules, momenta, last_epoch, step_count)

    def _load_extra(self, state_dict: dict) -> None:
        """Restore what a subclass adds to the state (called after validation)."""


# -- states saved by torch's own schedulers ------------------------------------------


class TorchFormat:
    """How a state saved by one of torch's schedulers is recognised and read.

    Args:
        keys: the keys every such state holds (torch 2.x).
        difference: ``difference(scheduler, state_dict)``: the first difference between
            the saved state and the scheduler, as a message, or None.
        updates: ``updates(scheduler, state_dict)``: ``(scale_fn object, saved
            __dict__)`` pairs to restore; none by default.
    """

    __slots__ = ("keys", "difference", "updates")

    def __init__(self, keys, difference, updates=None):
        self.keys = frozenset(keys)
        self.difference = difference
        self.updates = updates or (lambda scheduler, state_dict: [])


def _momentum_difference(scheduler, state_dict: dict):
    """torch's cycle_momentum and use_beta1 against the scheduler's."""
    saved = state_dict["cycle_momentum"]
    if saved != scheduler.cycle_momentum:
        return (f"cycle_momentum: saved {saved!r}, this scheduler has "
                f"{scheduler.cycle_momentum!r}")
    if not saved:
        return None
    ours = scheduler._momentum_key == "betas"
    if state_dict.get("use_beta1") != ours:
        return (f"use_beta1: saved {state_dict.get('use_beta1')!r}, this scheduler's "
                f"optimizer has {'betas' if ours else 'momentum'} (use_beta1={ours!r})")
    return None


def momentum_keys(momentum: Schedule) -> dict[str, float]:
    # torch's CyclicLR and OneCycleLR keep the bounds in each group too.
    p = momentum.params
    return {"max_momentum": p["max_momentum"], "base_momentum": p["base_momentum"]}


def one_cycle_keys(schedule: Schedule) -> dict[str, float]:
    """What torch's OneCycleLR keeps in each param group (and reads back at every
    step), for a ``cyclr.one_cycle`` schedule: its first, peak and last LRs."""
    p = schedule.params
    first = p["max_lr"] / p["div_factor"]
    return {"initial_lr": first, "max_lr": p["max_lr"],
            "min_lr": first / p["final_div_factor"]}


# What every CyclicLR / OneCycleLR state saved by torch 2.x holds.
_TORCH_CYCLIC_KEYS = frozenset({
    "base_lrs", "max_lrs", "total_size", "step_ratio", "mode", "gamma", "scale_mode",
    "cycle_momentum", "_scale_fn_custom", "last_epoch", "_step_count"})
_TORCH_ONE_CYCLE_KEYS = frozenset({
    "base_lrs", "total_steps", "_schedule_phases", "cycle_momentum", "last_epoch",
    "_step_count"})
# torch's OneCycleLR phases: the param-group keys each one anneals between.
_TORCH_PHASES = {
    False: [("initial_lr", "max_lr", "max_momentum", "base_momentum"),
            ("max_lr", "min_lr", "base_momentum", "max_momentum")],
    True: [("initial_lr", "max_lr", "max_momentum", "base_momentum"),
           ("max_lr", "initial_lr", "base_momentum", "max_momentum"),
           ("initial_lr", "min_lr", "max_momentum", "max_momentum")],
}
_PHASE_KEYS = ("start_lr", "end_lr", "start_momentum", "end_momentum")
# Torch versions before 2.2 kept the anneal function itself.
_OLD_ANNEAL_NAMES = {"_annealing_cos": "cos", "_annealing_linear": "linear"}


def _torch_cycle_difference(state_dict: dict, p: dict):
    """torch's ``total_size``/``step_ratio`` against a cyclic schedule's step sizes.

    torch keeps only ``total_size = float(up) + float(down)`` and ``step_ratio = up /
    total_size``; computed here by the same float operations from this scheduler's
    arguments, equal arguments give equal floats, so they are compared exactly. To say
    which argument differs, ``up`` is recovered as ``total_size * step_ratio``: two
    roundings away from torch's ``up``, hence the few ulps of tolerance there.
    """
    up = float(p["step_size"])
    down = up if p["step_size_down"] is None else float(p["step_size_down"])
    total = up + down
    ratio = up / total
    saved_total = _number("total_size", state_dict["total_size"])
    saved_ratio = _number("step_ratio", state_dict["step_ratio"])
    if (saved_total, saved_ratio) == (total, ratio):
        return None
    saved_up = saved_total * saved_ratio
    if math.isclose(saved_up, up, rel_tol=4 * np.finfo(float).eps):
        return (f"step_size_down: saved {saved_total - saved_up!r} (total_size="
                f"{saved_total!r}, step_ratio={saved_ratio!r}), this scheduler has {down!r}")
    return (f"step_size_up: saved {saved_up!r} (total_size={saved_total!r}, step_ratio="
            f"{saved_ratio!r}), this scheduler has {up!r}")


def _cyclic_difference(scheduler, state_dict: dict):
    params = [s.params for s in scheduler._schedules]
    p = params[0]
    for name, ours in (("base_lrs", [q["base_lr"] for q in params]),
                       ("max_lrs", [q["max_lr"] for q in params])):
        diff = _numbers_difference(name, state_dict[name], ours)
        if diff:
            return diff
    diff = _torch_cycle_difference(state_dict, p)
    if diff:
        return diff
    saved_object = state_dict["_scale_fn_custom"]
    if p["scale_fn"] is None:
        # torch saves no trace of a plain-function scale_fn, but forces scale_mode
        # for its built-in modes (compared below), and saves a callable object's
        # __dict__.
        if saved_object is not None:
            return (f"scale_fn: saved with a callable-object scale_fn (its __dict__ "
                    f"is {saved_object!r}), this scheduler has none "
                    f"(mode={p['policy']!r})")
        if state_dict["mode"] != p["policy"]:
            return f"mode: saved {state_dict['mode']!r}, this scheduler has {p['policy']!r}"
        if p["policy"] == "exp_range" and _number("gamma", state_dict["gamma"]) != p["gamma"]:
            return f"gamma: saved {state_dict['gamma']!r}, this scheduler has {p['gamma']!r}"
    elif saved_object is not None and not isinstance(saved_object, dict):
        return f"_scale_fn_custom: saved {saved_object!r}, not a scale_fn object's __dict__"
    if state_dict["scale_mode"] != p["scale_mode"]:
        return (f"scale_mode: saved {state_dict['scale_mode']!r}, this scheduler has "
                f"{p['scale_mode']!r}")
    diff = _momentum_difference(scheduler, state_dict)
    if diff or not scheduler.cycle_momentum:
        return diff
    for name, ours in (("base_momentums", scheduler.base_momentums),
                       ("max_momentums", scheduler.max_momentums)):
        diff = _numbers_difference(name, state_dict.get(name), ours)
        if diff:
            return diff
    return None


def _cyclic_updates(scheduler, state_dict: dict) -> list:
    # torch restores a callable object's __dict__ into the scale_fn the scheduler
    # was built with, and goes on with it; so does this one.
    fn = scheduler._schedules[0].params["scale_fn"]
    saved = state_dict["_scale_fn_custom"]
    if saved is None or fn is None or _object_state(fn) is None:
        return []
    return [(fn, saved)]


def _one_cycle_difference(scheduler, state_dict: dict):
    p = scheduler._schedules[0].params
    if state_dict["total_steps"] != scheduler.total_steps:
        return (f"total_steps: saved {state_dict['total_steps']!r}, this scheduler has "
                f"{scheduler.total_steps!r}")
    phases, names = state_dict["_schedule_phases"], _TORCH_PHASES[p["three_phase"]]
    if not isinstance(phases, (list, tuple)) or len(phases) != len(names):
        return (f"three_phase: saved {phases!r}, this scheduler has {len(names)} phases "
                f"(three_phase={p['three_phase']!r})")
    for k, (phase, keys) in enumerate(zip(phases, names)):
        if not isinstance(phase, dict) or tuple(map(phase.get, _PHASE_KEYS)) != keys:
            return (f"_schedule_phases[{k}]: saved {phase!r}, torch's OneCycleLR "
                    f"anneals between {dict(zip(_PHASE_KEYS, keys))}")
    saved_ends = [_number(f"_schedule_phases[{k}]['end_step']", phase.get("end_step"))
                  for k, phase in enumerate(phases)]
    # torch's own float expressions, evaluated by the schedule: equal arguments give
    # equal ends.
    ends = scheduler._schedules[0]._phase_ends()
    if saved_ends != ends:
        return (f"pct_start: the saved phases end at steps {saved_ends}, this "
                f"scheduler's (pct_start={p['pct_start']!r}) at {ends}")
    anneal = state_dict.get("_anneal_func_type")
    if anneal is None:
        anneal = _OLD_ANNEAL_NAMES.get(
            str(getattr(state_dict.get("anneal_func"), "__name__", "")))
    if anneal != p["anneal"]:
        return f"anneal_strategy: saved {anneal!r}, this scheduler has {p['anneal']!r}"
    firsts = [one_cycle_keys(s)["initial_lr"] for s in scheduler._schedules]
    diff = _numbers_difference("base_lrs", state_dict["base_lrs"], firsts)
    if diff:
        return f"{diff} (max_lr / div_factor)"
    diff = _momentum_difference(scheduler, state_dict)
    if diff:
        return diff
    return _group_difference(scheduler)


def _group_difference(scheduler):
    """torch's OneCycleLR reads its bounds from the param groups at every step (the
    optimizer's state_dict restores them); where the groups hold them, they must be
    this scheduler's."""
    groups = scheduler.optimizer.param_groups
    for k, (group, s) in enumerate(zip(groups, scheduler._schedules)):
        ours = one_cycle_keys(s)
        if scheduler._momenta is not None:
            ours.update(momentum_keys(scheduler._momenta[k]))
        for key, value in ours.items():
            if key in group and _number(key, group[key]) != value:
                return (f"param_groups[{k}][{key!r}]: the optimizer holds "
                        f"{group[key]!r} (torch's OneCycleLR would go on with it), "
                        f"this scheduler has {value!r}")
    return None


CYCLIC = TorchFormat(_TORCH_CYCLIC_KEYS, _cyclic_difference, _cyclic_updates)
ONE_CYCLE = TorchFormat(_TORCH_ONE_CYCLE_KEYS, _one_cycle_difference)


def _restarts_difference(scheduler, state_dict: dict):
    """torch's CosineAnnealingWarmRestarts state against the scheduler.

    torch keeps its position as ``T_cur`` (steps into the cycle) and ``T_i`` (the
    cycle's length) beside ``last_epoch``. A run stepped once per batch has them where
    the schedule has them at ``last_epoch``; a run stepped with fractional epochs
    (``step(epoch + i / iters)``) or resumed with ``last_epoch`` for ``T_mult > 1``
    (torch then restarts its count at ``(last_epoch + 1) % T_0``) does not, and cannot
    be continued as torch would continue it.
    """
    p = scheduler._schedules[0].params
    for name, ours in (("T_0", p["first_cycle"]), ("T_mult", p["cycle_mult"]),
                       ("eta_min", p["min_lr"])):
        if _number(name, state_dict[name]) != ours:
            return f"{name}: saved {state_dict[name]!r}, this scheduler has {ours!r}"
    diff = _numbers_difference("base_lrs", state_dict["base_lrs"],
                               [s.params["max_lr"] for s in scheduler._schedules])
    if diff:
        return f"{diff} (each param group's initial lr)"
    last_epoch, _ = _saved_counters(state_dict)
    ours = scheduler._cycle_at(last_epoch)
    saved = tuple(_number(name, state_dict[name]) for name in ("T_i", "T_cur"))
    if saved != ours:
        return (f"T_i, T_cur: saved {state_dict['T_i']!r}, {state_dict['T_cur']!r} at "
                f"last_epoch={last_epoch}, where a run stepped once per batch has "
                f"{ours[0]!r}, {ours[1]!r} (was it stepped with fractional epochs, or "
                f"resumed with last_epoch?); only a per-batch run continues here")
    return None


RESTARTS = TorchFormat(
    {"T_0", "T_i", "T_mult", "eta_min", "T_cur", "base_lrs", "last_epoch", "_step_count"},
    _restarts_difference)
