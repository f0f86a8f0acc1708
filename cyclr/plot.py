"""Plots of LR range tests (matplotlib, imported only when a plot is asked for)."""

from __future__ import annotations

_LOSS_COLOR, _ACC_COLOR, _MARK_COLOR = "tab:blue", "tab:orange", "tab:red"


def plot_range_test(result, ax=None, *, log_lr=None, raw=True, mark=True, rule="auto",
                    ratio=4.0, base="ratio"):
    """Draw a range test's curves against the LR, with the suggested bounds marked.

    The loss goes on ``ax``; the accuracy on a twin y-axis when both were recorded
    (on ``ax`` when it is the only curve). Raw values are drawn faint, the smoothed
    curve that the suggestions read on top; ``base_lr`` and ``max_lr`` are vertical
    dashed lines.

    Args:
        result: a :class:`cyclr.RangeTestResult`.
        ax: matplotlib Axes to draw on; a new figure's when None.
        log_lr: log-scaled LR axis; defaults to True for an ``"exp"`` ramp.
        raw: also draw the raw values.
        mark: mark the suggested bounds.
        rule, ratio, base: as for :meth:`cyclr.RangeTestResult.suggest`.

    Returns:
        The Axes holding the loss (or the only curve); a twin, if any, is in
        ``ax.figure.axes``.

    Raises:
        ValueError: for ``log_lr=True`` with an LR of 0, or what ``suggest`` raises.
    """
    if log_lr is None:
        log_lr = result.mode == "exp"
    if log_lr and result.lrs[0] <= 0:
        raise ValueError(f"log_lr needs every LR > 0, got lrs[0]={result.lrs[0]!r}")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    curves = [("loss", result.losses, result.smoothed_losses, _LOSS_COLOR),
              ("accuracy", result.accuracies, result.smoothed_accuracies, _ACC_COLOR)]
    curves = [c for c in curves if c[1] is not None]
    axes = [ax] if len(curves) == 1 else [ax, ax.twinx()]
    handles = []
    for target, (name, values, smoothed, color) in zip(axes, curves):
        if raw:
            handles += target.plot(result.lrs, values, color=color, alpha=0.3, lw=1,
                                   label=name)
        handles += target.plot(result.lrs, smoothed, color=color, lw=2,
                               label=f"{name} (smoothed)")
        if len(curves) > 1:
            target.set_ylabel(name, color=color)  # which axis is which curve's
        else:
            target.set_ylabel(name)
    if mark:
        base_lr, max_lr = result.suggest(rule, ratio=ratio, base=base)
        for value, name, style in ((base_lr, "base_lr", ":"), (max_lr, "max_lr", "--")):
            handles.append(ax.axvline(value, color=_MARK_COLOR, ls=style,
                                      label=f"{name} = {value:.3g}"))
    ax.set_xscale("log" if log_lr else "linear")
    ax.set_xlabel("learning rate")
    title = "LR range test"
    if result.stop_reason:
        title += f" (stopped at lr {result.lrs[-1]:.3g})"
    ax.set_title(title)
    ax.legend(handles=handles, loc="best", fontsize="small")
    return ax


__all__ = ["plot_range_test"]
