"""Schedule objects: immutable, picklable values that compute an LR (or momentum) per step.

Every class here only validates and describes itself; the numbers come from the C
kernels in ``cyclr._core`` (``Kernel``), which each schedule is an instance of. One
module per family: ``_base`` (``Schedule``, ``Momentum``, ``Field``), ``cyclic``,
``one_cycle``, ``baselines``, ``anneals`` (linear, cosine, warm restarts) and ``chain``.
Everything is importable from ``cyclr.schedules``, so code and pickles that name
``cyclr.schedules.Cyclic`` (as 0.1.0's single module did) keep working.

References:
    L. N. Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017.
    L. N. Smith, "Super-Convergence" (2018) and "A disciplined approach to neural network
    hyper-parameters" (2018), for 1cycle and cyclical momentum.
    I. Loshchilov and F. Hutter, "SGDR: Stochastic Gradient Descent with Warm
    Restarts", ICLR 2017.
"""

from ._base import (
    FORMAT_VERSION,
    MAX_CYCLE_ENDS,
    Anneal,
    Ends,
    Field,
    Momentum,
    Policy,
    ScaleFn,
    ScaleMode,
    Schedule,
    Segment,
    Shape,
    _rebuild,
)
from .anneals import MAX_RESTART_CYCLES, Cosine, CosineRestarts, Linear, _restart_cycles
from .baselines import Constant, Decay, Exponential, StepDecay
from .chain import MAX_CHAIN_SIZE, MAX_NESTING, Chain
from .cyclic import Cyclic
from .one_cycle import OneCycle

__all__ = [
    "FORMAT_VERSION", "MAX_CHAIN_SIZE", "MAX_CYCLE_ENDS", "MAX_NESTING",
    "MAX_RESTART_CYCLES", "Anneal", "Chain", "Constant", "Cosine", "CosineRestarts",
    "Cyclic", "Decay", "Ends", "Exponential", "Field", "Linear", "Momentum", "OneCycle",
    "Policy", "ScaleFn", "ScaleMode", "Schedule", "Segment", "Shape", "StepDecay",
    "_restart_cycles",
]
