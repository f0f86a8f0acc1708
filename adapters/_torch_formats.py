"""States saved by torch's own ``CyclicLR``, ``OneCycleLR`` and
``CosineAnnealingWarmRestarts``, read by the drop-ins of ``cyclr.adapters.torch``.

Each :class:`TorchFormat` recognises such a state by its keys and names its first
difference from the scheduler loading it (torch keeps only some arguments, as floats it
computed, so each is compared the way torch computed it); ``load_state_dict`` in
``_torch_state`` then goes on from the saved step. Also here: what torch's classes keep
in each param group, which the drop-ins keep there too.

Imported by ``cyclr.adapters.torch`` only, once torch is known to import.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch

from cyclr import Schedule

from ._torch_state import object_state, saved_counters


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

    def __init__(self, keys: Iterable[str],
                 difference: Callable[[Any, dict[str, Any]], str | None],
                 updates: Callable[[Any, dict[str, Any]], list[tuple[Any, dict[str, Any]]]]
                 | None = None) -> None:
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
    if saved is None or fn is None or object_state(fn) is None:
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
    last_epoch, _ = saved_counters(state_dict)
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
