"""PyTorch Lightning: the LR range test on a ``LightningModule``, and cyclr schedulers in
``configure_optimizers``.

``range_test(module, datamodule)`` runs the test with a temporary ``lightning.Trainer``
(the module's own ``training_step``, ``configure_optimizers`` and data hooks, so
precision, devices and ``self.log`` work as in a real fit), then puts the module back
exactly as it was, like :func:`cyclr.adapters.torch.range_test`; with
``update_attr=True`` it sets the module's ``lr`` or ``learning_rate`` to the suggested
``max_lr``, as Lightning's ``Tuner.lr_find(update_attr=True)`` does with its suggestion.

A cyclr scheduler steps per optimizer step, so it goes in ``configure_optimizers`` with
``"interval": "step"``; its ``state_dict`` is saved in Lightning's checkpoints, and a fit
resumed with ``ckpt_path`` continues the schedule where it stopped::

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9)
        schedule = cyclr.triangular2(self.lr / 4, self.lr, step_size=2000)
        scheduler = cyclr.adapters.torch.ScheduleLR(optimizer, schedule)
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

(``cyclr.adapters.torch.CyclicLR(optimizer, base_lr, max_lr, step_size_up=...)`` goes in
the same place.) ``import cyclr`` does not import Lightning; this module does.
"""

from __future__ import annotations

import warnings
from typing import Any

from . import _require

with _require(__name__, "lightning"):
    import lightning
    import torch

from cyclr.rangetest import RangeTest, RangeTestResult

from ._range_torch import _set_lr, restore_module, save_module

__all__ = ["range_test"]

_LR_NAMES = ("lr", "learning_rate")


def range_test(module: lightning.LightningModule,
               datamodule: lightning.LightningDataModule | None = None, *,
               train_dataloaders: Any = None, start_lr: float = 1e-7, end_lr: float = 10.0,
               num_steps: int = 100, mode: str = "exp", smoothing: float = 0.8,
               diverge_factor: float | None = 5.0, progress: bool = True,
               update_attr: bool = False, attr_name: str | None = None,
               trainer_kwargs: dict[str, Any] | None = None) -> RangeTestResult:
    """Run an LR range test on a LightningModule and leave it untouched.

    A temporary ``lightning.Trainer`` fits the module for up to ``num_steps`` optimizer
    steps, one batch each: before each batch every parameter group of every optimizer
    from ``configure_optimizers`` gets the ramp's LR (the schedulers it returns are not
    stepped), in train mode, and after it the loss ``training_step`` returned is
    recorded (the training loss, as Lightning's ``Tuner.lr_find`` records; the
    suggestions use the loss rules).
    The test stops early on divergence, as :class:`cyclr.RangeTest` does.

    Afterwards the module is as it was: its ``state_dict()``, its attributes (the
    trainer reference Lightning sets included), every ``.grad``, train/eval modes, and
    torch's, numpy's and Python's random states; so is the datamodule's trainer
    reference. The optimizers the test used were the temporary trainer's own.

    Args:
        module: a ``lightning.LightningModule``.
        datamodule: a ``lightning.LightningDataModule``, or None with
            ``train_dataloaders`` or a module that defines ``train_dataloader``.
        train_dataloaders: a ``DataLoader`` (or what ``Trainer.fit`` takes); its
            ``torch.Generator``, if any, is restored too.
        start_lr, end_lr, num_steps, mode, smoothing, diverge_factor, progress: as for
            :class:`cyclr.RangeTest`.
        update_attr: set the module's LR attribute to the suggested ``max_lr``
            (``result.suggest()[1]``) after the test.
        attr_name: the attribute (or ``hparams`` key) to set; by default the first of
            ``lr`` and ``learning_rate`` the module has.
        trainer_kwargs: more ``lightning.Trainer`` arguments (``accelerator``,
            ``precision`` ...). The test sets ``max_steps``, ``max_epochs``, ``logger``,
            ``enable_checkpointing``, ``enable_progress_bar``,
            ``enable_model_summary``, ``limit_val_batches``, ``num_sanity_val_steps``
            and ``devices=1`` unless given here.

    Returns:
        A :class:`cyclr.RangeTestResult`.

    Raises:
        ValueError, TypeError: for invalid arguments, naming the argument and value;
            with ``update_attr=True``, before anything runs, when the module has no
            such attribute.

    Examples:
        >>> from cyclr.adapters.lightning import range_test  # doctest: +SKIP
        >>> result = range_test(model, datamodule, start_lr=1e-5, end_lr=1.0,
        ...                     update_attr=True)  # doctest: +SKIP
        >>> model.lr == result.suggest()[1]  # doctest: +SKIP
        True
    """
    if not isinstance(module, lightning.LightningModule):
        raise TypeError(f"module must be a lightning.LightningModule, got {module!r}")
    if datamodule is not None and not isinstance(datamodule, lightning.LightningDataModule):
        raise TypeError(
            f"datamodule must be a lightning.LightningDataModule or None, got {datamodule!r}")
    if not isinstance(update_attr, bool):
        raise TypeError(f"update_attr must be a bool, got {update_attr!r}")
    if attr_name is not None and not (isinstance(attr_name, str) and attr_name):
        raise TypeError(f"attr_name must be a non-empty str or None, got {attr_name!r}")
    if trainer_kwargs is not None and not isinstance(trainer_kwargs, dict):
        raise TypeError(f"trainer_kwargs must be a dict or None, got {trainer_kwargs!r}")
    holder = _lr_holder(module, attr_name) if update_attr else None
    rt = RangeTest(start_lr, end_lr, num_steps, mode=mode, smoothing=smoothing,
                   diverge_factor=diverge_factor, progress=progress)
    settings = {"max_steps": num_steps, "max_epochs": -1, "logger": False,
                "enable_checkpointing": False, "enable_progress_bar": False,
                "enable_model_summary": False, "limit_val_batches": 0,
                "num_sanity_val_steps": 0, "devices": 1, **(trainer_kwargs or {})}
    ramp = _Ramp(rt)
    settings["callbacks"] = [*settings.get("callbacks", []), ramp]
    saved = save_module(module, loaders=[train_dataloaders])
    saved_dm = None if datamodule is None else dict(datamodule.__dict__)
    try:
        module.train()  # as the torch runner trains; the modes are restored after
        trainer = lightning.Trainer(**settings)
        with warnings.catch_warnings():
            # The temporary trainer's advice on loader workers is for the real fit.
            warnings.filterwarnings("ignore", ".*does not have many workers")
            trainer.fit(module, train_dataloaders=train_dataloaders, datamodule=datamodule)
    finally:
        rt.close()
        restore_module(module, saved)
        if saved_dm is not None:
            for key in set(datamodule.__dict__) - set(saved_dm):
                del datamodule.__dict__[key]
            datamodule.__dict__.update(saved_dm)
    result = rt.result()
    if holder is not None:
        target, name = holder
        value = result.suggest()[1]
        if isinstance(target, lightning.LightningModule):
            setattr(target, name, value)
        else:
            target[name] = value
    return result


def _lr_holder(module, attr_name):
    """Where ``update_attr`` writes: the module attribute or the ``hparams`` key."""
    names = (attr_name,) if attr_name else _LR_NAMES
    hparams = getattr(module, "hparams", {})
    for name in names:
        if hasattr(module, name):
            return module, name
        if name in hparams:
            return hparams, name
    raise ValueError(
        f"update_attr=True needs the module to have {' or '.join(map(repr, names))} as an "
        f"attribute or in hparams; {type(module).__name__} has none"
        + ("" if attr_name else "; name it with attr_name="))


class _Ramp(lightning.Callback):
    """Sets the ramp's LR before each batch and records the loss after it."""

    def __init__(self, rt):
        self.rt = rt

    def on_fit_start(self, trainer, pl_module):
        # The module's own schedulers would move the LR between the ramp's steps.
        trainer.strategy.lr_scheduler_configs = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if self.rt.done:
            trainer.should_stop = True
            return
        for optimizer in trainer.optimizers:
            _set_lr(optimizer, self.rt.lr)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if self.rt.done:
            return
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if not isinstance(loss, torch.Tensor):
            raise TypeError(
                f"training_step must return the loss (a tensor, or a dict with 'loss') "
                f"for the range test to record, got {outputs!r}")
        self.rt.record(loss=loss.item())
        if self.rt.done:
            trainer.should_stop = True
