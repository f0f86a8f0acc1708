"""The paper's practical advice as functions: how long a half cycle should be.

Smith (2017), section 3.3: "it is good to set stepsize equal to 2 - 10 times the number
of iterations in an epoch", and training is best stopped at the end of a cycle, when
the LR is back at its minimum (see ``Cyclic.cycle_ends`` and ``Cyclic.steps_for_cycles``).
"""

from __future__ import annotations

import math

from . import _validate as v

PAPER_EPOCHS_PER_HALF_CYCLE = (2, 10)


def iterations_per_epoch(num_examples: int, batch_size: int, *,
                         drop_last: bool = False) -> int:
    """Optimizer updates in one pass over ``num_examples`` in batches of ``batch_size``.

    Args:
        num_examples: examples in one epoch, an integer >= 1.
        batch_size: examples per update, an integer >= 1.
        drop_last: whether the last, partial batch is dropped (as a DataLoader with
            ``drop_last=True`` does).

    Returns:
        The number of updates per epoch.

    Raises:
        TypeError, ValueError: for invalid arguments, naming the argument and value.

    Examples:
        >>> iterations_per_epoch(50_000, 100)
        500
        >>> iterations_per_epoch(1797, 64), iterations_per_epoch(1797, 64, drop_last=True)
        (29, 28)
    """
    num_examples = v.count("num_examples", num_examples, minimum=1)
    batch_size = v.count("batch_size", batch_size, minimum=1)
    if drop_last:
        if batch_size > num_examples:
            raise ValueError(
                f"batch_size must be <= num_examples with drop_last, got "
                f"batch_size={batch_size}, num_examples={num_examples}")
        return num_examples // batch_size
    return math.ceil(num_examples / batch_size)


def suggest_step_size(num_examples: int, batch_size: int, epochs_per_half_cycle: float = 4,
                      *, drop_last: bool = False) -> int:
    """The paper's step size: ``epochs_per_half_cycle`` epochs of iterations (it advises
    2 to 10; the default 4 is its CIFAR-10 setting, 2000 steps of 500 per epoch).

    Args:
        num_examples: examples in one epoch, an integer >= 1.
        batch_size: examples per optimizer update, an integer >= 1.
        epochs_per_half_cycle: epochs in half a cycle, > 0 (the paper: 2 to 10).
        drop_last: whether the last, partial batch of an epoch is dropped.

    Returns:
        The step size, an integer >= 1.

    Raises:
        TypeError, ValueError: for invalid arguments, or a step size beyond
            2**62 (the largest a cyclic schedule takes), naming the argument.

    Examples:
        >>> suggest_step_size(50_000, 100)
        2000
    """
    epochs = v.positive("epochs_per_half_cycle", epochs_per_half_cycle)
    per_epoch = iterations_per_epoch(num_examples, batch_size, drop_last=drop_last)
    steps = epochs * per_epoch
    if not steps < 2.0**62:
        raise ValueError(
            f"epochs_per_half_cycle={epochs_per_half_cycle!r} epochs of {per_epoch} "
            f"iterations is {steps:g} steps, more than a step size can be (2**62)")
    return max(1, round(steps))
