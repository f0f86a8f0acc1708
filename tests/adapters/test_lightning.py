"""cyclr with PyTorch Lightning: the range test on a LightningModule, and cyclr schedulers
in configure_optimizers through a real Trainer fit, a checkpoint and a resumed fit."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

lightning = pytest.importorskip("lightning")

import cyclr  # noqa: E402
from cyclr.adapters.lightning import range_test  # noqa: E402
from cyclr.adapters.torch import CyclicLR, ScheduleLR  # noqa: E402

from _torch_helpers import sgd_losses  # noqa: E402  (beside this file)

BATCH = 32

pytestmark = [
    pytest.mark.usefixtures("torch_one_thread"),
    # Lightning's advice for real runs (more loader workers), not about cyclr.
    pytest.mark.filterwarnings("ignore:.*does not have many workers"),
    # lightning 2.6 calls a torch pytree API that torch 2.13 deprecates.
    pytest.mark.filterwarnings(
        r"ignore:`isinstance\(treespec, LeafSpec\)` is deprecated:FutureWarning"),
]


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(x))
    x = torch.tensor(x[order] / 16.0, dtype=torch.float32)
    return x[:1280], torch.tensor(y[order])[:1280]


def loader(x, y, shuffle=False, generator=None):
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y),
                                       batch_size=BATCH, shuffle=shuffle,
                                       generator=generator, drop_last=True)


class Digits(lightning.LightningDataModule):
    def __init__(self, x, y):
        super().__init__()
        self.x, self.y = x, y

    def train_dataloader(self):
        return loader(self.x, self.y)


class Classifier(lightning.LightningModule):
    def __init__(self, lr=0.05, scheduler=None, dropout=0.0):
        super().__init__()
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(),
                                       torch.nn.Dropout(dropout), torch.nn.Linear(32, 10))
        self.lr = lr
        self.scheduler = scheduler  # a function of the optimizer, or None
        self.seen_lrs = []

    def training_step(self, batch, batch_idx):
        self.seen_lrs.append(self.trainer.optimizers[0].param_groups[0]["lr"])
        x, y = batch
        loss = torch.nn.functional.cross_entropy(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9)
        if self.scheduler is None:
            return optimizer
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": self.scheduler(optimizer), "interval": "step"}}


def trainer(**kwargs):
    settings = {"accelerator": "cpu", "devices": 1, "logger": False,
                "enable_progress_bar": False, "enable_model_summary": False,
                "enable_checkpointing": False, **kwargs}
    return lightning.Trainer(**settings)


def hand_losses(x, y, lrs):
    """The same steps by hand: SGD with momentum at each LR, one batch each."""
    model = Classifier().net
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    return sgd_losses(model, optimizer, lrs, loader(x, y))


def state(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


def assert_same_state(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_each_step_trains_at_the_ramp_lr_and_records_its_loss(digits):
    x, y = digits
    module = Classifier(scheduler=lambda opt: ScheduleLR(opt, cyclr.constant(0.5)))
    result = range_test(module, Digits(x, y), start_lr=1e-3, end_lr=1.0, num_steps=25,
                        progress=False)
    assert len(result) == 25 and result.stop_reason is None
    # The module's own scheduler did not move the LR between the ramp's steps.
    np.testing.assert_array_equal(module.seen_lrs, result.lrs)
    np.testing.assert_allclose(result.losses, hand_losses(x, y, result.lrs), rtol=1e-6)
    assert result.auto_rule == "valley"


def test_the_module_comes_back_and_trains_as_if_no_test_had_run(digits):
    x, y = digits
    module, twin = Classifier(dropout=0.2), Classifier(dropout=0.2)
    module.train(False)
    twin.train(False)
    before = state(module)
    g = torch.Generator().manual_seed(1)
    range_test(module, train_dataloaders=loader(x, y, shuffle=True, generator=g),
               start_lr=1e-3, end_lr=1.0, num_steps=30, progress=False)
    assert_same_state(state(module), before)
    assert module._trainer is None and not module.training
    assert all(p.grad is None for p in module.parameters())
    assert torch.equal(g.get_state(), torch.Generator().manual_seed(1).get_state())
    module.seen_lrs, twin.seen_lrs = [], []
    for m in (module, twin):
        m.train()
        torch.manual_seed(3)
        trainer(max_steps=15).fit(m, train_dataloaders=loader(
            x, y, shuffle=True, generator=torch.Generator().manual_seed(2)))
    assert_same_state(state(module), state(twin))


def test_update_attr_sets_lr_or_learning_rate_to_the_suggested_max_lr(digits):
    x, y = digits
    module = Classifier()
    result = range_test(module, Digits(x, y), start_lr=1e-3, end_lr=10.0, num_steps=60,
                        update_attr=True, progress=False)
    assert module.lr == result.suggest()[1] and module.lr > result.lrs[0]

    class FromHparams(Classifier):
        def __init__(self, learning_rate=0.05):
            super().__init__()
            self.save_hyperparameters()
            del self.lr

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=self.hparams.learning_rate)

    module = FromHparams()
    result = range_test(module, Digits(x, y), start_lr=1e-3, end_lr=10.0, num_steps=20,
                        update_attr=True, progress=False)
    assert module.hparams.learning_rate == result.suggest()[1]
    module = FromHparams()
    before = state(module)
    with pytest.raises(ValueError, match="'lr' or 'learning_rate'"):
        del module.hparams["learning_rate"]
        range_test(module, Digits(x, y), update_attr=True, progress=False)
    with pytest.raises(ValueError, match="'step_size'"):
        range_test(module, Digits(x, y), update_attr=True, attr_name="step_size")
    assert_same_state(state(module), before)


def test_divergence_stops_the_fit_early_and_the_module_comes_back(digits):
    x, y = digits
    module = Classifier()
    before = state(module)
    result = range_test(module, Digits(x, y), start_lr=1e-2, end_lr=1e5, num_steps=80,
                        progress=False)
    assert result.stop_reason is not None and len(result) < 80
    assert len(module.seen_lrs) == len(result)  # no batch trained after the stop
    assert_same_state(state(module), before)


def test_an_error_in_training_propagates_and_the_module_comes_back(digits):
    x, y = digits

    class NoLoss(Classifier):
        def training_step(self, batch, batch_idx):
            super().training_step(batch, batch_idx)

    module = NoLoss()
    before = state(module)
    with pytest.raises(TypeError, match="training_step must return the loss"), \
            pytest.warns(UserWarning, match="`training_step` returned `None`"):
        range_test(module, Digits(x, y), num_steps=10, progress=False)
    assert_same_state(state(module), before)
    assert module._trainer is None


def test_bad_arguments_name_the_parameter(digits):
    x, y = digits
    with pytest.raises(TypeError, match="module"):
        range_test(torch.nn.Linear(2, 2), Digits(x, y))
    with pytest.raises(TypeError, match="datamodule"):
        range_test(Classifier(), loader(x, y))
    with pytest.raises(ValueError, match="num_steps"):
        range_test(Classifier(), Digits(x, y), num_steps=1)
    with pytest.raises(TypeError, match="trainer_kwargs"):
        range_test(Classifier(), Digits(x, y), trainer_kwargs=["cpu"])


def test_cyclr_is_importable_without_lightning():
    code = ("import sys, cyclr, cyclr.adapters, cyclr.adapters.torch\n"
            "from cyclr.adapters.torch import range_test\n"
            "print('lightning' in sys.modules, 'pytorch_lightning' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["False", "False"]


# --- the configure_optimizers recipe: a real fit, a checkpoint, a resumed fit ----------

SCHEDULE = cyclr.triangular2(0.01, 0.1, 5)

RECIPES = {
    "ScheduleLR": lambda opt: ScheduleLR(opt, SCHEDULE),
    "CyclicLR": lambda opt: CyclicLR(opt, 0.01, 0.1, step_size_up=5, mode="triangular2"),
}


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_a_fit_steps_the_schedule_per_batch_and_resumes_from_a_checkpoint(
        digits, tmp_path, name):
    x, y = digits
    data = Digits(x[:8 * BATCH], y[:8 * BATCH])  # 8 steps an epoch
    steps = 24
    whole = Classifier(scheduler=RECIPES[name])
    trainer(max_steps=steps).fit(whole, datamodule=data)
    expected = [SCHEDULE(i) for i in range(steps)]
    assert whole.seen_lrs == expected  # the LR of step i is schedule(i), exactly

    first = Classifier(scheduler=RECIPES[name])
    # Stopped after 2 epochs, mid-cycle. (Lightning's resumed epoch does not replay
    # the same batches as an uninterrupted one, so only the LRs are compared.)
    interrupted = trainer(max_steps=16)
    interrupted.fit(first, datamodule=data)
    ckpt = tmp_path / "step=16.ckpt"
    interrupted.save_checkpoint(ckpt)
    resumed = Classifier(scheduler=RECIPES[name])
    again = trainer(max_steps=steps)
    again.fit(resumed, datamodule=data, ckpt_path=ckpt)
    assert first.seen_lrs + resumed.seen_lrs == expected
    scheduler = again.lr_scheduler_configs[0].scheduler
    assert scheduler.last_epoch == steps
    assert again.optimizers[0].param_groups[0]["lr"] == SCHEDULE(steps)
