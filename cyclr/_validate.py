"""Argument checks shared by every constructor: each names the parameter and the value."""

from __future__ import annotations

import math
import numbers
import operator


def real(name: str, value) -> float:
    """``value`` as a float: a real number (Python, numpy, or a 0-d array or tensor, whose
    value is copied out), not a bool."""
    if not isinstance(value, numbers.Real) and getattr(value, "shape", None) == ():
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    try:
        return float(value)
    except OverflowError:        # an int or Fraction beyond float range
        raise ValueError(f"{name} must be finite, got {value!r}") from None


def finite(name: str, value) -> float:
    x = real(name, value)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return x


def rate(name: str, value) -> float:
    """A learning rate or momentum: finite and >= 0."""
    x = finite(name, value)
    if x < 0.0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return x + 0.0              # -0.0 becomes 0.0: equal schedules give equal values


def positive(name: str, value) -> float:
    x = finite(name, value)
    if not x > 0.0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return x


def _index(name: str, value, what: str):
    """operator.index(value), or None for a non-integer; bools and arrays are refused."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be {what}, got {value!r}")
    if not hasattr(type(value), "__index__"):
        return None
    try:
        return operator.index(value)
    except TypeError:            # e.g. numpy arrays define __index__ but refuse
        raise TypeError(f"{name} must be {what}, got {value!r}") from None


def span(name: str, value) -> int | float:
    """A step size or a step count that may be fractional (as torch allows): finite, > 0;
    whole numbers come back as int so that repr and equality read naturally."""
    x = _index(name, value, "a number > 0")
    if x is not None:
        if x <= 0:
            raise ValueError(f"{name} must be > 0, got {value!r}")
        if x >= 2**62:
            raise ValueError(f"{name} must be < 2**62, got {value!r}")
        return x
    x = positive(name, value)
    if x >= 2.0**62:
        raise ValueError(f"{name} must be < 2**62, got {value!r}")
    return int(x) if x.is_integer() else x


def gamma(name: str, value) -> float:
    x = finite(name, value)
    if not 0.0 < x <= 1.0:
        raise ValueError(f"{name} must be in (0, 1], got {value!r}")
    return x


def count(name: str, value, minimum: int = 0) -> int:
    """An integer (Python or numpy, not bool, not float) >= ``minimum``."""
    x = _index(name, value, f"an integer >= {minimum}")
    if x is None:
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if x < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if x > 2**63 - 1:
        raise ValueError(f"{name} must be an integer <= 2**63 - 1, got {value!r}")
    return x


def choice(name: str, value, options) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {sorted(options)}, got {value!r}")
    # A plain str first (numpy.str_, or a subclass whose __eq__ lies), then the check.
    text = str.__str__(value)
    if text not in options:
        raise ValueError(f"{name} must be one of {sorted(options)}, got {value!r}")
    return text


def ordered(low_name: str, low: float, high_name: str, high: float) -> None:
    if low > high:
        raise ValueError(
            f"{high_name} must be >= {low_name}, got {low_name}={low!r}, {high_name}={high!r}"
        )
