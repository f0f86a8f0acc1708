"""The LR range test for PyTorch: ``range_test(model, optimizer, loss_fn, train_loader)``.

The model and optimizer come back exactly as they were, whether the test ends, diverges
or raises: their ``state_dict()`` (deep-copied before the test) is loaded back, the
modules' attributes, parameters, buffers and submodules are bound to the objects they
were bound to (a buffer re-assigned in ``forward`` included), every parameter's
``.grad`` is what it was (frozen parameters too; None stays None), train/eval modes
and the optimizer's ``param_groups`` (the same dicts, a tensor LR the same tensor)
too. So do the random states a test draws from: torch's (CPU and CUDA), numpy's and
Python's global generators, and the ``torch.Generator`` of each loader and its sampler
(``DataLoader(..., generator=g)``), so a seeded run continues as if no test had run.

Batches and outputs of any shape go through two hooks, ``batch_fn`` and
``output_fn``; Hugging Face-style dict batches and outputs with ``.logits``/``.loss``
work without them.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import torch

from cyclr import _validate as v
from cyclr.rangetest import RangeTest, RangeTestResult

from ._range_loop import reusable, run


def range_test(model: torch.nn.Module, optimizer: torch.optim.Optimizer,
               loss_fn: Callable[[Any, Any], torch.Tensor] | None,
               train_loader: Iterable[Any], *, start_lr: float = 1e-7,
               end_lr: float = 10.0, num_steps: int = 100, mode: str = "exp",
               val_loader: Iterable[Any] | None = None,
               accuracy_fn: Callable[[Any, Any], Any] | None = None,
               batch_fn: Callable[[Any], tuple[Any, Any]] | None = None,
               output_fn: Callable[[Any], Any] | None = None, accumulation_steps: int = 1,
               device: torch.device | str | None = None, smoothing: float = 0.8,
               diverge_factor: float | None = 5.0, progress: bool = True) -> RangeTestResult:
    """Run an LR range test on ``model`` and leave it, and ``optimizer``, untouched.

    Each step sets the LR of every parameter group to the ramp's value, trains on
    ``accumulation_steps`` batches (their gradients summed, each loss divided by
    ``accumulation_steps``, one ``optimizer.step()``) and records the mean training loss.
    With ``val_loader``, it records the validation loss (and accuracy) after each step
    instead (the paper reads accuracy; this costs one pass over ``val_loader`` a step).

    A batch goes through ``inputs, targets = batch_fn(batch)``; the model is called as
    ``model(**inputs)`` when ``inputs`` is a dict, else ``model(inputs)``. The loss is
    ``loss_fn(output_fn(output), targets)``, or, with ``loss_fn=None``, the loss the
    model returns (``output.loss`` or ``output["loss"]``, as Hugging Face models do when
    the batch holds ``labels``).

    Args:
        model: a ``torch.nn.Module``.
        optimizer: a ``torch.optim.Optimizer`` over the model's parameters.
        loss_fn: ``loss_fn(logits, targets)`` -> a scalar tensor, averaged over the
            batch; or None when the model's output carries its loss.
        train_loader: an iterable of batches (a ``DataLoader``); it is iterated again
            when it runs out, unless it is a one-shot iterator, in which case the test
            stops there.
        start_lr, end_lr, num_steps, mode, smoothing, diverge_factor, progress: as for
            :class:`cyclr.RangeTest`.
        val_loader: optional iterable of batches for validation. A one-shot iterator (a
            generator) is read once, before the first step, and kept in memory (up to
            1000 batches; more are refused).
        accuracy_fn: ``accuracy_fn(logits, targets)`` -> the batch's accuracy in
            [0, 1]. With ``val_loader`` and no ``accuracy_fn``, the top-1 accuracy
            (:func:`top1_accuracy`) is recorded when the logits are class scores along
            dim 1 and the targets class indices; for other outputs (a regression
            model's) no accuracy is recorded. Without ``val_loader``, giving it records
            training-batch accuracy.
        batch_fn: ``batch_fn(batch)`` -> ``(inputs, targets)``. The default takes
            ``(inputs, targets)`` pairs, and dicts (Hugging Face style), whose inputs
            are the whole dict and targets its ``"labels"`` (or ``"label"``), or None.
        output_fn: ``output_fn(output)`` -> the logits that ``loss_fn`` and
            ``accuracy_fn`` read. The default passes a tensor through, and takes
            ``output.logits``, ``output["logits"]``, or the first item of a tuple.
        accumulation_steps: batches per optimizer step, an integer >= 1.
        device: where batches are moved (tensors, also inside dicts, lists and
            tuples); defaults to the device of the model's first parameter.

    Returns:
        A :class:`cyclr.RangeTestResult`.

    Raises:
        ValueError, TypeError: for invalid arguments, naming the argument and value,
            and for a batch or output the hooks cannot unpack, naming the hook.

    Examples:
        >>> result = range_test(model, optimizer, torch.nn.functional.cross_entropy,
        ...                     loader, start_lr=1e-4, end_lr=1.0)  # doctest: +SKIP
        >>> base_lr, max_lr = result.suggest()  # doctest: +SKIP

        A Hugging Face-style model that takes ``**batch`` and returns ``.loss``:

        >>> result = range_test(model, optimizer, None, dict_loader)  # doctest: +SKIP
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {model!r}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {optimizer!r}")
    for name, fn in (("loss_fn", loss_fn), ("accuracy_fn", accuracy_fn),
                     ("batch_fn", batch_fn), ("output_fn", output_fn)):
        if fn is not None and not callable(fn):
            raise TypeError(f"{name} must be callable or None, got {fn!r}")
    accumulation_steps = v.count("accumulation_steps", accumulation_steps, minimum=1)
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")
    rt = RangeTest(start_lr, end_lr, num_steps, mode=mode, smoothing=smoothing,
                   diverge_factor=diverge_factor, progress=progress)
    fwd = _Forward(model, loss_fn, batch_fn or split_batch, output_fn or logits_of, device)
    saved = _snapshot(model, optimizer, (train_loader, val_loader))
    try:
        # After the snapshot: reading a generator may draw random numbers.
        val = None if val_loader is None else reusable(val_loader, "val_loader")
    except BaseException:
        _restore(model, optimizer, saved)
        rt.close()
        raise

    def step(lr, batches):
        _set_lr(optimizer, lr)
        model.train()
        optimizer.zero_grad(set_to_none=True)
        total, correct = 0.0, 0.0
        for _ in range(accumulation_steps):
            batch = next(batches, None)
            if batch is None:
                return None
            loss, logits, targets = fwd(batch, accuracy_fn is not None)
            (loss / accumulation_steps).backward()
            total += loss.item()
            if accuracy_fn is not None:
                with torch.no_grad():
                    correct += float(accuracy_fn(logits, targets))
        optimizer.step()
        if val is not None:
            return _evaluate(fwd, val, accuracy_fn)
        return total / accumulation_steps, (
            correct / accumulation_steps if accuracy_fn is not None else None)

    return run(rt, train_loader, "train_loader", step,
               lambda: _restore(model, optimizer, saved))


def top1_accuracy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The fraction of ``targets`` (class indices) where ``logits`` (class scores along
    dim 1) is largest."""
    return (logits.argmax(dim=1) == targets).float().mean()


def _top1_applies(logits, targets) -> bool:
    return (isinstance(logits, torch.Tensor) and isinstance(targets, torch.Tensor)
            and logits.ndim == targets.ndim + 1 and logits.shape[1] > 1
            and logits.shape[:1] + logits.shape[2:] == targets.shape
            and not targets.is_floating_point() and not targets.is_complex())


def split_batch(batch: Any) -> tuple[Any, Any]:
    """The default ``batch_fn``: ``(inputs, targets)`` from a pair, or from a dict (the
    whole dict as keyword inputs, its ``"labels"`` or ``"label"`` as targets)."""
    if isinstance(batch, Mapping):
        return batch, batch.get("labels", batch.get("label"))
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch[0], batch[1]
    kind = (f"a {type(batch).__name__} of {len(batch)} items"
            if isinstance(batch, (tuple, list)) else f"a {type(batch).__name__}")
    raise TypeError(
        f"cannot split a batch ({kind}) into (inputs, targets): the default batch_fn "
        f"takes (inputs, targets) pairs and dicts; pass batch_fn=lambda batch: "
        f"(inputs, targets)")


def logits_of(output: Any) -> Any:
    """The default ``output_fn``: a tensor itself, ``output.logits``,
    ``output["logits"]``, or the first item of a tuple or list."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, Mapping):
        if "logits" in output:
            return output["logits"]
    elif getattr(output, "logits", None) is not None:
        return output.logits
    elif isinstance(output, (tuple, list)) and output:
        return output[0]
    raise TypeError(
        f"cannot find the logits in the model's output ({type(output).__name__}): the "
        f"default output_fn takes a tensor, .logits, ['logits'] or a tuple's first item; "
        f"pass output_fn=lambda output: logits")


def _model_loss(output):
    loss = output.get("loss") if isinstance(output, Mapping) else getattr(output, "loss", None)
    if not isinstance(loss, torch.Tensor):
        raise TypeError(
            f"loss_fn is None, so the model's output must carry its loss (.loss or "
            f"['loss'], a tensor), got a {type(output).__name__} without one; pass "
            f"loss_fn=loss_fn(logits, targets), or a batch with the labels the model "
            f"needs to compute it")
    return loss


class _Forward:
    """One forward pass through the hooks: ``(loss, logits, targets)`` of a batch."""

    def __init__(self, model, loss_fn, batch_fn, output_fn, device):
        self.model, self.loss_fn = model, loss_fn
        self.batch_fn, self.output_fn, self.device = batch_fn, output_fn, device

    def __call__(self, batch, want_logits):
        pair = self.batch_fn(batch)
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise TypeError(f"batch_fn must return (inputs, targets), got {pair!r}")
        inputs, targets = _to(pair[0], self.device), _to(pair[1], self.device)
        output = self.model(**inputs) if isinstance(inputs, Mapping) else self.model(inputs)
        logits = None
        if self.loss_fn is not None or want_logits:
            logits = self.output_fn(output)
        if self.loss_fn is None:
            return _model_loss(output), logits, targets
        return self.loss_fn(logits, targets), logits, targets


def _to(x, device):
    if isinstance(x, torch.Tensor):
        return x.to(device)
    if isinstance(x, Mapping):
        return {k: _to(value, device) for k, value in x.items()}
    if type(x) in (tuple, list):
        return type(x)(_to(value, device) for value in x)
    return x


def _batch_size(logits, targets) -> int:
    for t in (targets, logits):
        if isinstance(t, torch.Tensor) and t.ndim >= 1:
            return t.shape[0]
    return 1


def _evaluate(fwd, loader, accuracy_fn):
    """Loss and accuracy over ``loader``, each batch weighted by its size."""
    fwd.model.eval()
    loss_sum, acc_sum, count = 0.0, 0.0, 0
    has_acc = True
    with torch.no_grad():
        for batch in loader:
            loss, logits, targets = fwd(batch, True)
            n = _batch_size(logits, targets)
            loss_sum += loss.item() * n
            if accuracy_fn is not None:
                acc_sum += float(accuracy_fn(logits, targets)) * n
            elif has_acc and _top1_applies(logits, targets):
                acc_sum += float(top1_accuracy(logits, targets)) * n
            else:
                has_acc = False
            count += n
    if count == 0:
        raise ValueError("val_loader yields no examples")
    return loss_sum / count, acc_sum / count if has_acc else None


def _set_lr(optimizer, lr):
    for group in optimizer.param_groups:
        if isinstance(group["lr"], torch.Tensor):
            group["lr"].fill_(lr)  # a tensor LR is updated in place, as torch requires
        else:
            group["lr"] = lr


_MISSING = object()


def _generators(loaders):
    """The torch.Generators a loader draws from (its own, its sampler's)."""
    found = {}
    for loader in loaders:
        for holder in (loader, getattr(loader, "sampler", None),
                       getattr(getattr(loader, "batch_sampler", None), "sampler", None)):
            g = getattr(holder, "generator", None)
            if isinstance(g, torch.Generator):
                found[id(g)] = g
    return list(found.values())


def _snapshot(model, optimizer, loaders):
    params = [p for g in optimizer.param_groups for p in g["params"]]
    with torch.no_grad():
        return {
            "module": save_module(model, params, loaders),
            "optimizer": copy.deepcopy(optimizer.state_dict()),
            "groups": (optimizer.param_groups, list(optimizer.param_groups)),
            "state": optimizer.state,
            # torch's LR schedulers flag an optimizer that has stepped; ours must not count.
            "stepped": optimizer.__dict__.get("_opt_called", _MISSING),
        }


def _restore(model, optimizer, saved):
    restore_module(model, saved["module"])
    with torch.no_grad():
        _restore_optimizer(optimizer, saved)


def save_module(model: torch.nn.Module, params: Iterable[torch.Tensor] = (),
                loaders: Iterable[Any] = ()) -> dict[str, Any]:
    """What :func:`restore_module` needs to put ``model`` back as it is now: its
    ``state_dict()``, its modules' bindings, every ``.grad`` (of the model's parameters
    and of ``params``, tensors trained outside the model), the global random states and
    the ``torch.Generator`` of each of ``loaders``."""
    modules = list(model.modules())
    in_model = {id(p): p for p in model.parameters()}
    loose = {id(p): p for p in params if id(p) not in in_model}
    with torch.no_grad():
        return {
            "model": copy.deepcopy(model.state_dict()),
            # The bindings, so that an attribute or buffer re-assigned during training
            # points at its old object again, and load_state_dict fills that object.
            "bindings": [(m, dict(m.__dict__), dict(m._parameters), dict(m._buffers),
                          dict(m._modules)) for m in modules],
            "unsaved": [(b, b.detach().clone()) for m in modules
                        for name, b in m._buffers.items()
                        if b is not None and name in m._non_persistent_buffers_set],
            "loose": [(p, p.detach().clone()) for p in loose.values()],
            "grads": [(p, p.grad, None if p.grad is None else p.grad.detach().clone())
                      for p in (in_model | loose).values()],
            "rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None,
            "numpy_rng": np.random.get_state(),
            "python_rng": random.getstate(),
            "generators": [(g, g.get_state()) for g in _generators(loaders)],
        }


def restore_module(model: torch.nn.Module, saved: dict[str, Any]) -> None:
    """Put ``model`` (and the random states) back as :func:`save_module` saw them."""
    with torch.no_grad():
        for module, attrs, params, buffers, children in saved["bindings"]:
            for key in set(module.__dict__) - set(attrs):
                del module.__dict__[key]
            module.__dict__.update(attrs)
            for now, then in ((module._parameters, params), (module._buffers, buffers),
                              (module._modules, children)):
                now.clear()
                now.update(then)
        model.load_state_dict(saved["model"])
        for t, value in saved["unsaved"] + saved["loose"]:
            t.copy_(value)
        for p, grad, value in saved["grads"]:
            if grad is not None:
                grad.copy_(value)
            p.grad = grad
    torch.set_rng_state(saved["rng"])
    if saved["cuda_rng"] is not None:
        torch.cuda.set_rng_state_all(saved["cuda_rng"])
    np.random.set_state(saved["numpy_rng"])
    random.setstate(saved["python_rng"])
    for g, state in saved["generators"]:
        g.set_state(state)


def _restore_optimizer(optimizer, saved):
    optimizer.load_state_dict(saved["optimizer"])
    # load_state_dict builds new group dicts, a new state dict and new tensor LRs; put
    # the loaded values into the user's objects, which schedulers and code may hold.
    group_list, groups = saved["groups"]
    for group, loaded in zip(groups, optimizer.param_groups):
        for key in set(group) - set(loaded):
            del group[key]
        for key, value in loaded.items():
            if (key != "params" and isinstance(group.get(key), torch.Tensor)
                    and isinstance(value, torch.Tensor)):
                group[key].copy_(value)
            else:
                group[key] = value
    group_list[:] = groups
    optimizer.param_groups = group_list
    state = saved["state"]
    loaded_state = optimizer.state
    state.clear()
    state.update(loaded_state)
    optimizer.state = state
    if saved["stepped"] is _MISSING:
        optimizer.__dict__.pop("_opt_called", None)
    else:
        optimizer._opt_called = saved["stepped"]


__all__ = ["logits_of", "range_test", "split_batch", "top1_accuracy"]
