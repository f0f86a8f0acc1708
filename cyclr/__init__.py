"""cyclr: cyclical learning rates with one Cython core for PyTorch, Keras 3 and Optax.

Importing cyclr imports numpy and nothing heavier; framework adapters live in
``cyclr.adapters.torch``, ``cyclr.adapters.keras`` and ``cyclr.adapters.optax``.
"""

from .advice import iterations_per_epoch, suggest_step_size
from .policies import (
    chain,
    constant,
    cosine,
    cosine_restarts,
    cyclic,
    decay,
    exp_range,
    exponential,
    linear,
    one_cycle,
    step_decay,
    triangular,
    triangular2,
)
from .rangetest import RangeTest, RangeTestResult
from .schedules import (
    Chain,
    Constant,
    Cosine,
    CosineRestarts,
    Cyclic,
    Decay,
    Exponential,
    Linear,
    Momentum,
    OneCycle,
    Schedule,
    StepDecay,
)
from .serialize import from_dict, to_dict

__version__ = "0.1.0"

__all__ = [
    "Chain", "Constant", "Cosine", "CosineRestarts", "Cyclic", "Decay", "Exponential",
    "Linear", "Momentum", "OneCycle", "RangeTest", "RangeTestResult", "Schedule",
    "StepDecay", "chain", "constant", "cosine", "cosine_restarts", "cyclic", "decay",
    "exp_range", "exponential", "from_dict", "iterations_per_epoch", "linear", "one_cycle",
    "step_decay", "suggest_step_size", "to_dict", "triangular", "triangular2",
]
