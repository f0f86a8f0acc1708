"""PyTorch learning-rate schedulers whose every value comes from a cyclr schedule.

``CyclicLR`` and ``OneCycleLR`` take exactly the constructor arguments of torch's
``CyclicLR`` / ``OneCycleLR`` (change the import, nothing else; ``CyclicLR`` adds
``shape=``); ``ScheduleLR`` drives an optimizer with any cyclr schedule, chains
included. All subclass torch's ``LRScheduler``. Where they differ from torch, on purpose:

- after ``i`` calls of ``step()`` a group's LR is exactly ``schedule(i)`` (float64), with
  no drift over long runs; ``get_last_lr()`` returns those floats;
- arguments are validated (e.g. ``gamma`` in (0, 1], ``base_lr <= max_lr``), and errors
  name the argument and the value;
- ``OneCycleLR`` stepped past ``total_steps`` holds its final LR and warns once (torch
  raises);
- ``state_dict()`` holds the schedules as plain data (``Schedule.to_dict()``, a custom
  ``scale_fn`` by its import path), loadable with ``torch.load(weights_only=True)``;
  ``load_state_dict`` raises, naming the difference, when the saved schedules are not
  the ones this scheduler was built with (torch keeps or drops them silently), and
  writes the restored step's values into the optimizer. A custom ``scale_fn`` is also
  recorded by its values at a few cycles (or steps), so that a lambda or closure that
  computes other values is refused too; a callable object's ``__dict__`` is saved and
  restored, as torch does;
- ``CyclicLR`` and ``OneCycleLR`` also resume from a state saved by torch's own classes,
  when built with the same arguments;
- a ``last_epoch`` the next step would carry past ``2**63 - 1`` (the largest step of a
  schedule) is refused; a constructor that raises leaves the optimizer as it was;
- ``group["initial_lr"]`` is never read, so a scheduler created after another one on the
  same optimizer, or resumed with ``last_epoch`` on an optimizer without
  ``initial_lr``, still follows its own schedule;
- ``tensor_lr=True`` keeps ``group["lr"]`` a 0-d tensor updated in place, so that a
  ``torch.compile``-d optimizer step is not recompiled as the LR changes.

References:
    L. N. Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import re
import types
import warnings

import numpy as np

from . import _require

with _require(__name__, "torch"):
    import torch
    from torch.optim import Optimizer
    from torch.optim.lr_scheduler import EPOCH_DEPRECATION_WARNING, LRScheduler

import cyclr
from cyclr import Chain, Cyclic, Momentum, Schedule

__all__ = ["CyclicLR", "OneCycleLR", "ScheduleLR", "range_test"]

# torch's own text, so that filters written for torch's schedulers keep working.
_OVERRIDDEN_STEP = (
    "Seems like `optimizer.step()` has been overridden after learning rate scheduler "
    "initialization. Please, make sure to call `optimizer.step()` before "
    "`lr_scheduler.step()`. See more details at "
    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate"
)
_STEP_ORDER = (
    "Detected call of `lr_scheduler.step()` before `optimizer.step()`. "
    "In PyTorch 1.1.0 and later, you should call them in the opposite order: "
    "`optimizer.step()` before `lr_scheduler.step()`.  Failure to do this "
    "will result in PyTorch skipping the first value of the learning rate schedule. "
    "See more details at "
    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate"
)
_NO_MOMENTUM = "optimizer must support momentum or beta1 with `cycle_momentum` option enabled"


def __getattr__(name):
    # The range test runner lives in its own module; import it only when asked for.
    if name == "range_test":
        from ._range_torch import range_test

        return range_test
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _check_optimizer(optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__} "
            f"({type(optimizer).__name__} is not an Optimizer)")


def _per_group(name: str, value, n_groups: int) -> list:
    """One value per param group: a list/tuple of that length, or one value for all."""
    if isinstance(value, (list, tuple)):
        if len(value) != n_groups:
            raise ValueError(
                f"{name} must have the same length as optimizer.param_groups ({n_groups}), "
                f"got {len(value)} values: {value!r}")
        return list(value)
    return [value] * n_groups


# The largest step a schedule takes (the core counts steps in int64).
_MAX_STEP = 2**63 - 1


def _last_epoch(value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"last_epoch must be an integer >= -1, got {value!r}")
    if value < -1:
        raise ValueError(f"last_epoch must be an integer >= -1, got {value!r}")
    if value >= _MAX_STEP:
        raise ValueError(f"last_epoch must be < 2**63 - 1, got {value!r}: the next step "
                         f"would pass the largest step a schedule takes, 2**63 - 1")
    return int(value)


def _momentum_key(optimizer) -> str:
    """Where an optimizer keeps its momentum: Adam-style ``betas[0]`` or SGD's
    ``momentum`` (torch's rule: ``betas`` wins when an optimizer has both)."""
    if "betas" in optimizer.defaults:
        return "betas"
    if "momentum" in optimizer.defaults:
        return "momentum"
    raise ValueError(
        f"{_NO_MOMENTUM}: {type(optimizer).__name__} has neither 'momentum' nor 'betas'")


@contextlib.contextmanager
def _torch_names(**names):
    """Re-raise the core's argument errors under torch's argument names
    (``step_size`` -> ``step_size_up`` ...), so that messages name what the user typed."""
    try:
        yield
    except (TypeError, ValueError) as exc:
        message = str(exc)
        for core, theirs in names.items():
            message = re.sub(rf"\b{core}\b", theirs, message)
        if message == str(exc) or type(exc) not in (TypeError, ValueError):
            raise
        raise type(exc)(message) from None


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


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
            or not 0 <= last_epoch < _MAX_STEP):
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
def _untouched_on_error(optimizer):
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


class ScheduleLR(LRScheduler):
    """Set each param group's LR (and optionally momentum) from cyclr schedules.

    After ``i`` calls of :meth:`step` (``last_epoch == i``), group ``k`` has
    ``lr == schedules[k](i)``, the LR for optimizer update ``i + 1``. Call ``step()``
    after ``optimizer.step()``, once per batch.

    Args:
        optimizer: the wrapped optimizer.
        schedule_or_list: a cyclr schedule for every group, or a list with one per
            group.
        momentum: optional schedule (or list, one per group) for the momentum, e.g.
            ``s.momentum_schedule(0.85, 0.95)``. It goes to ``betas[0]`` for optimizers
            with ``betas`` (Adam, AdamW, ...), else to ``momentum`` (SGD, RMSprop).
        last_epoch: the number of steps already done minus one; ``-1`` starts at step 0.
            With ``last_epoch=k`` the scheduler starts at step ``k + 1``, as torch's do.
        tensor_lr: keep ``group["lr"]`` (and Adam-style ``betas``) as 0-d tensors
            updated in place, so a ``torch.compile``-d optimizer step sees the same
            tensor every step and is not recompiled when the LR changes (a float LR
            costs dynamo a recompile). Floats become float64 CPU tensors; a tensor
            already in a group keeps its dtype and device (and is always updated in
            place, with or without this flag). SGD's ``momentum`` stays a float: SGD
            branches on it in Python, where a tensor would break the graph. Adam-family
            optimizers need ``foreach=False`` or ``capturable=True`` for tensor LRs
            (torch's rule; ``foreach`` is their default on CUDA).

    Raises:
        TypeError: ``optimizer`` is not an optimizer, or a schedule is not a cyclr
            schedule.
        ValueError: a list's length differs from the number of param groups, or
            ``momentum`` is given for an optimizer without momentum or betas.

    Examples:
        >>> import torch, cyclr
        >>> from cyclr.adapters.torch import ScheduleLR
        >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
        >>> s = cyclr.triangular(0.0, 1.0, 2)
        >>> sched = ScheduleLR(opt, s)
        >>> lrs = [opt.param_groups[0]["lr"]]
        >>> for _ in range(4):
        ...     opt.step()
        ...     sched.step()
        ...     lrs.append(opt.param_groups[0]["lr"])
        >>> lrs
        [0.0, 0.5, 1.0, 0.5, 0.0]
    """

    def __init__(self, optimizer, schedule_or_list, *, momentum=None, last_epoch=-1,
                 tensor_lr=False):
        _check_optimizer(optimizer)
        n = len(optimizer.param_groups)
        schedules = _schedules("schedule_or_list", schedule_or_list, n)
        momenta = None if momentum is None else _schedules("momentum", momentum, n)
        self._setup(optimizer, schedules, momenta, last_epoch, tensor_lr)

    # -- shared by every class here ---------------------------------------------------

    def _setup(self, optimizer, schedules, momenta, last_epoch, tensor_lr,
               group_keys=None) -> None:
        """Check the last arguments, then set up the optimizer's groups: a bad argument
        leaves the optimizer untouched."""
        last_epoch = _last_epoch(last_epoch)
        if not isinstance(tensor_lr, bool):
            raise TypeError(f"tensor_lr must be a bool, got {tensor_lr!r}")
        key = None if momenta is None else _momentum_key(optimizer)
        self._momentum_key = key
        self.tensor_lr = tensor_lr
        groups = optimizer.param_groups
        # Everything above only reads; from here on the optimizer changes, and is put
        # back as it was if anything fails (a scale_fn raising at the first step, say).
        with _untouched_on_error(optimizer):
            if last_epoch == -1 and group_keys is not None:
                for group, extra in zip(groups, group_keys):
                    group.update(extra)
            self._cells = tuple(_install_cells(group, key) if tensor_lr else (None, None)
                                for group in groups)
            self._install(schedules, momenta)
            for group, schedule in zip(groups, self._schedules):
                # torch's base class requires initial_lr to resume; this scheduler does
                # not read it, but other torch schedulers created later on this
                # optimizer do.
                group.setdefault("initial_lr", schedule(0))
            super().__init__(optimizer, last_epoch)
        self.base_lrs = [s(0) for s in self._schedules]

    def _install(self, schedules, momenta) -> None:
        """Follow these schedules from now on."""
        self._schedules = tuple(schedules)
        self._momenta = None if momenta is None else tuple(momenta)
        # Groups built from one scalar argument share equal schedules: ask the core
        # once per distinct schedule and step, not once per group.
        # (Compared with ==, not hashed: a custom scale_fn may be unhashable.)
        distinct = []
        for s in self._schedules + (self._momenta or ()):
            if s not in distinct:
                distinct.append(s)
        lr_at = [distinct.index(s) for s in self._schedules]
        momentum_at = ([-1] * len(lr_at) if momenta is None
                       else [distinct.index(m) for m in self._momenta])
        self._distinct = tuple(distinct)
        self._slots = tuple((lr, m, *c) for lr, m, c in zip(lr_at, momentum_at, self._cells))

    @property
    def schedules(self) -> tuple:
        """The LR schedule of each param group."""
        return self._schedules

    @property
    def momentum_schedules(self) -> tuple | None:
        """The momentum schedule of each param group, or None."""
        return self._momenta

    def step(self, epoch=None) -> None:
        """Advance one step and set the next values; call after ``optimizer.step()``.

        Args:
            epoch: deprecated in torch; jumps to that step (with torch's warning).
        """
        if self._step_count == 1:
            if not hasattr(self.optimizer.step, "_wrapped_by_lr_sched"):
                warnings.warn(_OVERRIDDEN_STEP, UserWarning, stacklevel=2)
            elif not getattr(self.optimizer, "_opt_called", False):
                warnings.warn(_STEP_ORDER, UserWarning, stacklevel=2)
        if epoch is None:
            i = self.last_epoch + 1
        else:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
            if (isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral)
                    or not 0 <= epoch <= _MAX_STEP):
                raise ValueError(f"epoch must be an integer in [0, 2**63 - 1], got {epoch!r}")
            i = int(epoch)
        # The counters move only once the step's values are set: a step that fails
        # (past step 2**63 - 1, or a scale_fn that raises) leaves the scheduler as it was.
        self._apply(i)
        self.last_epoch = i
        self._step_count += 1

    def _cycle_momentum(self, optimizer, schedules, cycle, base_momentum, max_momentum):
        """torch's cycle_momentum: momentum schedules inverse to the LR ones, or None."""
        self.cycle_momentum = cycle
        if not cycle:
            return None
        self.use_beta1 = _momentum_key(optimizer) == "betas"
        n = len(schedules)
        bases = _per_group("base_momentum", base_momentum, n)
        tops = _per_group("max_momentum", max_momentum, n)
        momenta = [s.momentum_schedule(b, t) for s, b, t in zip(schedules, bases, tops)]
        self.base_momentums = [m.params["base_momentum"] for m in momenta]
        self.max_momentums = [m.params["max_momentum"] for m in momenta]
        return momenta

    def _apply(self, i: int) -> None:
        # The hot path: one core call per distinct schedule, then plain assignments
        # (or a write into a tensor_lr cell); none of torch's get_lr machinery.
        values = []                      # a plain loop: cheaper than a comprehension here
        for schedule in self._distinct:
            values.append(schedule(i))
        groups = self.optimizer.param_groups
        if len(groups) != len(self._slots):
            raise ValueError(
                f"the optimizer has {len(groups)} param groups, but this scheduler was "
                f"built for {len(self._slots)}; create the scheduler after add_param_group")
        betas = self._momentum_key == "betas"
        lrs = []
        for group, (lr_at, momentum_at, lr_cell, momentum_cell) in zip(groups, self._slots):
            lr = values[lr_at]
            lrs.append(lr)
            if type(group["lr"]) is float:
                group["lr"] = lr
            elif lr_cell is not None and group["lr"] is lr_cell.tensor:
                lr_cell.array[()] = lr
            else:
                _set(group, "lr", lr)
            if momentum_at < 0:
                continue
            value = values[momentum_at]
            if not betas:
                if type(group["momentum"]) is float:
                    group["momentum"] = value
                else:
                    _set(group, "momentum", value)
                continue
            pair = group["betas"]
            if type(pair[0]) is float:
                group["betas"] = (value, *pair[1:])
            elif momentum_cell is not None and pair[0] is momentum_cell.tensor:
                momentum_cell.array[()] = value
            elif isinstance(pair[0], torch.Tensor):
                pair[0].fill_(value)
            else:
                group["betas"] = (value, *pair[1:])
        self._last_lr = lrs

    def get_lr(self) -> list:
        """The LRs at the current step, from the schedules (use :meth:`get_last_lr`)."""
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, "
                          "please use `get_last_lr()`.", UserWarning, stacklevel=2)
        return [s(self.last_epoch) for s in self._schedules]

    # -- checkpoints ----------------------------------------------------------------

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
        into this scheduler's object first, as torch does. ``CyclicLR`` and
        ``OneCycleLR`` also take a state saved by torch's class of that name, built
        with the same arguments.

        Raises:
            ValueError: the state was saved for other schedules (for example a
                different ``scale_fn``, ``max_lr`` or number of param groups), or its
                ``last_epoch`` is out of range; the message names the first
                difference, and the scheduler, its optimizer and the ``scale_fn``
                objects are left as they were.
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict, got {type(state_dict).__name__}")
        torch_keys = self._torch_keys()
        if "schedules" not in state_dict and torch_keys and torch_keys <= state_dict.keys():
            self._load_torch_state(state_dict)
            return
        needed = ("last_epoch", "_step_count", "schedules", "momentum_schedules")
        missing = [k for k in needed if k not in state_dict]
        if missing:
            theirs = f" nor by torch's {type(self).__name__}" if torch_keys else ""
            raise ValueError(
                f"state_dict lacks {missing}: it was not saved by a cyclr scheduler"
                f"{theirs} (keys: {sorted(map(str, state_dict))})")
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

    # -- states saved by torch's own schedulers -----------------------------------------

    def _torch_keys(self) -> frozenset:
        """The keys by which a state saved by torch's class of this name is known."""
        return frozenset()

    def _torch_difference(self, state_dict: dict):
        """The first difference between a torch-saved state and this scheduler."""
        return None

    def _torch_updates(self, state_dict: dict) -> list:
        """``(scale_fn object, saved __dict__)`` pairs to restore from a torch state."""
        return []

    def _load_torch_state(self, state_dict: dict) -> None:
        diff = self._torch_difference(state_dict)
        if diff:
            name = type(self).__name__
            raise ValueError(
                f"state_dict (saved by torch's {name}) does not match this {name}: "
                f"{diff}. Build the scheduler with the arguments it was saved with")
        last_epoch, step_count = _saved_counters(state_dict)
        updates = self._torch_updates(state_dict)
        with _object_states(updates):
            schedules, momenta = self._after(updates)
            self._switch(schedules, momenta, last_epoch, step_count)

    def _torch_momentum_difference(self, state_dict: dict):
        """torch's cycle_momentum and use_beta1 against this scheduler's."""
        saved = state_dict["cycle_momentum"]
        if saved != self.cycle_momentum:
            return f"cycle_momentum: saved {saved!r}, this scheduler has {self.cycle_momentum!r}"
        if not saved:
            return None
        ours = self._momentum_key == "betas"
        if state_dict.get("use_beta1") != ours:
            return (f"use_beta1: saved {state_dict.get('use_beta1')!r}, this scheduler's "
                    f"optimizer has {'betas' if ours else 'momentum'} (use_beta1={ours!r})")
        return None

    def _load_extra(self, state_dict: dict) -> None:
        """Restore what a subclass adds to the state (called after validation)."""


def _schedules(name: str, value, n_groups: int) -> list:
    values = _per_group(name, value, n_groups)
    for k, s in enumerate(values):
        if not isinstance(s, Schedule):
            where = f"{name}[{k}]" if isinstance(value, (list, tuple)) else name
            raise TypeError(f"{where} must be a cyclr schedule, got {s!r}")
    return values


def _as_tensor(value) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    return torch.tensor(float(value), dtype=torch.float64)


def _install_cells(group: dict, key) -> tuple:
    """Put tensors in a group for tensor_lr; the cells for its LR and momentum (None
    where the group already held a tensor, which is then filled in place)."""
    lr_cell = momentum_cell = None
    if not isinstance(group["lr"], torch.Tensor):
        lr_cell = _Cell(group["lr"])
        group["lr"] = lr_cell.tensor
    if key == "betas":
        first, *rest = group["betas"]
        if not isinstance(first, torch.Tensor):
            momentum_cell = _Cell(first)
            first = momentum_cell.tensor
        # Adam accepts betas that are both floats or both tensors.
        group["betas"] = (first, *(_as_tensor(b) for b in rest))
    return lr_cell, momentum_cell


def _momentum_keys(momentum: Schedule) -> dict:
    # torch's CyclicLR and OneCycleLR keep the bounds in each group too.
    p = momentum.params
    return {"max_momentum": p["max_momentum"], "base_momentum": p["base_momentum"]}


def _set(group: dict, key: str, value: float) -> None:
    current = group[key]
    if isinstance(current, torch.Tensor):
        current.fill_(value)
    else:
        group[key] = value


class _Cell:
    """A 0-d float64 CPU tensor that shares memory with a 0-d numpy array.

    Writing the array updates the tensor in place, like ``fill_``, without a torch op
    per write: the value object a compiled optimizer step reads stays the same.
    """

    __slots__ = ("array", "tensor")

    def __init__(self, value):
        self.array = np.array(float(value), dtype=np.float64)
        self.tensor = torch.from_numpy(self.array)


class CyclicLR(ScheduleLR):
    """Drop-in for ``torch.optim.lr_scheduler.CyclicLR``, computed by ``cyclr.cyclic``.

    Same arguments, defaults and meaning as torch 2.x (``step_size_up`` is cyclr's
    ``step_size``, ``mode`` its ``policy``), plus ``shape`` and ``tensor_lr``. The LR
    after ``i`` steps is ``cyclr.cyclic(...)(i)``; with ``cycle_momentum`` the momentum
    (SGD ``momentum`` or Adam ``betas[0]``) follows ``.momentum_schedule(base_momentum,
    max_momentum)``.

    Args:
        optimizer: the wrapped optimizer.
        base_lr: lower LR bound, one value or a list (one per param group).
        max_lr: upper LR bound, one value or a list.
        step_size_up: steps in the rising half of a cycle. Default 2000.
        step_size_down: steps in the falling half; defaults to ``step_size_up``.
        mode: ``"triangular"``, ``"triangular2"`` or ``"exp_range"``; ignored with a
            ``scale_fn``.
        gamma: exp_range's factor per step, in (0, 1].
        scale_fn: custom amplitude factor. A checkpoint records it by its import path
            (or its repr) and its values at a few cycles or steps, and loads only into
            a scheduler whose ``scale_fn`` computes the same values; a callable
            object's ``__dict__`` is saved and restored, as torch does.
        scale_mode: ``"cycle"`` (``scale_fn`` gets the 1-based cycle number) or
            ``"iterations"`` (it gets the step).
        cycle_momentum: cycle the momentum inversely to the LR.
        base_momentum: momentum at the LR's peak, one value or a list. Default 0.8.
        max_momentum: momentum at the LR's low, one value or a list. Default 0.9.
        last_epoch: ``-1`` to start; ``k`` to start at step ``k + 1``.
        shape: window within a cycle: ``"linear"`` (torch's), ``"welch"`` or ``"hann"``.
        tensor_lr: see :class:`ScheduleLR`.

    ``load_state_dict`` also takes the state of torch's own ``CyclicLR`` built with the
    same arguments, and goes on as torch would.

    Raises:
        ValueError, TypeError: for invalid arguments (naming them), or when
            ``cycle_momentum`` is set and the optimizer has neither momentum nor betas.

    Examples:
        >>> import torch
        >>> from cyclr.adapters.torch import CyclicLR
        >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0, momentum=0.9)
        >>> sched = CyclicLR(opt, base_lr=0.25, max_lr=1.0, step_size_up=3)
        >>> opt.param_groups[0]["lr"], sched.schedules[0](3)
        (0.25, 1.0)
    """

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                 mode="triangular", gamma=1.0, scale_fn=None, scale_mode="cycle",
                 cycle_momentum=True, base_momentum=0.8, max_momentum=0.9, last_epoch=-1,
                 *, shape="linear", tensor_lr=False):
        _check_optimizer(optimizer)
        n = len(optimizer.param_groups)
        base_lrs = _per_group("base_lr", base_lr, n)
        max_lrs = _per_group("max_lr", max_lr, n)
        with _torch_names(step_size="step_size_up", policy="mode"):
            schedules = [
                cyclr.cyclic(low, high, step_size_up, step_size_down=step_size_down,
                             policy=mode, gamma=gamma, scale_fn=scale_fn,
                             scale_mode=scale_mode, shape=shape)
                for low, high in zip(base_lrs, max_lrs)]
        momenta = self._cycle_momentum(optimizer, schedules, cycle_momentum,
                                       base_momentum, max_momentum)
        group_keys = [_momentum_keys(m) for m in momenta] if momenta else None
        self.max_lrs = [s.params["max_lr"] for s in schedules]
        self.mode, self.gamma = mode, gamma
        self.scale_mode = schedules[0].params["scale_mode"]
        self._setup(optimizer, schedules, momenta, last_epoch, tensor_lr, group_keys)

    def _torch_keys(self) -> frozenset:
        return _TORCH_CYCLIC_KEYS

    def _torch_difference(self, state_dict: dict):
        params = [s.params for s in self._schedules]
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
        diff = self._torch_momentum_difference(state_dict)
        if diff or not self.cycle_momentum:
            return diff
        for name, ours in (("base_momentums", self.base_momentums),
                           ("max_momentums", self.max_momentums)):
            diff = _numbers_difference(name, state_dict.get(name), ours)
            if diff:
                return diff
        return None

    def _torch_updates(self, state_dict: dict) -> list:
        # torch restores a callable object's __dict__ into the scale_fn the scheduler
        # was built with, and goes on with it; so does this one.
        fn = self._schedules[0].params["scale_fn"]
        saved = state_dict["_scale_fn_custom"]
        if saved is None or fn is None or _object_state(fn) is None:
            return []
        return [(fn, saved)]


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


class OneCycleLR(ScheduleLR):
    """Drop-in for ``torch.optim.lr_scheduler.OneCycleLR``, computed by ``cyclr.one_cycle``.

    Same arguments, defaults and meaning as torch 2.x (``anneal_strategy`` is cyclr's
    ``anneal``), plus ``tensor_lr``; equal to torch's values step for step on steps
    ``0 .. total_steps - 1``, tiny runs included (see ``cyclr.one_cycle``). Stepped past
    ``total_steps`` it holds the final LR and warns once (torch raises).
    ``load_state_dict`` also takes the state of torch's own ``OneCycleLR`` built with the
    same arguments, and goes on as torch would.

    Args:
        optimizer: the wrapped optimizer.
        max_lr: peak LR, one value or a list (one per param group).
        total_steps: steps in the cycle; or give ``epochs`` and ``steps_per_epoch``.
        epochs: with ``steps_per_epoch``: ``total_steps = epochs * steps_per_epoch``.
        steps_per_epoch: see ``epochs``.
        pct_start: fraction of the cycle spent raising the LR. Default 0.3.
        anneal_strategy: ``"cos"`` or ``"linear"``.
        cycle_momentum: cycle the momentum inversely to the LR.
        base_momentum: momentum at the LR's peak, one value or a list. Default 0.85.
        max_momentum: momentum at the LR's low, one value or a list. Default 0.95.
        div_factor: the first LR is ``max_lr / div_factor``. Default 25.
        final_div_factor: the last LR is ``max_lr / div_factor / final_div_factor``.
        three_phase: come back down to the first LR symmetrically, then anneal.
        last_epoch: ``-1`` to start; ``k`` to start at step ``k + 1``.
        tensor_lr: see :class:`ScheduleLR`.

    Raises:
        ValueError, TypeError: for invalid arguments (naming them), or when
            ``cycle_momentum`` is set and the optimizer has neither momentum nor betas.
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None,
                 steps_per_epoch=None, pct_start=0.3, anneal_strategy="cos",
                 cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
                 div_factor=25.0, final_div_factor=1e4, three_phase=False, last_epoch=-1,
                 *, tensor_lr=False):
        _check_optimizer(optimizer)
        if total_steps is not None:
            total_steps = _positive_int("total_steps", total_steps)
        elif epochs is not None and steps_per_epoch is not None:
            total_steps = (_positive_int("epochs", epochs)
                           * _positive_int("steps_per_epoch", steps_per_epoch))
        else:
            raise ValueError(
                "You must define either total_steps OR (epochs AND steps_per_epoch); got "
                f"total_steps={total_steps!r}, epochs={epochs!r}, "
                f"steps_per_epoch={steps_per_epoch!r}")
        n = len(optimizer.param_groups)
        peaks = _per_group("max_lr", max_lr, n)
        # Every group has the same phases: a degenerate run's warning is given once,
        # not once per group.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with _torch_names(anneal="anneal_strategy"):
                schedules = [
                    cyclr.one_cycle(peak, total_steps, pct_start=pct_start,
                                    anneal=anneal_strategy, div_factor=div_factor,
                                    final_div_factor=final_div_factor,
                                    three_phase=three_phase)
                    for peak in peaks]
        for category, message in dict.fromkeys((w.category, str(w.message)) for w in caught):
            warnings.warn(message.replace("one_cycle:", "OneCycleLR:", 1), category,
                          stacklevel=2)
        # torch keeps these in each group (its OneCycleLR reads them back); keep them for
        # code that looks there. The schedule itself never reads them.
        group_keys = []
        for s in schedules:
            p = s.params
            first = p["max_lr"] / p["div_factor"]
            group_keys.append({"initial_lr": first, "max_lr": p["max_lr"],
                               "min_lr": first / p["final_div_factor"]})
        momenta = self._cycle_momentum(optimizer, schedules, cycle_momentum,
                                       base_momentum, max_momentum)
        for extra, m in zip(group_keys, momenta or ()):
            extra.update(_momentum_keys(m))
        self.total_steps = total_steps
        self._warned_past_end = False
        self._setup(optimizer, schedules, momenta, last_epoch, tensor_lr, group_keys)

    def _apply(self, i: int) -> None:
        if i > self.total_steps and not self._warned_past_end:
            self._warned_past_end = True
            warnings.warn(
                f"OneCycleLR stepped to step {i}, past total_steps={self.total_steps}; "
                f"holding the final learning rate (torch's OneCycleLR raises here). "
                f"Warned once.", UserWarning, stacklevel=3)
        ScheduleLR._apply(self, i)   # no super() lookup: this runs every step

    def state_dict(self) -> dict:
        state = super().state_dict()
        state["_warned_past_end"] = self._warned_past_end
        return state

    def _load_extra(self, state_dict: dict) -> None:
        self._warned_past_end = bool(state_dict.get("_warned_past_end", False))

    def _torch_keys(self) -> frozenset:
        return _TORCH_ONE_CYCLE_KEYS

    def _torch_difference(self, state_dict: dict):
        p = self._schedules[0].params
        if state_dict["total_steps"] != self.total_steps:
            return (f"total_steps: saved {state_dict['total_steps']!r}, this scheduler has "
                    f"{self.total_steps!r}")
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
        ends = self._schedules[0]._phase_ends()
        if saved_ends != ends:
            return (f"pct_start: the saved phases end at steps {saved_ends}, this "
                    f"scheduler's (pct_start={p['pct_start']!r}) at {ends}")
        anneal = state_dict.get("_anneal_func_type")
        if anneal is None:
            anneal = _OLD_ANNEAL_NAMES.get(
                getattr(state_dict.get("anneal_func"), "__name__", None))
        if anneal != p["anneal"]:
            return f"anneal_strategy: saved {anneal!r}, this scheduler has {p['anneal']!r}"
        firsts = [s.params["max_lr"] / s.params["div_factor"] for s in self._schedules]
        diff = _numbers_difference("base_lrs", state_dict["base_lrs"], firsts)
        if diff:
            return f"{diff} (max_lr / div_factor)"
        diff = self._torch_momentum_difference(state_dict)
        if diff:
            return diff
        return self._group_difference()

    def _group_difference(self):
        """torch's OneCycleLR reads its bounds from the param groups at every step (the
        optimizer's state_dict restores them); where the groups hold them, they must be
        this scheduler's."""
        for k, (group, s) in enumerate(zip(self.optimizer.param_groups, self._schedules)):
            p = s.params
            first = p["max_lr"] / p["div_factor"]
            ours = {"initial_lr": first, "max_lr": p["max_lr"],
                    "min_lr": first / p["final_div_factor"]}
            if self._momenta is not None:
                ours.update(_momentum_keys(self._momenta[k]))
            for key, value in ours.items():
                if key in group and _number(key, group[key]) != value:
                    return (f"param_groups[{k}][{key!r}]: the optimizer holds "
                            f"{group[key]!r} (torch's OneCycleLR would go on with it), "
                            f"this scheduler has {value!r}")
        return None
