"""The PyTorch range-test runner on scikit-learn's digits: real training, exact restore."""

import copy

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from cyclr.adapters.torch import range_test

from _torch_helpers import sgd_losses  # beside this file
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


# --- restore idioms: state a model re-binds, loader generators, frozen gradients -------

class RunningMean(torch.nn.Module):
    """A module that re-binds its buffers and attributes in forward, as running-average
    code often does (a new tensor each step, not an in-place update)."""

    def __init__(self):
        super().__init__()
        self.net = torch.nn.Linear(64, 10)
        self.register_buffer("avg", torch.zeros(64))
        self.register_buffer("scratch", torch.zeros(10), persistent=False)
        self.calls = 0

    def forward(self, x):
        if self.training:
            self.avg = 0.9 * self.avg + 0.1 * x.mean(0)
            self.calls = self.calls + 1
            self.last_batch = x.shape[0]  # an attribute the test adds
        out = self.net(x - self.avg)
        self.scratch = out.detach().mean(0)
        return out


def test_buffers_and_attributes_re_bound_in_forward_come_back(digits):
    x, y, _, _ = digits
    model = RunningMean()
    model.avg.fill_(0.25)
    model.calls = 3
    avg, scratch, weight = model.avg, model.scratch, model.net.weight
    expected = {k: t.clone() for k, t in model.state_dict().items()}
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    range_test(model, optimizer, torch.nn.functional.cross_entropy, loader(x, y),
               start_lr=1e-3, end_lr=1.0, num_steps=10, progress=False)
    assert model.avg is avg and model.scratch is scratch and model.net.weight is weight
    assert_same(dict(model.state_dict()), expected)
    assert torch.equal(model.avg, torch.full((64,), 0.25))
    assert torch.equal(model.scratch, torch.zeros(10))  # not in the state_dict
    assert model.calls == 3 and not hasattr(model, "last_batch")
    assert dict(model.named_buffers()) == {"avg": avg, "scratch": scratch}


def test_a_loader_generator_is_restored_so_a_seeded_shuffle_repeats(digits):
    x, y, _, _ = digits
    g = torch.Generator().manual_seed(5)
    shuffled = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y),
                                           batch_size=BATCH, shuffle=True, generator=g)
    sampler_g = torch.Generator().manual_seed(6)
    by_sampler = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, y), batch_size=BATCH,
        sampler=torch.utils.data.RandomSampler(x, generator=sampler_g))
    expected = [t.get_state() for t in (g, sampler_g)]
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    range_test(model, optimizer, torch.nn.functional.cross_entropy, shuffled,
               val_loader=by_sampler, start_lr=1e-3, end_lr=1.0, num_steps=50,
               progress=False)
    assert all(torch.equal(t.get_state(), s) for t, s in zip((g, sampler_g), expected))
    twin = torch.Generator().manual_seed(5)
    assert torch.equal(next(iter(shuffled))[1], next(iter(
        torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y),
                                    batch_size=BATCH, shuffle=True, generator=twin)))[1])


def test_every_grad_comes_back_frozen_or_not_and_none_stays_none(digits):
    x, y, _, _ = digits
    model = mlp()
    first, last = model[0], model[3]
    torch.nn.functional.cross_entropy(model(x[:BATCH]), y[:BATCH]).backward()
    first.weight.requires_grad_(False)  # frozen after it got a gradient
    first.bias.grad = None
    grads = {name: None if p.grad is None else p.grad.clone()
             for name, p in model.named_parameters()}
    grad_objects = {name: p.grad for name, p in model.named_parameters()}
    # The frozen weight stays in the optimizer: zero_grad(set_to_none) would clear it.
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    range_test(model, optimizer, torch.nn.functional.cross_entropy, loader(x, y),
               start_lr=1e-3, end_lr=1.0, num_steps=8, progress=False)
    for name, p in model.named_parameters():
        assert p.grad is grad_objects[name]
        if grads[name] is not None:
            assert_same(p.grad, grads[name])
    assert first.bias.grad is None and last.bias.grad is not None
    assert not first.weight.requires_grad


class NoisyDigits(torch.utils.data.Dataset):
    """Augmentation with numpy's and Python's global generators, as many datasets do."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        import random

        noise = np.random.normal(0.0, 0.01, 64) + random.uniform(-0.01, 0.01)
        return self.x[i] + torch.tensor(noise, dtype=torch.float32), self.y[i]


def test_numpy_and_python_random_states_come_back(digits):
    import random

    x, y, _, _ = digits
    np.random.seed(3)
    random.seed(4)
    np_state, py_state = np.random.get_state(), random.getstate()
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    data = torch.utils.data.DataLoader(NoisyDigits(x, y), batch_size=BATCH, shuffle=True)
    range_test(model, optimizer, torch.nn.functional.cross_entropy, data,
               start_lr=1e-3, end_lr=1.0, num_steps=5, progress=False)
    after = np.random.get_state()
    assert after[0] == np_state[0] and np.array_equal(after[1], np_state[1])
    assert after[2:] == np_state[2:] and random.getstate() == py_state


# --- regression: the loss rule when accuracy means nothing -------------------------

def test_xor_with_mse_and_a_val_loader_suggests_from_the_validation_loss():
    """pytorch-lr-finder's own test setup: XOR, one output, MSE, a val_loader."""
    torch.manual_seed(0)
    inputs = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]).repeat(64, 1)
    targets = (inputs[:, :1] != inputs[:, 1:]).float()
    noisy = inputs + 0.05 * torch.randn_like(inputs)
    model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(),
                                torch.nn.Linear(16, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    train = loader(noisy, targets, batch=16, shuffle=True)
    val = loader(inputs[:64], targets[:64], batch=64)
    result = range_test(model, optimizer, torch.nn.functional.mse_loss, train,
                        val_loader=val, start_lr=1e-4, end_lr=100.0, num_steps=120,
                        progress=False)
    assert result.accuracies is None  # top-1 of one output is no accuracy
    assert result.auto_rule == "valley"
    base_lr, max_lr = result.suggest()
    assert (base_lr, max_lr) == result.suggest("valley")
    assert max_lr > 10 * result.lrs[0]  # not the first LR
    i = int(np.searchsorted(result.lrs, max_lr))
    assert result.losses[i] < result.losses[0]  # the validation loss already fell there
    assert max_lr < result.lrs[int(np.argmin(result.smoothed_losses))]


# --- batches and outputs of any shape ----------------------------------------------

class Output:
    """A Hugging Face-style model output: attributes, some None."""

    def __init__(self, logits, loss=None):
        self.logits, self.loss = logits, loss


class HFStyle(torch.nn.Module):
    """Takes ``**batch``; returns ``.loss`` when given ``labels``, as HF models do."""

    def __init__(self):
        super().__init__()
        self.net = mlp()

    def forward(self, pixel_values, labels=None, attention_mask=None):
        logits = self.net(pixel_values * attention_mask)
        loss = None if labels is None else torch.nn.functional.cross_entropy(logits, labels)
        return Output(logits, loss)


def dict_batches(x, y, batch=BATCH):
    return [{"pixel_values": x[i:i + batch], "labels": y[i:i + batch],
             "attention_mask": torch.ones(batch, 64)}
            for i in range(0, len(x) - batch + 1, batch)]


def hand_run(x, y, lrs, seed=0):
    """Plain SGD on the same batches at the same LRs: the training losses."""
    model = mlp(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    return sgd_losses(model, optimizer, lrs, loader(x, y))


def test_a_hugging_face_style_model_on_dict_batches_uses_its_own_loss(digits):
    x, y, xv, yv = digits
    model = HFStyle()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    result = range_test(model, optimizer, None, dict_batches(x, y), start_lr=1e-3,
                        end_lr=1.0, num_steps=20, progress=False)
    np.testing.assert_allclose(result.losses, hand_run(x, y, result.lrs), rtol=1e-6)
    # With a validation set: the loss the model computes, top-1 from .logits.
    model = HFStyle()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    result = range_test(model, optimizer, None, dict_batches(x, y), start_lr=1e-3,
                        end_lr=1.0, num_steps=5, val_loader=dict_batches(xv, yv, 99),
                        progress=False)
    assert result.accuracies is not None and result.auto_rule == "accuracy"
    twin = mlp()
    twin_optimizer = torch.optim.SGD(twin.parameters(), lr=0.1)
    for lr, (xb, yb) in zip(result.lrs, loader(x, y)):
        twin_optimizer.param_groups[0]["lr"] = lr
        twin_optimizer.zero_grad()
        torch.nn.functional.cross_entropy(twin(xb), yb).backward()
        twin_optimizer.step()
    xs, ys = xv[:len(xv) // 99 * 99], yv[:len(yv) // 99 * 99]
    np.testing.assert_allclose(result.accuracies[-1], accuracy(twin, xs, ys), rtol=1e-6)


@pytest.mark.parametrize("wrap", [
    lambda out: Output(out), lambda out: {"logits": out, "hidden": None},
    lambda out: (out, None)], ids=["attribute", "dict", "tuple"])
def test_outputs_with_logits_feed_loss_fn_and_accuracy(digits, wrap):
    x, y, _, _ = digits

    class Wrapped(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = mlp()

        def forward(self, inputs):
            return wrap(self.net(inputs))

    model = Wrapped()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    result = range_test(model, optimizer, torch.nn.functional.cross_entropy, loader(x, y),
                        start_lr=1e-3, end_lr=1.0, num_steps=12, progress=False,
                        accuracy_fn=lambda logits, t: (logits.argmax(1) == t).float().mean())
    np.testing.assert_allclose(result.losses, hand_run(x, y, result.lrs), rtol=1e-6)


def test_batch_fn_and_output_fn_shape_anything(digits):
    x, y, _, _ = digits
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    # Batches as (targets, inputs, ids) triples, outputs scaled by 1: custom hooks.
    triples = [(yb, xb, torch.arange(len(yb))) for xb, yb in loader(x, y)]
    result = range_test(model, optimizer, torch.nn.functional.cross_entropy, triples,
                        batch_fn=lambda b: (b[1], b[0]), output_fn=lambda out: out * 1.0,
                        start_lr=1e-3, end_lr=1.0, num_steps=12, progress=False)
    np.testing.assert_allclose(result.losses, hand_run(x, y, result.lrs), rtol=1e-6)


class Scores(torch.nn.Module):
    """Returns its logits under a key the default output_fn does not know."""

    def __init__(self):
        super().__init__()
        self.net = mlp()

    def forward(self, inputs):
        return {"scores": self.net(inputs)}


@pytest.mark.parametrize("batches, kwargs, match", [
    ("triples", {}, r"cannot split a batch \(a tuple of 3 items\).*batch_fn"),
    ("tensors", {}, r"cannot split a batch \(a Tensor\).*batch_fn"),
    ("pairs", {"batch_fn": lambda b: b[0]}, "batch_fn must return"),
    ("pairs", {"model": "scores"}, "cannot find the logits.*output_fn"),
    ("pairs", {"loss_fn": None}, "loss_fn is None"),
])
def test_a_batch_or_output_the_hooks_cannot_unpack_names_the_hook(digits, batches,
                                                                    kwargs, match):
    x, y, _, _ = digits
    pairs = list(loader(x, y))
    data = {"pairs": pairs, "triples": [(xb, yb, yb) for xb, yb in pairs],
            "tensors": [xb for xb, _ in pairs]}[batches]
    model = Scores() if kwargs.pop("model", None) else mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = snapshot(model, optimizer)
    args = {"loss_fn": torch.nn.functional.cross_entropy, **kwargs}
    with pytest.raises(TypeError, match=match):
        range_test(model, optimizer, args.pop("loss_fn"), data, start_lr=1e-3,
                   num_steps=5, progress=False, **args)
    assert_same(snapshot(model, optimizer), before)


def test_a_generator_val_loader_is_read_once_up_front(digits):
    x, y, xv, yv = digits
    curves = []
    for make in (lambda: list(loader(xv, yv, 100)), lambda: (b for b in loader(xv, yv, 100))):
        model = mlp()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        curves.append(range_test(model, optimizer, torch.nn.functional.cross_entropy,
                                 loader(x, y), val_loader=make(), start_lr=1e-3,
                                 end_lr=1.0, num_steps=15, progress=False))
    assert len(curves[1]) == 15
    assert curves[1].losses.tolist() == curves[0].losses.tolist()
    assert curves[1].accuracies.tolist() == curves[0].accuracies.tolist()


@pytest.mark.parametrize("val, match", [
    ("long", "one-shot iterator .* more than 1000 batches"),
    ("empty_generator", "val_loader yields no batches"),
    ("empty_list", "val_loader yields no batches"),
])
def test_a_val_loader_that_cannot_serve_every_step_is_refused_up_front(digits, val, match):
    x, y, _, _ = digits
    small = (x[:2], y[:2])
    val_loader = {"long": (small for _ in range(1001)), "empty_generator": iter([]),
                  "empty_list": []}[val]
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = snapshot(model, optimizer)
    steps = []
    with pytest.raises(ValueError, match=match):
        range_test(model, optimizer,
                   lambda o, t: steps.append(1) or torch.nn.functional.cross_entropy(o, t),
                   loader(x, y), val_loader=val_loader, start_lr=1e-3, num_steps=5,
                   progress=False)
    assert steps == []  # refused before the first step
    assert_same(snapshot(model, optimizer), before)
