"""The LR range test for PyTorch: ``range_test(model, optimizer, loss_fn, train_loader)``.

The model and optimizer come back exactly as they were (parameters, buffers, gradients,
train/eval modes, optimizer state and hyper-parameters, bit for bit), and so does
torch's global random state (dropout, shuffling), so a seeded run continues as if no
test had happened; whether the test ends, diverges or raises.
"""

from __future__ import annotations

import copy

import torch

from cyclr import _validate as v
from cyclr.rangetest import RangeTest, RangeTestResult, _cycle


def range_test(model, optimizer, loss_fn, train_loader, *, start_lr=1e-7, end_lr=10.0,
               num_steps=100, mode="exp", val_loader=None, accuracy_fn=None,
               accumulation_steps=1, device=None, smoothing=0.8, diverge_factor=5.0,
               progress=True) -> RangeTestResult:
    """Run an LR range test on ``model`` and leave it, and ``optimizer``, untouched.

    Each step sets the LR of every parameter group to the ramp's value, trains on
    ``accumulation_steps`` batches (their gradients summed, each loss divided by
    ``accumulation_steps``, one ``optimizer.step()``) and records the mean training loss.
    With ``val_loader``, it records the validation loss and accuracy after each step
    instead (the paper reads accuracy; this costs one pass over ``val_loader`` a step).

    Args:
        model: a ``torch.nn.Module``.
        optimizer: a ``torch.optim.Optimizer`` over the model's parameters.
        loss_fn: ``loss_fn(outputs, targets)`` -> a scalar tensor, averaged over the
            batch.
        train_loader: an iterable of ``(inputs, targets)`` batches (a ``DataLoader``);
            it is iterated again when it runs out, unless it is a one-shot iterator, in
            which case the test stops there.
        start_lr, end_lr, num_steps, mode, smoothing, diverge_factor, progress: as for
            :class:`cyclr.RangeTest`.
        val_loader: optional iterable of ``(inputs, targets)`` batches for validation.
        accuracy_fn: ``accuracy_fn(outputs, targets)`` -> the batch's accuracy in
            [0, 1]; defaults to top-1 (``argmax`` over dim 1) with ``val_loader``.
            Without ``val_loader``, giving it records training-batch accuracy.
        accumulation_steps: batches per optimizer step, an integer >= 1.
        device: where batches are moved; defaults to the device of the model's first
            parameter.

    Returns:
        A :class:`cyclr.RangeTestResult`.

    Raises:
        ValueError, TypeError: for invalid arguments, naming the argument and value.

    Examples:
        >>> result = range_test(model, optimizer, torch.nn.functional.cross_entropy,
        ...                     loader, start_lr=1e-4, end_lr=1.0)  # doctest: +SKIP
        >>> base_lr, max_lr = result.suggest()  # doctest: +SKIP
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {model!r}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {optimizer!r}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {loss_fn!r}")
    if accuracy_fn is not None and not callable(accuracy_fn):
        raise TypeError(f"accuracy_fn must be callable, got {accuracy_fn!r}")
    accumulation_steps = v.count("accumulation_steps", accumulation_steps, minimum=1)
    if val_loader is not None and accuracy_fn is None:
        accuracy_fn = top1_accuracy
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")
    rt = RangeTest(start_lr, end_lr, num_steps, mode=mode, smoothing=smoothing,
                   diverge_factor=diverge_factor, progress=progress)
    saved = _snapshot(model, optimizer)
    try:
        # Starting a DataLoader pass draws from torch's generator: only after the
        # snapshot, which _cycle guarantees by drawing nothing until the first step.
        batches = _cycle(train_loader, "train_loader")
        for lr in rt:
            _set_lr(optimizer, lr)
            loss, accuracy = _train_step(model, optimizer, loss_fn, batches,
                                         accumulation_steps, device, accuracy_fn)
            if loss is None:
                rt.stop(f"train_loader ran out after {rt.step} steps")
                break
            if val_loader is not None:
                loss, accuracy = _evaluate(model, loss_fn, val_loader, device, accuracy_fn)
            rt.record(loss=loss, accuracy=accuracy)
    finally:
        rt.close()
        _restore(model, optimizer, saved)
    return rt.result()


def top1_accuracy(outputs, targets):
    """The fraction of rows of ``outputs`` whose largest entry is at ``targets``."""
    return (outputs.argmax(dim=1) == targets).float().mean()


def _to(x, device):
    return x.to(device) if isinstance(x, torch.Tensor) else x


def _train_step(model, optimizer, loss_fn, batches, accumulation_steps, device,
                accuracy_fn):
    model.train()
    optimizer.zero_grad(set_to_none=True)
    total, correct = 0.0, 0.0
    for _ in range(accumulation_steps):
        batch = next(batches, None)
        if batch is None:
            return None, None
        inputs, targets = _to(batch[0], device), _to(batch[1], device)
        outputs = model(inputs)
        loss = loss_fn(outputs, targets)
        (loss / accumulation_steps).backward()
        total += loss.item()
        if accuracy_fn is not None:
            with torch.no_grad():
                correct += float(accuracy_fn(outputs, targets))
    optimizer.step()
    accuracy = correct / accumulation_steps if accuracy_fn is not None else None
    return total / accumulation_steps, accuracy


def _evaluate(model, loss_fn, loader, device, accuracy_fn):
    model.eval()
    loss_sum, acc_sum, count = 0.0, 0.0, 0
    with torch.no_grad():
        for batch in loader:
            inputs, targets = _to(batch[0], device), _to(batch[1], device)
            outputs = model(inputs)
            n = len(targets)
            loss_sum += loss_fn(outputs, targets).item() * n
            acc_sum += float(accuracy_fn(outputs, targets)) * n
            count += n
    if count == 0:
        raise ValueError("val_loader yields no examples")
    return loss_sum / count, acc_sum / count


def _set_lr(optimizer, lr):
    for group in optimizer.param_groups:
        if isinstance(group["lr"], torch.Tensor):
            group["lr"].fill_(lr)  # a tensor LR is updated in place, as torch requires
        else:
            group["lr"] = lr


_MISSING = object()


def _snapshot(model, optimizer):
    # Every tensor training can change: the model's parameters and buffers, and any
    # parameter the optimizer holds outside the model (a learnable loss weight ...).
    tensors, seen = [], set()
    opt_params = (p for g in optimizer.param_groups for p in g["params"])
    for t in (*model.parameters(), *model.buffers(), *opt_params):
        if id(t) not in seen:
            seen.add(id(t))
            tensors.append(t)
    with torch.no_grad():
        return {
            "values": [(t, t.detach().clone()) for t in tensors],
            "grads": [(t, None if t.grad is None else t.grad.detach().clone())
                      for t in tensors if t.requires_grad],
            "modes": [(m, m.training) for m in model.modules()],
            "groups": [{k: copy.deepcopy(x) for k, x in g.items() if k != "params"}
                       for g in optimizer.param_groups],
            "state": {p: copy.deepcopy(s) for p, s in optimizer.state.items()},
            # torch's LR schedulers flag an optimizer that has stepped; ours must not count.
            "stepped": optimizer.__dict__.get("_opt_called", _MISSING),
            "rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None,
        }


def _restore(model, optimizer, saved):
    with torch.no_grad():
        for t, value in saved["values"]:
            t.copy_(value)
        for t, grad in saved["grads"]:
            t.grad = grad
        for module, training in saved["modes"]:
            module.training = training
        for group, values in zip(optimizer.param_groups, saved["groups"]):
            for key in set(group) - set(values) - {"params"}:
                del group[key]
            for key, value in values.items():
                if isinstance(group.get(key), torch.Tensor) and isinstance(value, torch.Tensor):
                    group[key].copy_(value)  # keep the user's tensor object
                else:
                    group[key] = value
        optimizer.state.clear()
        optimizer.state.update(saved["state"])
        if saved["stepped"] is _MISSING:
            optimizer.__dict__.pop("_opt_called", None)
        else:
            optimizer._opt_called = saved["stepped"]
    torch.set_rng_state(saved["rng"])
    if saved["cuda_rng"] is not None:
        torch.cuda.set_rng_state_all(saved["cuda_rng"])


__all__ = ["range_test", "top1_accuracy"]
