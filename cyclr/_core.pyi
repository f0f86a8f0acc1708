"""Types of the Cython kernels in ``cyclr/_core.pyx`` (for editors and type checkers)."""

from typing import Callable, SupportsIndex, TypeVar

import numpy as np
import numpy.typing as npt

_Out = TypeVar("_Out", npt.NDArray[np.float64], npt.NDArray[np.float32])

class Kernel:
    """The C side of a schedule: parameters, the one-step value and the fill.

    Not for direct use: ``cyclr.schedules`` builds every schedule on top of it. Each
    ``_setup_*`` runs once per instance, with keyword arguments named by their role.
    """

    def _setup_constant(self, *, lr: float) -> None: ...
    def _setup_exponential(self, *, lr: float, gamma: float) -> None: ...
    def _setup_step_decay(self, *, lr: float, gamma: float, step_size: float) -> None: ...
    def _setup_cyclic(
        self,
        *,
        low: float,
        high: float,
        step_size: float,
        step_size_down: float,
        shape: str,
        envelope: str,
        gamma: float = ...,
        scale_fn: Callable[[int], float] | None = ...,
        inverted: bool = ...,
    ) -> None: ...
    def _setup_one_cycle(
        self,
        *,
        ends: list[float],
        starts: list[float],
        stops: list[float],
        anneal: str,
        last_step: int,
    ) -> None: ...
    def _setup_ramp(self, *, start: float, end: float, steps: float, how: str) -> None: ...
    def _setup_restarts(
        self,
        *,
        low: float,
        high: float,
        first_cycle: float,
        amplitude_decay: float,
        inverted: bool = ...,
        cycles: tuple | None = ...,
    ) -> None: ...
    def _setup_chain(self, *, kernels: tuple[Kernel, ...],
                     lengths: list[int | None]) -> None: ...
    def __call__(self, i: SupportsIndex) -> float:
        """The value at step ``i`` (int >= 0), as a Python float."""
    def _fill(self, out: _Out, start: SupportsIndex) -> _Out:
        """Write steps ``start .. start+len(out)-1`` into ``out``, a writeable,
        C-contiguous, 1-D float64 or float32 numpy array. Returns ``out``."""
