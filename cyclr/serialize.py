"""Schedules as JSON-safe dicts, and back, strictly.

A dict carries ``"version"`` (the format version) and ``"type"``, then exactly the
schedule's constructor parameters. ``from_dict`` treats its input as untrusted: every
key and type is checked, unknown versions, types and keys are errors, and a custom
``scale_fn`` (stored as ``"module:qualname"``) is only resolved, and its module only
imported, when the caller passes ``allow_imports=True``.
"""

from __future__ import annotations

import importlib
import numbers
import sys

from .schedules import (
    Chain,
    Constant,
    Cyclic,
    Decay,
    Exponential,
    Momentum,
    OneCycle,
    Schedule,
    StepDecay,
)

FORMAT_VERSION = 1

_TYPES = {
    "cyclic": Cyclic,
    "one_cycle": OneCycle,
    "momentum": Momentum,
    "constant": Constant,
    "decay": Decay,
    "exponential": Exponential,
    "step_decay": StepDecay,
    "chain": Chain,
}
_NAMES = {cls: name for name, cls in _TYPES.items()}

# Parameter kinds, for checking untrusted input before any constructor sees it.
_NUMBER, _OPT_NUMBER, _STR, _BOOL, _INT = "number", "number or null", "string", "bool", "int"
_FIELDS = {
    "cyclic": {"base_lr": _NUMBER, "max_lr": _NUMBER, "step_size": _NUMBER,
               "step_size_down": _OPT_NUMBER, "policy": _STR, "gamma": _NUMBER,
               "scale_fn": "scale_fn", "scale_mode": _STR, "shape": _STR},
    "one_cycle": {"max_lr": _NUMBER, "total_steps": _INT, "pct_start": _NUMBER,
                  "anneal": _STR, "div_factor": _NUMBER, "final_div_factor": _NUMBER,
                  "three_phase": _BOOL},
    "momentum": {"schedule": "schedule", "base_momentum": _NUMBER, "max_momentum": _NUMBER},
    "constant": {"lr": _NUMBER},
    "decay": {"max_lr": _NUMBER, "base_lr": _NUMBER, "steps": _NUMBER},
    "exponential": {"lr": _NUMBER, "gamma": _NUMBER},
    "step_decay": {"lr": _NUMBER, "gamma": _NUMBER, "step_size": _NUMBER},
    "chain": {"segments": "segments"},
}


def to_dict(schedule: Schedule) -> dict:
    """``schedule`` as a JSON-safe dict (see the module docstring)."""
    if type(schedule) not in _NAMES:
        raise TypeError(f"schedule must be a cyclr schedule, got {schedule!r}")
    out = {"version": FORMAT_VERSION, "type": _NAMES[type(schedule)]}
    for key, value in schedule.params.items():
        if key == "schedule":
            value = to_dict(value)
        elif key == "segments":
            value = [{"schedule": to_dict(s), "steps": n} for s, n in value]
        elif key == "scale_fn" and value is not None:
            value = function_path(value)
        out[key] = value
    return out


def function_path(fn) -> str:
    """``fn``'s import path ``"module:qualname"``, found without importing anything.

    Raises:
        ValueError: unless ``fn`` is a module-level function reachable by that path.
    """
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    found = sys.modules.get(module) if isinstance(module, str) else None
    for part in (qualname or "<none>").split("."):
        found = getattr(found, part, None)
    if found is not fn or "<" in qualname:
        raise ValueError(
            f"scale_fn must be a module-level function to be saved by import path, got "
            f"{fn!r}; define it at the top level of a module, or rebuild the schedule "
            f"in code instead of serializing it"
        )
    return f"{module}:{qualname}"


def fill_nulls(data):
    """A copy of ``data`` with every nullable key it lacks set to None, at every depth:
    for formats without a null, such as TOML. Anything else is left for ``from_dict``
    to judge."""
    if not isinstance(data, dict) or data.get("type") not in _FIELDS:
        return data
    data = dict(data)
    for key, kind in _FIELDS[data["type"]].items():
        if kind in (_OPT_NUMBER, "scale_fn"):
            data.setdefault(key, None)
        elif kind == "schedule" and key in data:
            data[key] = fill_nulls(data[key])
        elif kind == "segments" and isinstance(data.get(key), list):
            data[key] = [
                {"steps": None, **seg, "schedule": fill_nulls(seg.get("schedule"))}
                if isinstance(seg, dict) and "schedule" in seg else seg
                for seg in data[key]]
    return data


#: Deepest nesting (chains of chains, momentum of ...) a description may have.
MAX_DEPTH = 64


def from_dict(data, *, allow_imports: bool = False, resolve_function=None) -> Schedule:
    """The schedule that ``to_dict`` described.

    Args:
        data: a dict as written by ``Schedule.to_dict`` (for example read from JSON).
        allow_imports: resolve a custom ``scale_fn`` stored as ``"module:qualname"``,
            importing its module. Off by default: only turn it on for trusted input.
        resolve_function: instead of importing, a function that maps a stored
            ``"module:qualname"`` to the callable to use (or raises ValueError); for
            callers with their own registry of trusted functions.

    Raises:
        TypeError, ValueError: for anything that is not a valid description.
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
    if not isinstance(kind, str) or kind not in _TYPES:
        raise ValueError(f"type must be one of {sorted(_TYPES)}, got {kind!r}")
    fields = _FIELDS[kind]
    given = set(data) - {"version", "type"}
    if given != set(fields):
        missing = sorted(set(fields) - given)
        extra = sorted(map(repr, given - set(fields)))
        raise ValueError(f"{kind} description: missing keys {missing}, unknown keys "
                         f"[{', '.join(extra)}]")
    kwargs = {key: _field(kind, key, how, data[key], resolve_function, depth)
              for key, how in fields.items()}
    return _TYPES[kind](**kwargs)


def _field(kind, key, how, value, resolve_function, depth):
    name = f"{kind}.{key}"
    if how == "schedule":
        return _read(value, resolve_function, depth + 1)
    if how == "segments":
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
    if how == "scale_fn":
        if value is None:
            return None
        if not isinstance(value, str) or value.count(":") != 1:
            raise TypeError(
                f"{name} must be a 'module:qualname' string or null, got {value!r}")
        return resolve_function(value)
    ok = {
        _NUMBER: isinstance(value, numbers.Real) and not isinstance(value, bool),
        _OPT_NUMBER: value is None or (isinstance(value, numbers.Real)
                                       and not isinstance(value, bool)),
        _STR: isinstance(value, str),
        _BOOL: isinstance(value, bool),
        _INT: isinstance(value, int) and not isinstance(value, bool),
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
