"""Arguments of cyclr's PyTorch schedulers, checked as torch's schedulers name them.

The schedulers of ``cyclr.adapters.torch`` take torch's argument names (``step_size_up``,
``mode``, ``anneal_strategy``, ``T_0`` ...), while the core names its own; an error
raised by the core is re-raised here under the name the user typed. Every check raises
a TypeError or ValueError naming the argument and its value.

Imported by ``cyclr.adapters.torch`` only, once torch is known to import.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, TypeVar, Union

from torch.optim import Optimizer

from cyclr import Schedule

from . import renamed_errors
from ._torch_state import MAX_STEP

# torch's own text, so that filters written for torch's schedulers keep working.
NO_MOMENTUM = "optimizer must support momentum or beta1 with `cycle_momentum` option enabled"

T = TypeVar("T")
#: One value for every param group, or a list or tuple of one value per group.
PerGroup = Union[T, Sequence[T]]


def check_optimizer(optimizer: Any) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__} "
            f"({type(optimizer).__name__} is not an Optimizer)")


def per_group(name: str, value: Any, n_groups: int) -> list[Any]:
    """One value per param group: a list/tuple of that length, or one value for all."""
    if isinstance(value, (list, tuple)):
        if len(value) != n_groups:
            raise ValueError(
                f"{name} must have the same length as optimizer.param_groups ({n_groups}), "
                f"got {len(value)} values: {value!r}")
        return list(value)
    return [value] * n_groups


def cyclr_schedules(name: str, value: Any, n_groups: int) -> list[Schedule]:
    """One cyclr schedule per param group (see :func:`per_group`)."""
    values = per_group(name, value, n_groups)
    for k, s in enumerate(values):
        if not isinstance(s, Schedule):
            where = f"{name}[{k}]" if isinstance(value, (list, tuple)) else name
            raise TypeError(f"{where} must be a cyclr schedule, got {s!r}")
    return values


def check_last_epoch(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"last_epoch must be an integer >= -1, got {value!r}")
    step = int(value)
    if step < -1:
        raise ValueError(f"last_epoch must be an integer >= -1, got {value!r}")
    if step >= MAX_STEP:
        raise ValueError(f"last_epoch must be < 2**63 - 1, got {value!r}: the next step "
                         f"would pass the largest step a schedule takes, 2**63 - 1")
    return step


def whole_step(epoch: Any) -> int:
    """The step that ``step(epoch)`` jumps to: an integer in ``[0, 2**63 - 1]``."""
    if (isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral)
            or not 0 <= int(epoch) <= MAX_STEP):
        raise ValueError(f"epoch must be an integer in [0, 2**63 - 1], got {epoch!r}")
    return int(epoch)


def positive_int(name: str, value: Any) -> int:
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
            or int(value) <= 0):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def one_cycle_steps(total_steps: Any, epochs: Any, steps_per_epoch: Any) -> int:
    """OneCycleLR's length: ``total_steps``, or ``epochs * steps_per_epoch``."""
    if total_steps is not None:
        return positive_int("total_steps", total_steps)
    if epochs is not None and steps_per_epoch is not None:
        return (positive_int("epochs", epochs)
                * positive_int("steps_per_epoch", steps_per_epoch))
    raise ValueError(
        "You must define either total_steps OR (epochs AND steps_per_epoch); got "
        f"total_steps={total_steps!r}, epochs={epochs!r}, "
        f"steps_per_epoch={steps_per_epoch!r}")


def momentum_key(optimizer: Optimizer) -> str:
    """Where an optimizer keeps its momentum: Adam-style ``betas[0]`` or SGD's
    ``momentum`` (torch's rule: ``betas`` wins when an optimizer has both)."""
    if "betas" in optimizer.defaults:
        return "betas"
    if "momentum" in optimizer.defaults:
        return "momentum"
    raise ValueError(
        f"{NO_MOMENTUM}: {type(optimizer).__name__} has neither 'momentum' nor 'betas'")


#: Re-raise the core's argument errors under torch's argument names (``step_size`` ->
#: ``step_size_up`` ...), so that messages name what the user typed.
torch_names = renamed_errors
