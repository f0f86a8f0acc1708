"""Framework adapters, each opt-in: ``cyclr.adapters.torch``, ``cyclr.adapters.keras``,
``cyclr.adapters.optax`` and ``cyclr.adapters.lightning``. Importing this package
imports no framework."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

# The framework each extra installs, as its users name it.
_FRAMEWORKS = {"torch": "PyTorch", "keras": "Keras 3 and TensorFlow", "jax": "JAX and optax",
               "lightning": "PyTorch Lightning"}


@contextlib.contextmanager
def _require(adapter: str, extra: str) -> Iterator[None]:
    """Turns a failed framework import in the block into an error naming cyclr's extra.

    Wraps an adapter module's framework imports, so that ``import cyclr.adapters.torch``
    without torch says what to install rather than only "No module named 'torch'".

    Args:
        adapter: the adapter module's name (its ``__name__``).
        extra: the cyclr extra that installs the framework: ``"torch"``, ``"keras"``,
            ``"jax"`` or ``"lightning"``.

    Raises:
        ImportError: raised in the block, re-raised with a message naming
            ``pip install "cyclr[<extra>]"``, chained to the original; a
            ``ModuleNotFoundError`` stays one, so ``except ModuleNotFoundError`` and
            ``pytest.importorskip`` still see what they expect.
    """
    try:
        yield
    except ImportError as error:
        kind = ModuleNotFoundError if isinstance(error, ModuleNotFoundError) else ImportError
        raise kind(
            f"{adapter} needs {_FRAMEWORKS[extra]}, which could not be imported "
            f"({error}); install it with: pip install \"cyclr[{extra}]\"",
            name=error.name) from error


@contextlib.contextmanager
def renamed_errors(**names: str) -> Iterator[None]:
    """Re-raise the core's argument errors in the block under a framework's argument
    names (``step_size`` -> ``step_size_up``, ``max_lr`` -> ``initial_learning_rate``
    ...), so that a drop-in's messages name what the user typed.

    Args:
        **names: the core's parameter name -> the framework's.

    Raises:
        TypeError, ValueError: the one raised in the block, its message renamed (an
            error that names none of them is re-raised as it is).
    """
    try:
        yield
    except (TypeError, ValueError) as exc:
        message = str(exc)
        for core, theirs in names.items():
            message = re.sub(rf"\b{core}\b", theirs, message)
        if message == str(exc) or type(exc) not in (TypeError, ValueError):
            raise
        raise type(exc)(message) from None
