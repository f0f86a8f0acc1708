"""Schedules as JSON-safe dicts, and back, strictly.

A dict carries ``"version"`` (the format version) and ``"type"``, then exactly the
schedule's constructor parameters. What a type is called and what its parameters are
lives on its class (``type_name`` and ``fields``, registered when the class is
defined); this module reads descriptions by that table. ``from_dict`` treats its input
as untrusted: every key and type is checked, unknown versions, types and keys are
errors, and a custom
``scale_fn`` (stored as ``"module:qualname"``) is only resolved, and its module only
imported, when the caller passes ``allow_imports=True``.
"""

from __future__ import annotations

import importlib
import numbers
from typing import Any, Callable

from ._functions import function_path
from .schedules import FORMAT_VERSION, Field, Schedule

__all__ = ["FORMAT_VERSION", "MAX_DEPTH", "fill_nulls", "from_dict", "function_path",
           "to_dict"]


def to_dict(schedule: Schedule) -> dict:
    """``schedule`` as a JSON-safe dict (see the module docstring);
    ``schedule.to_dict()`` does the same.

    Args:
        schedule: any cyclr schedule.

    Returns:
        ``{"version": 1, "type": ..., <constructor parameters>}``, nested for chains
        and momentum schedules.

    Raises:
        TypeError: for anything that is not a cyclr schedule.
        ValueError: for a ``scale_fn`` that is not a module-level function.

    Examples:
        >>> import cyclr
        >>> cyclr.to_dict(cyclr.constant(0.1))
        {'version': 1, 'type': 'constant', 'lr': 0.1}
    """
    if not isinstance(schedule, Schedule) or type(schedule).type_name is None:
        raise TypeError(f"schedule must be a cyclr schedule, got {schedule!r}")
    return schedule.to_dict()


def _class_of(kind):
    """The registered schedule class of a description's ``"type"``, or None."""
    return Schedule.registry.get(kind) if isinstance(kind, str) else None


def fill_nulls(data):
    """A copy of ``data`` with every nullable key it lacks set to None, at every depth:
    for formats without a null, such as TOML. Anything else is left for ``from_dict``
    to judge."""
    cls = _class_of(data.get("type")) if isinstance(data, dict) else None
    if cls is None:
        return data
    data = dict(data)
    for key, kind in cls.fields.items():
        if kind in (Field.OPT_NUMBER, Field.SCALE_FN):
            data.setdefault(key, None)
        elif kind == Field.SCHEDULE and key in data:
            data[key] = fill_nulls(data[key])
        elif kind == Field.SEGMENTS and isinstance(data.get(key), list):
            data[key] = [
                {"steps": None, **seg, "schedule": fill_nulls(seg.get("schedule"))}
                if isinstance(seg, dict) and "schedule" in seg else seg
                for seg in data[key]]
    return data


#: Deepest nesting (chains of chains, momentum of ...) a description may have.
MAX_DEPTH = 64


def from_dict(data: Any, *, allow_imports: bool = False,
              resolve_function: Callable[[str], Any] | None = None) -> Schedule:
    """The schedule that ``to_dict`` described.

    Args:
        data: a dict as written by ``Schedule.to_dict`` (for example read from JSON).
        allow_imports: resolve a custom ``scale_fn`` stored as ``"module:qualname"``,
            importing its module. Off by default: only turn it on for trusted input.
        resolve_function: instead of importing, a function that maps a stored
            ``"module:qualname"`` to the callable to use (or raises ValueError); for
            callers with their own registry of trusted functions.

    Returns:
        The schedule, equal to the one that was described.

    Raises:
        TypeError, ValueError: for anything that is not a valid description.

    Examples:
        >>> import cyclr
        >>> s = cyclr.triangular2(0.001, 0.006, 2000)
        >>> cyclr.from_dict(s.to_dict()) == s
        True
    """
    if resolve_function is None:
        resolve_function = _import_function if allow_imports else _refuse_function
    return _read(data, resolve_function, 0)


def _read(data, resolve_function, depth):
    if depth > MAX_DEPTH:
        raise ValueError(f"schedule description is nested deeper than {MAX_DEPTH} levels")
    if not isinstance(data, dict):
        raise TypeError(f"schedule description must be a dict, got {type(data).__name__}")
    version = data.get("version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ValueError(
            f"version must be {FORMAT_VERSION} (the only format this cyclr reads), "
            f"got {version!r}")
    kind = data.get("type")
    cls = _class_of(kind)
    if cls is None:
        raise ValueError(f"type must be one of {sorted(Schedule.registry)}, got {kind!r}")
    fields = cls.fields
    given = set(data) - {"version", "type"}
    if given != set(fields):
        missing = sorted(set(fields) - given)
        extra = sorted(map(repr, given - set(fields)))
        raise ValueError(f"{kind} description: missing keys {missing}, unknown keys "
                         f"[{', '.join(extra)}]")
    kwargs = {key: _field(kind, key, how, data[key], resolve_function, depth)
              for key, how in fields.items()}
    return cls(**kwargs)


def _field(kind, key, how, value, resolve_function, depth):
    name = f"{kind}.{key}"
    if how == Field.SCHEDULE:
        return _read(value, resolve_function, depth + 1)
    if how == Field.SEGMENTS:
        if not isinstance(value, list) or not value:
            raise TypeError(f"{name} must be a non-empty list, got {value!r}")
        segments = []
        for k, segment in enumerate(value):
            if not isinstance(segment, dict) or set(segment) != {"schedule", "steps"}:
                raise ValueError(
                    f"{name}[{k}] must be a dict with keys 'schedule' and 'steps', "
                    f"got {segment!r}")
            steps = segment["steps"]
            if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int)):
                raise TypeError(f"{name}[{k}].steps must be an int or null, got {steps!r}")
            segments.append((_read(segment["schedule"], resolve_function, depth + 1), steps))
        return tuple(segments)
    if how == Field.SCALE_FN:
        if value is None:
            return None
        if not isinstance(value, str) or value.count(":") != 1:
            raise TypeError(
                f"{name} must be a 'module:qualname' string or null, got {value!r}")
        return resolve_function(value)
    ok = {
        Field.NUMBER: isinstance(value, numbers.Real) and not isinstance(value, bool),
        Field.OPT_NUMBER: value is None or (isinstance(value, numbers.Real)
                                            and not isinstance(value, bool)),
        Field.STR: isinstance(value, str),
        Field.BOOL: isinstance(value, bool),
        Field.INT: isinstance(value, int) and not isinstance(value, bool),
    }[how]
    if not ok:
        raise TypeError(f"{name} must be a {how}, got {value!r}")
    return value


def _refuse_function(path):
    raise ValueError(
        f"scale_fn is {path!r}; resolving it imports code, so from_dict does it only "
        f"with allow_imports=True (pass that for input you trust)")


def _import_function(path):
    module, qualname = path.split(":")
    try:
        found = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"scale_fn {path!r} cannot be resolved: {exc}") from None
    if not callable(found):
        raise TypeError(f"scale_fn {path!r} is not callable")
    return found
