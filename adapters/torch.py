"""PyTorch learning-rate schedulers whose every value comes from a cyclr schedule.

``CyclicLR``, ``OneCycleLR`` and ``CosineAnnealingWarmRestarts`` take exactly the
constructor arguments of torch's classes of those names (change the import, nothing
else; ``CyclicLR`` adds ``shape=``); ``ScheduleLR`` drives an optimizer with any cyclr
schedule, chains included. All subclass torch's ``LRScheduler``. Where they differ from
torch, on purpose:

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
- the three drop-ins also resume from a state saved by torch's own classes, when built
  with the same arguments;
- a ``last_epoch`` the next step would carry past ``2**63 - 1`` (the largest step of a
  schedule) is refused; a constructor that raises leaves the optimizer as it was;
- ``group["initial_lr"]`` is never read (except by ``CosineAnnealingWarmRestarts``,
  whose peak LR it is, as in torch), so a scheduler created after another one on the
  same optimizer, or resumed with ``last_epoch`` on an optimizer without
  ``initial_lr``, still follows its own schedule;
- ``tensor_lr=True`` keeps ``group["lr"]`` a 0-d tensor updated in place, so that a
  ``torch.compile``-d optimizer step is not recompiled as the LR changes.

Checkpoint code (states, scale_fn records) lives in ``_torch_state``, the reading of
torch's saved states in ``_torch_formats``, the checks of torch-named arguments in ``_torch_args``, and the
``tensor_lr`` cells in ``_torch_cells``.

References:
    L. N. Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017.
    I. Loshchilov and F. Hutter, "SGDR: Stochastic Gradient Descent with Warm
    Restarts", ICLR 2017.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import _require

with _require(__name__, "torch"):
    import torch
    from torch.optim import Optimizer
    from torch.optim.lr_scheduler import EPOCH_DEPRECATION_WARNING, LRScheduler

import cyclr
from cyclr import Schedule
from cyclr.schedules import Anneal, Policy, ScaleFn, ScaleMode, Shape

from ._torch_args import (
    PerGroup,
    check_last_epoch,
    check_optimizer,
    cyclr_schedules,
    momentum_key,
    one_cycle_steps,
    per_group,
    positive_int,
    torch_names,
    whole_step,
)
from ._torch_cells import install_cells, set_value
from ._torch_formats import CYCLIC, ONE_CYCLE, RESTARTS, momentum_keys, one_cycle_keys
from ._torch_state import Checkpoints, untouched_on_error

if TYPE_CHECKING:
    from ._range_torch import range_test

__all__ = ["CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR", "ScheduleLR", "range_test"]

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


def __getattr__(name: str) -> Any:
    # The range test runner lives in its own module; import it only when asked for
    # (type checkers see it through the TYPE_CHECKING import above).
    if name == "range_test":
        from ._range_torch import range_test

        return range_test
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ScheduleLR(Checkpoints, LRScheduler):
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

    def __init__(self, optimizer: Optimizer, schedule_or_list: PerGroup[Schedule], *,
                 momentum: PerGroup[Schedule] | None = None, last_epoch: int = -1,
                 tensor_lr: bool = False) -> None:
        check_optimizer(optimizer)
        n = len(optimizer.param_groups)
        schedules = cyclr_schedules("schedule_or_list", schedule_or_list, n)
        momenta = None if momentum is None else cyclr_schedules("momentum", momentum, n)
        self._setup(optimizer, schedules, momenta, last_epoch, tensor_lr)

    # -- shared by every class here ---------------------------------------------------

    def _setup(self, optimizer: Optimizer, schedules: Sequence[Schedule],
               momenta: Sequence[Schedule] | None, last_epoch: int, tensor_lr: bool,
               group_keys: Sequence[dict[str, float]] | None = None) -> None:
        """Check the last arguments, then set up the optimizer's groups: a bad argument
        leaves the optimizer untouched."""
        last_epoch = check_last_epoch(last_epoch)
        if not isinstance(tensor_lr, bool):
            raise TypeError(f"tensor_lr must be a bool, got {tensor_lr!r}")
        key = None if momenta is None else momentum_key(optimizer)
        self._momentum_key = key
        self.tensor_lr = tensor_lr
        groups = optimizer.param_groups
        # Everything above only reads; from here on the optimizer changes, and is put
        # back as it was if anything fails (a scale_fn raising at the first step, say).
        with untouched_on_error(optimizer):
            if last_epoch == -1 and group_keys is not None:
                for group, extra in zip(groups, group_keys):
                    group.update(extra)
            self._cells = tuple(install_cells(group, key) if tensor_lr else (None, None)
                                for group in groups)
            self._install(schedules, momenta)
            for group, schedule in zip(groups, self._schedules):
                # torch's base class requires initial_lr to resume; this scheduler does
                # not read it, but other torch schedulers created later on this
                # optimizer do.
                group.setdefault("initial_lr", schedule(0))
            super().__init__(optimizer, last_epoch)
        self.base_lrs = [s(0) for s in self._schedules]

    def _install(self, schedules: Sequence[Schedule],
                 momenta: Sequence[Schedule] | None) -> None:
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
                       else [distinct.index(m) for m in momenta])
        self._distinct = tuple(distinct)
        # Each group's index is kept in its slot: the step loop then indexes the groups
        # rather than zipping them (a zip costs more than the rest of a one-group step).
        self._slots = tuple((k, lr, m, *c) for k, (lr, m, c)
                            in enumerate(zip(lr_at, momentum_at, self._cells)))

    @property
    def schedules(self) -> tuple[Schedule, ...]:
        """The LR schedule of each param group."""
        return self._schedules

    @property
    def momentum_schedules(self) -> tuple[Schedule, ...] | None:
        """The momentum schedule of each param group, or None."""
        return self._momenta

    def step(self, epoch: int | None = None) -> None:
        """Advance one step and set the next values; call after ``optimizer.step()``.

        Args:
            epoch: deprecated in torch; jumps to that step (with torch's warning).
        """
        if self._step_count == 1:
            if not hasattr(self.optimizer.step, "_wrapped_by_lr_sched"):
                warnings.warn(_OVERRIDDEN_STEP, UserWarning, stacklevel=2)
            elif not getattr(self.optimizer, "_opt_called", False):
                warnings.warn(_STEP_ORDER, UserWarning, stacklevel=2)
        i = self.last_epoch + 1 if epoch is None else self._epoch(epoch)
        # The counters move only once the step's values are set: a step that fails
        # (past step 2**63 - 1, or a scale_fn that raises) leaves the scheduler as it was.
        self._apply(i)
        self.last_epoch = i
        self._step_count += 1

    def _epoch(self, epoch: int) -> int:
        """The step ``step(epoch)`` goes to, with torch's deprecation warning."""
        warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=3)
        return whole_step(epoch)

    def _cycle_momentum(self, optimizer: Optimizer, schedules: Sequence[Schedule],
                        cycle: bool, base_momentum: PerGroup[float],
                        max_momentum: PerGroup[float]) -> list[Schedule] | None:
        """torch's cycle_momentum: momentum schedules inverse to the LR ones, or None."""
        self.cycle_momentum = cycle
        if not cycle:
            return None
        self.use_beta1 = momentum_key(optimizer) == "betas"
        n = len(schedules)
        bases = per_group("base_momentum", base_momentum, n)
        tops = per_group("max_momentum", max_momentum, n)
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
        for k, lr_at, momentum_at, lr_cell, momentum_cell in self._slots:
            group = groups[k]
            lr = values[lr_at]
            lrs.append(lr)
            if type(group["lr"]) is float:
                group["lr"] = lr
            elif lr_cell is not None and group["lr"] is lr_cell.tensor:
                lr_cell.array[()] = lr
            else:
                set_value(group, "lr", lr)
            if momentum_at < 0:
                continue
            value = values[momentum_at]
            if not betas:
                if type(group["momentum"]) is float:
                    group["momentum"] = value
                else:
                    set_value(group, "momentum", value)
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

    def get_lr(self) -> list[float]:
        """The LRs at the current step, from the schedules (use :meth:`get_last_lr`)."""
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, "
                          "please use `get_last_lr()`.", UserWarning, stacklevel=2)
        return [s(self.last_epoch) for s in self._schedules]


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

    def __init__(self, optimizer: Optimizer, base_lr: PerGroup[float],
                 max_lr: PerGroup[float], step_size_up: float = 2000,
                 step_size_down: float | None = None, mode: Policy = "triangular",
                 gamma: float = 1.0, scale_fn: ScaleFn | None = None,
                 scale_mode: ScaleMode = "cycle", cycle_momentum: bool = True,
                 base_momentum: PerGroup[float] = 0.8, max_momentum: PerGroup[float] = 0.9,
                 last_epoch: int = -1, *, shape: Shape = "linear",
                 tensor_lr: bool = False) -> None:
        check_optimizer(optimizer)
        n = len(optimizer.param_groups)
        base_lrs = per_group("base_lr", base_lr, n)
        max_lrs = per_group("max_lr", max_lr, n)
        with torch_names(step_size="step_size_up", policy="mode"):
            schedules = [
                cyclr.cyclic(low, high, step_size_up, step_size_down=step_size_down,
                             policy=mode, gamma=gamma, scale_fn=scale_fn,
                             scale_mode=scale_mode, shape=shape)
                for low, high in zip(base_lrs, max_lrs)]
        momenta = self._cycle_momentum(optimizer, schedules, cycle_momentum,
                                       base_momentum, max_momentum)
        group_keys = [momentum_keys(m) for m in momenta] if momenta else None
        self.max_lrs = [s.params["max_lr"] for s in schedules]
        self.mode, self.gamma = mode, gamma
        self.scale_mode = schedules[0].params["scale_mode"]
        self._setup(optimizer, schedules, momenta, last_epoch, tensor_lr, group_keys)

    _torch_format = CYCLIC


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

    def __init__(self, optimizer: Optimizer, max_lr: PerGroup[float],
                 total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: Anneal = "cos", cycle_momentum: bool = True,
                 base_momentum: PerGroup[float] = 0.85, max_momentum: PerGroup[float] = 0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4,
                 three_phase: bool = False, last_epoch: int = -1, *,
                 tensor_lr: bool = False) -> None:
        check_optimizer(optimizer)
        total = one_cycle_steps(total_steps, epochs, steps_per_epoch)
        n = len(optimizer.param_groups)
        peaks = per_group("max_lr", max_lr, n)
        # Every group has the same phases: a degenerate run's warning is given once,
        # not once per group.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with torch_names(anneal="anneal_strategy"):
                schedules = [
                    cyclr.one_cycle(peak, total, pct_start=pct_start,
                                    anneal=anneal_strategy, div_factor=div_factor,
                                    final_div_factor=final_div_factor,
                                    three_phase=three_phase)
                    for peak in peaks]
        for category, message in dict.fromkeys((w.category, str(w.message)) for w in caught):
            warnings.warn(message.replace("one_cycle:", "OneCycleLR:", 1), category,
                          stacklevel=2)
        # torch keeps these in each group (its OneCycleLR reads them back); keep them for
        # code that looks there. The schedule itself never reads them.
        group_keys = [one_cycle_keys(s) for s in schedules]
        momenta = self._cycle_momentum(optimizer, schedules, cycle_momentum,
                                       base_momentum, max_momentum)
        for extra, m in zip(group_keys, momenta or ()):
            extra.update(momentum_keys(m))
        self.total_steps = total
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

    def state_dict(self) -> dict[str, Any]:
        """The state of :class:`ScheduleLR`, and whether the past-the-end warning was
        given."""
        state = super().state_dict()
        state["_warned_past_end"] = self._warned_past_end
        return state

    def _load_extra(self, state_dict: dict[str, Any]) -> None:
        self._warned_past_end = bool(state_dict.get("_warned_past_end", False))

    _torch_format = ONE_CYCLE


class CosineAnnealingWarmRestarts(ScheduleLR):
    """Drop-in for ``torch.optim.lr_scheduler.CosineAnnealingWarmRestarts`` (SGDR),
    computed by ``cyclr.cosine_restarts``.

    Same arguments, defaults and meaning as torch 2.x, plus ``tensor_lr``. Group ``k``
    follows ``cyclr.cosine_restarts(lr_k, T_0, min_lr=eta_min, cycle_mult=T_mult)``,
    where ``lr_k`` is, as in torch, the group's ``initial_lr`` when it has one (always
    when resuming with ``last_epoch``), else its ``lr``. Stepped once per batch it equals
    torch's class step for step, except at a restart where torch's rounding of
    ``eta_min + (lr_k - eta_min)`` lands past ``lr_k``: cyclr stays at ``lr_k``. ``T_0``,
    ``T_i``, ``T_cur``, ``T_mult``, ``eta_min``, ``base_lrs`` and ``last_epoch`` read as
    torch's do (``T_i`` and ``T_cur`` are read-only, from the schedule's cycle starts).
    ``load_state_dict`` also takes the state of torch's own class built with the same
    arguments and stepped per batch, and goes on as torch would. Where it differs from
    torch, on purpose:

    - ``step(epoch)`` takes a whole step only; for torch's fractional epochs
      (``step(epoch + i / iters)``) give ``T_0`` in batches and call ``step()`` once per
      batch. A whole ``epoch`` lands exactly on the schedule, also where torch's
      floating-point ``log`` puts it in the wrong cycle;
    - ``last_epoch=k`` continues the run at step ``k + 1``; torch's class, for
      ``T_mult > 1`` and ``k + 1 >= T_0``, takes ``T_cur = (k + 1) % T_0``;
    - ``eta_min`` must be in ``[0, lr_k]`` (torch anneals upwards, or below zero).

    Like torch's class it leaves the momentum alone; to cycle it with the restarts, use
    ``ScheduleLR(optimizer, s, momentum=s.momentum_schedule(0.85, 0.95))`` with
    ``s = cyclr.cosine_restarts(...)``.

    Args:
        optimizer: the wrapped optimizer.
        T_0: steps in the first cycle, a positive integer.
        T_mult: growth of each cycle's length, an integer >= 1. Default 1.
        eta_min: the LR each cycle anneals to. Default 0.
        last_epoch: ``-1`` to start; ``k`` to start at step ``k + 1``.
        tensor_lr: see :class:`ScheduleLR`.

    Raises:
        ValueError, TypeError: for invalid arguments, naming them; when resuming with
            ``last_epoch`` and a group has no ``initial_lr``.

    Examples:
        >>> import torch
        >>> from cyclr.adapters.torch import CosineAnnealingWarmRestarts
        >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
        >>> sched = CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
        >>> lrs = []
        >>> for _ in range(7):
        ...     lrs.append(opt.param_groups[0]["lr"])
        ...     opt.step()
        ...     sched.step()
        >>> [round(lr, 4) for lr in lrs], sched.T_i, sched.T_cur
        ([1.0, 0.5, 1.0, 0.8536, 0.5, 0.1464, 1.0], 8, 1)
    """

    _torch_format = RESTARTS
    T_0: int
    T_mult: int
    eta_min: float

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1, *, tensor_lr: bool = False) -> None:
        check_optimizer(optimizer)
        T_0 = positive_int("T_0", T_0)
        if isinstance(T_mult, bool) or not isinstance(T_mult, numbers.Integral) or T_mult < 1:
            raise ValueError(
                f"T_mult must be an integer >= 1, got {T_mult!r} (for a fractional one, "
                f"drive cyclr.cosine_restarts(..., cycle_mult=...) with ScheduleLR)")
        resuming = check_last_epoch(last_epoch) != -1
        schedules = []
        for k, group in enumerate(optimizer.param_groups):
            key = "initial_lr" if resuming or "initial_lr" in group else "lr"
            if key not in group:
                raise ValueError(
                    f"param_groups[{k}] has no 'initial_lr' to resume from with "
                    f"last_epoch={last_epoch!r}: load the optimizer's state_dict first "
                    f"(torch's class raises a KeyError here)")
            peak = group[key]
            if isinstance(peak, torch.Tensor) and peak.numel() == 1:
                peak = peak.item()
            with torch_names(max_lr=f"param_groups[{k}][{key!r}]", min_lr="eta_min"):
                schedules.append(cyclr.cosine_restarts(peak, T_0, min_lr=eta_min,
                                                       cycle_mult=int(T_mult)))
        self.T_0, self.T_mult = T_0, int(T_mult)
        self.eta_min = schedules[0].params["min_lr"]
        self._setup(optimizer, schedules, None, last_epoch, tensor_lr)

    def _cycle_at(self, i: int) -> tuple[int, int]:
        """``(T_i, T_cur)`` at step ``i``: the length of the cycle holding it, and its
        offset there."""
        start, length = self._schedules[0].cycle_at(i)
        return int(length), i - start

    @property
    def T_i(self) -> int:
        """Steps in the current cycle (torch's ``T_i``)."""
        return self._cycle_at(self.last_epoch)[0]

    @property
    def T_cur(self) -> int:
        """Steps since the last restart (torch's ``T_cur``)."""
        return self._cycle_at(self.last_epoch)[1]

    def _epoch(self, epoch: int) -> int:
        """The step ``step(epoch)`` goes to: a whole one (torch's class takes a whole
        epoch without its deprecation warning, and so does this one).

        Raises:
            ValueError: ``epoch`` is not a whole step in ``[0, 2**63 - 1]``.
        """
        if isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral):
            raise ValueError(
                f"epoch must be a whole step, got epoch={epoch!r}: cyclr counts whole "
                f"steps. For the schedule torch gives step(epoch + i / iters), give T_0 "
                f"in batches (T_0 * iters) and call step() with no argument once per "
                f"batch")
        return whole_step(epoch)
