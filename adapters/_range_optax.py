"""The LR range test for JAX and Optax: ``range_test(loss_fn, params, batches, optax.sgd)``.

Pure function style: the test trains its own copy of the parameters with a fresh
optimizer state and returns only the curve. The caller's ``params`` are never written
to (JAX arrays are immutable; NumPy leaves are only read, no buffer is donated).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import jax
import jax.numpy as jnp
import optax

from cyclr.rangetest import RangeTest, RangeTestResult

from ._range_loop import run


def range_test(loss_fn: Callable[[Any, Any], Any], params: Any, batches: Iterable[Any],
               optimizer: Callable[..., optax.GradientTransformation], *,
               start_lr: float = 1e-7, end_lr: float = 10.0, num_steps: int = 100,
               mode: str = "exp", has_aux: bool = False,
               accuracy_fn: Callable[[Any, Any], Any] | None = None, val_batch: Any = None,
               jit: bool = True, smoothing: float = 0.8, diverge_factor: float | None = 5.0,
               progress: bool = True) -> RangeTestResult:
    """Run an LR range test with Optax, leaving every input as it was.

    The optimizer is built as ``optimizer(lr_schedule)``, where ``lr_schedule(count)``
    looks the ramp up in an array (the LR of update ``count``), so one compiled step
    serves every LR. Each step records the loss of the batch (computed with the
    parameters before the update, as for the gradient) and, with ``accuracy_fn``, the
    accuracy on that batch; with ``val_batch``, the loss and accuracy on it after the
    update instead.

    Args:
        loss_fn: ``loss_fn(params, batch)`` -> scalar loss (or ``(loss, aux)`` with
            ``has_aux=True``); differentiable with ``jax.grad``.
        params: the initial parameters, any pytree.
        batches: an iterable of batches: any pytrees ``loss_fn`` accepts (tuples,
            Hugging Face-style dicts ...), ``loss_fn`` being the hook that unpacks them;
            iterated again when it runs out, unless it is a one-shot iterator, in which
            case the test stops there.
        optimizer: a factory taking the learning rate first, e.g. ``optax.sgd``,
            ``optax.adam`` or ``functools.partial(optax.sgd, momentum=0.9)``.
        start_lr, end_lr, num_steps, mode, smoothing, diverge_factor, progress: as for
            :class:`cyclr.RangeTest`.
        has_aux: whether ``loss_fn`` returns ``(loss, aux)``.
        accuracy_fn: optional ``accuracy_fn(params, batch)`` -> scalar accuracy.
        val_batch: optional batch to evaluate loss (and accuracy) on after each update.
        jit: compile the step with ``jax.jit`` (turn off for a ``loss_fn`` that cannot
            be traced).

    Returns:
        A :class:`cyclr.RangeTestResult`.

    Raises:
        ValueError, TypeError: for invalid arguments, naming the argument and value.

    Examples:
        >>> result = range_test(loss_fn, params, batches, optax.adam,
        ...                     start_lr=1e-5, end_lr=1.0)  # doctest: +SKIP
        >>> base_lr, max_lr = result.suggest()  # doctest: +SKIP
    """
    for name, fn in (("loss_fn", loss_fn), ("optimizer", optimizer)):
        if not callable(fn):
            raise TypeError(f"{name} must be callable, got {fn!r}")
    if accuracy_fn is not None and not callable(accuracy_fn):
        raise TypeError(f"accuracy_fn must be callable, got {accuracy_fn!r}")
    rt = RangeTest(start_lr, end_lr, num_steps, mode=mode, smoothing=smoothing,
                   diverge_factor=diverge_factor, progress=progress)
    table = jnp.asarray(rt.lrs)
    last = len(rt.lrs) - 1
    tx = optimizer(lambda count: table[jnp.minimum(count, last)])
    if not isinstance(tx, optax.GradientTransformation):
        raise TypeError(f"optimizer(learning_rate) must return an optax "
                        f"GradientTransformation, got {tx!r}")

    def loss_only(p, batch):
        out = loss_fn(p, batch)
        return out[0] if has_aux else out

    def step(p, opt_state, batch):
        loss, grads = jax.value_and_grad(loss_only)(p, batch)
        acc = accuracy_fn(p, batch) if accuracy_fn is not None else None
        updates, opt_state = tx.update(grads, opt_state, p)
        p = optax.apply_updates(p, updates)
        if val_batch is not None:
            loss = loss_only(p, val_batch)
            acc = accuracy_fn(p, val_batch) if accuracy_fn is not None else None
        return p, opt_state, loss, acc

    if jit:
        step = jax.jit(step)
    state = {"params": params, "opt": tx.init(params)}

    def train(lr, data):
        batch = next(data, None)
        if batch is None:
            return None
        state["params"], state["opt"], loss, acc = step(state["params"], state["opt"], batch)
        return float(loss), None if acc is None else float(acc)

    return run(rt, batches, "batches", train)


__all__ = ["range_test"]
