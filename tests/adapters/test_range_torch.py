"""The PyTorch range-test runner on scikit-learn's digits: real training, exact restore."""

import copy

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from cyclr.adapters.torch import range_test

from _range_checks import (  # beside this file
    assert_max_lr_where_loss_still_falls, triangular2_against_fixed)

BATCH = 32


pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(x))
    x = torch.tensor(x[order] / 16.0, dtype=torch.float32)
    y = torch.tensor(y[order])
    return x[:1400], y[:1400], x[1400:], y[1400:]


def loader(x, y, batch=BATCH, shuffle=False):
    ds = torch.utils.data.TensorDataset(x, y)
    return torch.utils.data.DataLoader(ds, batch_size=batch, shuffle=shuffle, drop_last=True)


def mlp(seed=0, norm=False, dropout=0.0):
    torch.manual_seed(seed)
    layers = [torch.nn.Linear(64, 32)]
    if norm:
        layers.append(torch.nn.BatchNorm1d(32))
    layers += [torch.nn.ReLU(), torch.nn.Dropout(dropout), torch.nn.Linear(32, 10)]
    return torch.nn.Sequential(*layers)


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def snapshot(model, optimizer):
    """Everything the runner promises to restore, as independent copies."""
    return {
        "tensors": [t.detach().clone() for t in (*model.parameters(), *model.buffers())],
        "grads": [None if p.grad is None else p.grad.clone() for p in model.parameters()],
        "modes": [m.training for m in model.modules()],
        "optimizer": copy.deepcopy(optimizer.state_dict()),
        "rng": torch.get_rng_state(),
    }


def assert_same(a, b):
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    else:
        assert a == b


def used_model(digits, optimizer_factory, norm=True):
    """A model and optimizer mid-training: state filled, gradients present, eval mode."""
    x, y, _, _ = digits
    model = mlp(norm=norm, dropout=0.2)
    optimizer = optimizer_factory(model)
    for i in range(3):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x[i * BATCH:(i + 1) * BATCH]),
                                          y[i * BATCH:(i + 1) * BATCH]).backward()
        optimizer.step()
    torch.nn.functional.cross_entropy(model(x[:BATCH]), y[:BATCH]).backward()
    model.eval()
    return model, optimizer


OPTIMIZERS = {
    "sgd-momentum-two-groups": lambda m: torch.optim.SGD(
        [{"params": list(m.parameters())[:2], "lr": 0.03},
         {"params": list(m.parameters())[2:], "lr": 0.01, "momentum": 0.5}],
        lr=0.02, momentum=0.9, nesterov=True),
    "adam-tensor-lr": lambda m: torch.optim.Adam(
        m.parameters(), lr=torch.tensor(0.002), foreach=False),
    "adamw": lambda m: torch.optim.AdamW(m.parameters(), lr=0.004, weight_decay=0.1),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_model_optimizer_and_rng_come_back_bit_for_bit(digits, name):
    model, optimizer = used_model(digits, OPTIMIZERS[name])
    lr_objects = [g["lr"] for g in optimizer.param_groups]
    before = snapshot(model, optimizer)
    x, y, xv, yv = digits
    result = range_test(model, optimizer, torch.nn.functional.cross_entropy, loader(x, y),
                        start_lr=1e-4, end_lr=1.0, num_steps=30,
                        val_loader=loader(xv, yv, 128), progress=False)
    assert len(result) == 30 and result.accuracies is not None
    assert_same(snapshot(model, optimizer), before)
    assert [g["lr"] for g in optimizer.param_groups] == lr_objects
    for group, obj in zip(optimizer.param_groups, lr_objects):
        assert group["lr"] is obj  # a tensor LR is still the user's own tensor


def test_training_after_the_test_equals_training_without_it(digits):
    """The strongest form of "untouched": a twin that never saw the test trains
    identically afterwards, shuffling and dropout included."""
    x, y, _, _ = digits
    model, optimizer = used_model(digits, OPTIMIZERS["sgd-momentum-two-groups"])
    model.train()
    twin_model, twin_optimizer = copy.deepcopy((model, optimizer))
    range_test(model, optimizer, torch.nn.functional.cross_entropy,
               loader(x, y, shuffle=True), start_lr=1e-3, end_lr=3.0, num_steps=40,
               progress=False)

    def train(m, opt):
        for xb, yb in loader(x, y, shuffle=True):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(m(xb), yb).backward()
            opt.step()
        return [p.detach().clone() for p in m.parameters()]

    torch.manual_seed(7)
    ours = train(model, optimizer)
    torch.manual_seed(7)
    assert_same(ours, train(twin_model, twin_optimizer))


def test_fresh_optimizer_state_stays_empty_and_lr_float(digits):
    x, y, _, _ = digits
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    range_test(model, optimizer, torch.nn.functional.cross_entropy, loader(x, y),
               start_lr=1e-3, end_lr=1.0, num_steps=10, progress=False)
    assert len(optimizer.state) == 0
    assert optimizer.param_groups[0]["lr"] == 0.1
    assert all(p.grad is None for p in model.parameters())


def test_every_group_gets_the_ramp_lr_and_the_loss_is_that_steps(digits):
    x, y, xv, yv = digits
    model, optimizer = used_model(digits, OPTIMIZERS["sgd-momentum-two-groups"], norm=False)
    twin_model, twin_optimizer = copy.deepcopy((model, optimizer))
    seen = []

    def loss_fn(outputs, targets):
        seen.append([g["lr"] for g in optimizer.param_groups])
        return torch.nn.functional.cross_entropy(outputs, targets)

    start, end, n = 1e-4, 0.5, 25
    result = range_test(model, optimizer, loss_fn, loader(x, y), start_lr=start,
                        end_lr=end, num_steps=n, accuracy_fn=lambda o, t: (
                            o.argmax(1) == t).float().mean(), progress=False)
    expected_lrs = [start * (end / start) ** (k / (n - 1)) for k in range(n)]
    assert [s[0] for s in seen] == [s[1] for s in seen]
    np.testing.assert_allclose([s[0] for s in seen], expected_lrs, rtol=1e-12)

    # The same steps by hand: the training loss and batch accuracy before each update.
    twin_model.train()
    losses, accs = [], []
    for lr, (xb, yb) in zip(result.lrs, loader(x, y)):
        for g in twin_optimizer.param_groups:
            g["lr"] = lr
        twin_optimizer.zero_grad()
        out = twin_model(xb)
        loss = torch.nn.functional.cross_entropy(out, yb)
        loss.backward()
        twin_optimizer.step()
        losses.append(loss.item())
        accs.append((out.argmax(1) == yb).float().mean().item())
    assert result.losses.tolist() == losses
    assert result.accuracies.tolist() == accs


def test_validation_loss_and_accuracy_are_recorded_after_each_step(digits):
    x, y, xv, yv = digits
    model = mlp()
    twin = copy.deepcopy(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    twin_optimizer = torch.optim.SGD(twin.parameters(), lr=0.1)
    result = range_test(model, optimizer, torch.nn.functional.cross_entropy, loader(x, y),
                        start_lr=0.01, end_lr=0.5, num_steps=8, mode="linear",
                        val_loader=loader(xv, yv, 100), progress=False)
    for k, (xb, yb) in zip(range(8), loader(x, y)):
        twin_optimizer.param_groups[0]["lr"] = result.lrs[k]
        twin.train()
        twin_optimizer.zero_grad()
        torch.nn.functional.cross_entropy(twin(xb), yb).backward()
        twin_optimizer.step()
        xs, ys = xv[:len(xv) // 100 * 100], yv[:len(yv) // 100 * 100]  # drop_last
        np.testing.assert_allclose(result.accuracies[k], accuracy(twin, xs, ys), rtol=1e-6)
        with torch.no_grad():
            val_loss = torch.nn.functional.cross_entropy(twin(xs), ys).item()
        np.testing.assert_allclose(result.losses[k], val_loss, rtol=1e-5)


def test_gradient_accumulation_matches_the_larger_batch(digits):
    x, y, _, _ = digits
    results = []
    for batch, accumulate in ((32, 1), (16, 2), (8, 4)):
        model = mlp()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        results.append(range_test(model, optimizer, torch.nn.functional.cross_entropy,
                                  loader(x, y, batch), start_lr=1e-3, end_lr=0.3,
                                  num_steps=30, accumulation_steps=accumulate,
                                  progress=False))
    for other in results[1:]:
        np.testing.assert_allclose(other.losses, results[0].losses, rtol=1e-5)


def test_divergence_stops_early_and_still_restores(digits):
    x, y, _, _ = digits
    model, optimizer = used_model(digits, OPTIMIZERS["adamw"])
    before = snapshot(model, optimizer)
    result = range_test(model, optimizer, torch.nn.functional.cross_entropy, loader(x, y),
                        start_lr=1e-3, end_lr=1e4, num_steps=100, progress=False)
    assert result.stop_reason is not None and len(result) < 100
    assert_same(snapshot(model, optimizer), before)


def test_an_exception_mid_test_propagates_and_restores(digits, capsys):
    x, y, _, _ = digits
    model, optimizer = used_model(digits, OPTIMIZERS["adam-tensor-lr"])
    before = snapshot(model, optimizer)
    calls = []

    def failing_loss(outputs, targets):
        calls.append(1)
        if len(calls) == 6:
            raise RuntimeError("loss failed")
        return torch.nn.functional.cross_entropy(outputs, targets)

    with pytest.raises(RuntimeError, match="loss failed"):
        range_test(model, optimizer, failing_loss, loader(x, y), start_lr=1e-3,
                   end_lr=1.0, num_steps=20)
    assert_same(snapshot(model, optimizer), before)
    assert capsys.readouterr().err.endswith("\n")  # the progress line was ended


def test_a_one_shot_iterator_that_runs_out_stops_the_test(digits):
    x, y, _, _ = digits
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = iter([(x[i:i + 32], y[i:i + 32]) for i in range(0, 320, 32)])
    result = range_test(model, optimizer, torch.nn.functional.cross_entropy, batches,
                        start_lr=1e-3, end_lr=1.0, num_steps=50, progress=False)
    assert len(result) == 10 and "ran out" in result.stop_reason


def test_progress_bar_can_be_switched_off(digits, capsys):
    x, y, _, _ = digits
    for progress in (True, False):
        model = mlp()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        range_test(model, optimizer, torch.nn.functional.cross_entropy, loader(x, y),
                   start_lr=1e-3, end_lr=0.1, num_steps=5, progress=progress)
        err = capsys.readouterr().err
        assert ("LR range test" in err and "5/5" in err) if progress else err == ""


@pytest.mark.parametrize("kwargs, match", [
    ({"model": "net"}, "model"),
    ({"optimizer": None}, "optimizer"),
    ({"accumulation_steps": 0}, "accumulation_steps"),
    ({"loss_fn": 3}, "loss_fn"),
    ({"end_lr": 1e-5}, "end_lr"),
])
def test_bad_arguments_name_the_parameter(digits, kwargs, match):
    x, y, _, _ = digits
    model = mlp()
    args = {"model": model, "optimizer": torch.optim.SGD(model.parameters(), lr=0.1),
            "loss_fn": torch.nn.functional.cross_entropy, "train_loader": loader(x, y),
            "start_lr": 1e-3, "progress": False}
    args.update(kwargs)
    with pytest.raises((TypeError, ValueError), match=match):
        range_test(**args)


@pytest.mark.parametrize("empty", [[], iter([])])
def test_empty_loader_is_an_error(empty):
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="train_loader yields no batches"):
        range_test(model, optimizer, torch.nn.functional.cross_entropy, empty,
                   progress=False)


def test_an_attached_scheduler_still_sees_an_optimizer_that_never_stepped(digits):
    x, y, _, _ = digits
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5)
    groups = copy.deepcopy(optimizer.param_groups)
    range_test(model, optimizer, torch.nn.functional.cross_entropy, loader(x, y),
               start_lr=1e-3, end_lr=1.0, num_steps=5, progress=False)
    assert optimizer.param_groups[0]["initial_lr"] == groups[0]["initial_lr"] == 0.1
    # As without a test, stepping the scheduler first is the mistake torch warns about.
    with pytest.warns(UserWarning, match="before `optimizer.step"):
        scheduler.step()


# --- the real use: choose the bounds, then train with them --------------------------

@pytest.fixture(scope="module")
def run(digits):
    x, y, xv, yv = digits
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    result = range_test(model, optimizer, torch.nn.functional.cross_entropy, loader(x, y),
                        start_lr=1e-3, end_lr=10.0, num_steps=200,
                        val_loader=loader(xv, yv, 397), progress=False)
    return result


@pytest.mark.parametrize("rule", ["auto", "accuracy", "steepest", "valley", "minimum"])
def test_suggested_max_lr_is_where_loss_still_falls_before_divergence(run, rule):
    assert run.stop_reason is not None  # the ramp went far enough to diverge
    assert_max_lr_where_loss_still_falls(run, rule)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_triangular2_from_the_suggestion_beats_its_base_lr_fixed(run, digits, seed):
    x, y, xv, yv = digits
    base_lr, runs = triangular2_against_fixed(run, len(x), BATCH)
    final = {}
    for name, schedule_lrs in runs.items():
        total = len(schedule_lrs)
        model = mlp(seed=seed)
        optimizer = torch.optim.SGD(model.parameters(), lr=base_lr, momentum=0.9)
        step = 0
        while step < total:
            for xb, yb in loader(x, y):
                if step == total:
                    break
                optimizer.param_groups[0]["lr"] = float(schedule_lrs[step])
                model.train()
                optimizer.zero_grad()
                torch.nn.functional.cross_entropy(model(xb), yb).backward()
                optimizer.step()
                step += 1
        final[name] = accuracy(model, xv, yv)
    assert final["cyclic"] >= final["fixed"]
    assert final["cyclic"] > 0.9
