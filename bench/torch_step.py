"""Section 3: ``scheduler.step()`` of cyclr's PyTorch drop-ins against torch's own
``CyclicLR``, ``OneCycleLR`` and ``CosineAnnealingWarmRestarts``, on the same kind of
optimizer (SGD with momentum, so momentum is cycled too, except by
``CosineAnnealingWarmRestarts``, which has none), with 1 and with 4 parameter groups.

Only the scheduler step is timed: it is the whole cost a scheduler adds to training.
"""

from __future__ import annotations

import math

from _harness import Row, best_of, fmt_time, skipped


def _optimizer(torch, groups: int):
    params = [torch.nn.Parameter(torch.zeros(4)) for _ in range(groups)]
    opt = torch.optim.SGD([{"params": [p]} for p in params], lr=0.01, momentum=0.9)
    for p in params:
        p.grad = torch.zeros_like(p)
    return opt


def _scheduler(cls, opt, kwargs):
    scheduler = cls(opt, **kwargs)
    opt.step()     # after the scheduler wraps it: schedulers warn if they step first
    return scheduler


def run(number: int, repeat: int) -> list[Row]:
    """Section-3 rows."""
    import torch

    label = "cyclr.adapters.torch"
    try:
        from cyclr.adapters import torch as adapter
    except ModuleNotFoundError as e:
        if e.name != label:
            raise
        return [skipped(3, f"`{name}.step()`", f"torch `{name}`", f"{label} not written yet")
                for name in ("CyclicLR", "OneCycleLR", "CosineAnnealingWarmRestarts")]
    total = (repeat + 1) * number + 10     # OneCycleLR refuses to step past its end
    configs = {
        "CyclicLR": dict(base_lr=1e-4, max_lr=1e-2, step_size_up=2000),
        "OneCycleLR": dict(max_lr=1e-2, total_steps=total),
        # Short first cycle, doubling: the timed steps cross several restarts.
        "CosineAnnealingWarmRestarts": dict(T_0=1000, T_mult=2, eta_min=1e-5),
    }
    rows = []
    for name, kwargs in configs.items():
        for groups in (1, 4):
            ours = _scheduler(getattr(adapter, name), _optimizer(torch, groups), kwargs)
            theirs = _scheduler(getattr(torch.optim.lr_scheduler, name),
                                _optimizer(torch, groups), kwargs)
            t = best_of({"cyclr": ours.step, "torch": theirs.step}, number=number,
                        repeat=repeat)
            if not all(math.isclose(a, b, rel_tol=1e-12)
                       for a, b in zip(ours.get_last_lr(), theirs.get_last_lr())):
                raise AssertionError(f"{name}: cyclr and torch disagree after stepping")
            rows.append(Row(3, f"`{name}.step()`, SGD momentum, {groups} group(s)",
                            f"torch `{name}.step()`", fmt_time(t["cyclr"]),
                            fmt_time(t["torch"]), t["cyclr"] / t["torch"], ("<=", 0.3)))
    return rows
