"""User functions (a ``scale_fn``) saved by import path, found without importing."""

from __future__ import annotations

import sys


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
    if found is not fn or not isinstance(qualname, str) or "<" in qualname:
        raise ValueError(
            f"scale_fn must be a module-level function to be saved by import path, got "
            f"{fn!r}; define it at the top level of a module, or rebuild the schedule "
            f"in code instead of serializing it"
        )
    return f"{module}:{qualname}"
