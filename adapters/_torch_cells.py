"""``tensor_lr``: a param group's LR (and Adam-style ``betas[0]``) as a 0-d tensor that a
scheduler writes in place.

A ``torch.compile``-d optimizer step guards on a float LR's value, and recompiles when it
changes; a tensor LR is one object whose contents change, so the compiled step is kept.
A :class:`Cell` is such a tensor, float64 on the CPU, sharing its memory with a numpy
array: writing the array costs no torch op per step.

Imported by ``cyclr.adapters.torch`` only, once torch is known to import.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


class Cell:
    """A 0-d float64 CPU tensor that shares memory with a 0-d numpy array.

    Writing the array updates the tensor in place, like ``fill_``, without a torch op
    per write: the value object a compiled optimizer step reads stays the same.
    """

    __slots__ = ("array", "tensor")

    def __init__(self, value: float) -> None:
        self.array = np.array(float(value), dtype=np.float64)
        self.tensor = torch.from_numpy(self.array)


def install_cells(group: dict[str, Any], key: str | None) -> tuple[Cell | None, Cell | None]:
    """Put tensors in a group for tensor_lr; the cells for its LR and momentum (None
    where the group already held a tensor, which is then filled in place).

    Args:
        group: a param group of the optimizer.
        key: where the group keeps its momentum (``"betas"`` or ``"momentum"``), or None
            when no momentum is scheduled. SGD's ``momentum`` stays a float: SGD
            branches on it in Python, where a tensor would break the graph.
    """
    lr_cell = momentum_cell = None
    if not isinstance(group["lr"], torch.Tensor):
        lr_cell = Cell(group["lr"])
        group["lr"] = lr_cell.tensor
    if key == "betas":
        first, *rest = group["betas"]
        if not isinstance(first, torch.Tensor):
            momentum_cell = Cell(first)
            first = momentum_cell.tensor
        # Adam accepts betas that are both floats or both tensors.
        group["betas"] = (first, *(_as_tensor(b) for b in rest))
    return lr_cell, momentum_cell


def set_value(group: dict[str, Any], key: str, value: float) -> None:
    """``group[key] = value``, in place where the group holds a tensor."""
    current = group[key]
    if isinstance(current, torch.Tensor):
        current.fill_(value)
    else:
        group[key] = value


def _as_tensor(value: Any) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    return torch.tensor(float(value), dtype=torch.float64)
