"""The range-test engine and result: ramps, smoothing, divergence, suggestions, plot."""

import math
import subprocess
import sys

import matplotlib
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

import cyclr
from cyclr.rangetest import RangeTest, RangeTestResult, ema, ramp, smooth

matplotlib.use("Agg")

RULES = ["accuracy", "steepest", "valley", "minimum"]


def run_engine(losses=None, accuracies=None, **kwargs):
    """Drive the engine over given values, as a training loop would."""
    n = len(losses if losses is not None else accuracies)
    kwargs.setdefault("progress", False)
    rt = RangeTest(kwargs.pop("start_lr", 1e-4), kwargs.pop("end_lr", 1.0), n, **kwargs)
    for k, _ in enumerate(rt):
        rt.record(loss=None if losses is None else losses[k],
                  accuracy=None if accuracies is None else accuracies[k])
    return rt


# --- ramp --------------------------------------------------------------------------

@settings(max_examples=60)
@given(start=st.floats(1e-9, 1.0), decades=st.floats(0.5, 9.0), n=st.integers(2, 500),
       mode=st.sampled_from(["exp", "linear"]))
@example(start=1e-7, decades=8.0, n=100, mode="exp")
@example(start=1e-9, decades=0.5, n=2, mode="linear")
def test_ramp_is_exact_at_both_ends_monotone_and_follows_its_formula(start, decades, n, mode):
    end = start * 10**decades
    rt = RangeTest(start, end, n, mode=mode, progress=False)
    lrs = rt.lrs
    assert len(lrs) == len(rt) == n
    assert lrs[0] == start and lrs[-1] == end
    assert np.all(np.diff(lrs) > 0)
    k = np.arange(n)
    if mode == "exp":
        expected = start * (end / start) ** (k / (n - 1))
    else:
        expected = start + (end - start) * k / (n - 1)
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)
    assert [lr for lr in rt.lrs] == ramp(start, end, n, mode).tolist()


def test_linear_ramp_may_start_at_zero():
    assert ramp(0.0, 0.02, 5, "linear").tolist() == [0.0, 0.005, 0.01, 0.015, 0.02]


@pytest.mark.parametrize("args, kwargs, error, match", [
    ((1.0, 0.1, 10), {}, ValueError, "end_lr must be > start_lr"),
    ((0.1, 0.1, 10), {}, ValueError, "end_lr"),
    ((0.0, 1.0, 10), {"mode": "exp"}, ValueError, "start_lr must be > 0"),
    ((-1.0, 1.0, 10), {"mode": "linear"}, ValueError, "start_lr"),
    ((1e-3, math.inf, 10), {}, ValueError, "end_lr"),
    ((1e-3, 1.0, 1), {}, ValueError, "num_steps"),
    ((1e-3, 1.0, 10.0), {}, TypeError, "num_steps"),
    ((1e-3, 1.0, True), {}, TypeError, "num_steps"),
    ((1e-3, 1.0, 10), {"mode": "cubic"}, ValueError, "mode"),
    ((1e-3, 1.0, 10), {"smoothing": 1.0}, ValueError, "smoothing"),
    ((1e-3, 1.0, 10), {"diverge_factor": 1.0}, ValueError, "diverge_factor"),
    ((1e-3, 1.0, 10), {"progress": "yes"}, TypeError, "progress"),
    ((1.0, 1.0 + 1e-15, 100), {}, ValueError, "too close"),
])
def test_bad_engine_arguments_name_the_parameter(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        RangeTest(*args, **kwargs)


# --- driving the engine ------------------------------------------------------------

def test_iteration_yields_the_ramp_and_the_result_holds_the_records():
    rt = RangeTest(0.01, 0.1, 4, mode="linear", progress=False)
    seen = []
    for lr in rt:
        seen.append(lr)
        rt.record(loss=np.float32(2.0) - lr, accuracy=np.array(lr))
    assert seen == rt.lrs.tolist() and rt.done and rt.stop_reason is None
    res = rt.result()
    assert res.lrs.tolist() == seen
    assert res.losses.tolist() == [float(np.float32(2.0) - lr) for lr in seen]
    assert res.accuracies.tolist() == seen
    assert res.mode == "linear"


def test_a_manual_loop_with_lr_and_done():
    rt = RangeTest(1e-3, 1e-1, 3, progress=False)
    lrs = []
    while not rt.done:
        lrs.append(rt.lr)
        rt.record(accuracy=0.5)
    assert lrs == rt.lrs.tolist() and rt.result().losses is None


def test_record_once_per_lr_is_enforced():
    rt = RangeTest(1e-3, 1.0, 5, progress=False)
    it = iter(rt)
    next(it)
    with pytest.raises(RuntimeError, match="once per LR"):
        next(it)
    rt2 = RangeTest(1e-3, 1.0, 2, progress=False)
    for _ in rt2:
        rt2.record(loss=1.0)
    with pytest.raises(RuntimeError, match="done"):
        rt2.record(loss=1.0)
    with pytest.raises(RuntimeError, match="done"):
        rt2.lr


def test_record_checks_its_values():
    rt = RangeTest(1e-3, 1.0, 5, progress=False)
    with pytest.raises(TypeError, match="neither"):
        rt.record()
    with pytest.raises(TypeError, match="loss"):
        rt.record(loss="high")
    rt.record(loss=1.0, accuracy=0.1)
    with pytest.raises(TypeError, match="loss and accuracy before"):
        rt.record(loss=1.0)
    with pytest.raises(RuntimeError, match="no step recorded"):
        RangeTest(1e-3, 1.0, 5, progress=False).result()


def test_partial_result_and_stop():
    rt = RangeTest(1e-3, 1.0, 10, progress=False)
    for k, _ in zip(range(3), rt):
        rt.record(loss=1.0)
    assert len(rt.result()) == 3 and not rt.done
    rt.stop("time limit")
    assert rt.done and rt.result().stop_reason == "time limit" and len(rt.result()) == 3
    assert list(rt) == []


# --- smoothing ---------------------------------------------------------------------

def weighted_average(values, weights):
    return sum(w * x for w, x in zip(weights, values)) / sum(weights)


@settings(max_examples=50)
@given(values=st.lists(st.floats(-100, 100), min_size=1, max_size=40),
       beta=st.floats(0.0, 0.99))
def test_running_smoothed_loss_is_the_bias_corrected_average(values, beta):
    rt = RangeTest(1e-3, 1.0, len(values) + 1, smoothing=beta, diverge_factor=None,
                   progress=False)
    for k, (x, _) in enumerate(zip(values, rt)):
        rt.record(loss=x)
        # Bias-corrected EMA = the plain weighted average with weights beta**(k - j).
        expected = weighted_average(values[:k + 1], [beta ** (k - j) for j in range(k + 1)])
        assert rt.smoothed_loss == pytest.approx(expected, rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(ema(values, beta)[-1], rt.smoothed_loss, rtol=1e-12)


def test_bias_correction_makes_a_constant_curve_constant_from_the_first_step():
    out = ema([3.0] * 20, 0.98)
    np.testing.assert_allclose(out, 3.0, rtol=1e-12)
    np.testing.assert_allclose(smooth([3.0] * 20, 0.9), 3.0, rtol=1e-12)


def reference_smooth(values, beta):
    """Running median (of 5, 3 below 15 values, 1 below 5) over the finite values, then
    sum(beta**|i-j| m_j) / sum(beta**|i-j|) over finite j, by brute force."""
    x = np.asarray(values, dtype=float)
    finite = np.isfinite(x)
    n = len(x)
    width = 5 if n >= 15 else 3 if n >= 5 else 1
    med = np.full(n, np.nan)
    for i in range(n):
        window = x[max(0, i - width // 2):i + width // 2 + 1]
        window = window[np.isfinite(window)]
        if window.size:
            med[i] = np.median(window)
    out = np.full(n, np.nan)
    for i in range(n):
        if finite[i]:
            w = np.array([beta ** abs(i - j) for j in range(n)]) * finite
            out[i] = np.sum(w * np.where(finite, med, 0.0)) / np.sum(w)
    return out


@settings(max_examples=50)
@given(values=st.lists(st.one_of(st.floats(-10, 10), st.just(math.nan), st.just(math.inf)),
                       min_size=1, max_size=30),
       beta=st.floats(0.0, 0.95))
def test_smooth_is_a_two_sided_kernel_after_a_running_median(values, beta):
    np.testing.assert_allclose(smooth(values, beta), reference_smooth(values, beta),
                               rtol=1e-9, atol=1e-9, equal_nan=True)


def test_smooth_has_no_lag_and_drops_isolated_spikes():
    x = np.sin(np.linspace(0, 3, 60)) + np.linspace(0, 1, 60)
    np.testing.assert_allclose(smooth(x[::-1], 0.8), smooth(x, 0.8)[::-1], rtol=1e-12)
    spiky = np.ones(30)
    spiky[[5, 14, 15, 25]] = [40.0, -30.0, 50.0, math.nan]
    out = smooth(spiky, 0.8)
    assert math.isnan(out[25])
    np.testing.assert_allclose(np.delete(out, 25), 1.0, rtol=1e-12)


# --- divergence --------------------------------------------------------------------

def test_stops_when_the_smoothed_loss_exceeds_the_factor_times_the_best():
    losses = [2.0, 1.5, 1.0, 0.8, 0.7] + [0.7 * 1.6**k for k in range(1, 40)]
    beta, factor = 0.8, 5.0
    rt = run_engine(losses, smoothing=beta, diverge_factor=factor)
    # The step by hand: first k with EMA_k > factor * min(EMA_0..EMA_{k-1}).
    averages = [weighted_average(losses[:k + 1], [beta ** (k - j) for j in range(k + 1)])
                for k in range(len(losses))]
    stop = next(k for k in range(1, len(losses)) if averages[k] > factor * min(averages[:k]))
    assert rt.done and len(rt.result()) == stop + 1 < len(losses)
    assert "exceeded" in rt.stop_reason and f"step {stop}" in rt.stop_reason
    assert rt.best_loss == pytest.approx(min(averages[:stop]))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_non_finite_loss_stops_at_once_even_without_a_factor(bad):
    losses = [2.0, 1.8, 1.7, bad, 1.0, 1.0]
    rt = run_engine(losses, diverge_factor=None)
    res = rt.result()
    assert len(res) == 4 and str(bad) in rt.stop_reason
    assert res.losses[3] != res.losses[3] or math.isinf(res.losses[3])


def test_without_a_factor_growth_does_not_stop_and_nonpositive_best_is_ignored():
    rising = [1.0 * 2**k for k in range(30)]
    assert run_engine(rising, diverge_factor=None).stop_reason is None
    negative = [-5.0 + k for k in range(30)]  # e.g. a log-likelihood loss
    assert run_engine(negative).stop_reason is None


def test_accuracy_only_never_diverges():
    rt = run_engine(accuracies=[0.1] * 5 + [math.nan] + [0.2] * 5)
    assert rt.stop_reason is None and len(rt.result()) == 11


# --- suggestions on curves with known answers ----------------------------------------

def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


LOSS_LRS = np.geomspace(1e-5, 10.0, 200)
X0 = math.log10(0.01)  # where the synthetic loss falls fastest against log-LR


def synthetic_loss(lrs, noise=0.0, spikes=0, seed=0):
    x = np.log10(lrs)
    loss = 0.3 + 2.0 * (1 - sigmoid((x - X0) / 0.25)) + np.exp((x - 0.3) / 0.15)
    rng = np.random.default_rng(seed)
    loss = loss + noise * rng.standard_normal(len(lrs))
    if spikes:  # at most two in any five steps: what a running median of 5 removes
        loss[rng.choice(np.arange(10, len(lrs) - 40, 3), spikes, replace=False)] *= 8.0
    return loss


def decades_between(a, b):
    return abs(math.log10(a) - math.log10(b))


NOISY = [(0.0, 0, 0)] + [(0.03, 0, seed) for seed in range(5)] + [
    (0.03, 8, seed) for seed in range(10)]


@pytest.mark.parametrize("noise, spikes, seed", NOISY)
def test_loss_rules_find_the_known_points(noise, spikes, seed):
    res = RangeTestResult(LOSS_LRS, synthetic_loss(LOSS_LRS, noise, spikes, seed))
    dense = np.geomspace(1e-5, 10.0, 200001)
    true_min = dense[np.argmin(synthetic_loss(dense))]
    tol = 0.1 if noise == 0 else 0.2  # decades; the ramp has 20 steps per decade
    # Steepest descent against log-LR is the sigmoid's centre; so is half way down.
    assert decades_between(res.suggest("steepest")[1], 10**X0) < tol
    assert decades_between(res.suggest("valley")[1], 10**X0) < tol
    # The bottom is flat: noise moves its lowest point by up to a few tenths of a decade.
    assert decades_between(res.suggest("minimum")[1], true_min / 10) < 2.5 * tol
    assert res.suggest("auto") == res.suggest("valley")
    base_lr, max_lr = res.suggest("steepest", ratio=3.0)
    assert base_lr == max_lr / 3.0


def test_steepest_on_a_linear_ramp_measures_slope_against_lr():
    lrs = np.linspace(0.001, 1.0, 400)
    loss = 2.0 - 1.5 * sigmoid((lrs - 0.4) / 0.05) + np.exp((lrs - 0.95) / 0.01)
    res = RangeTestResult(lrs, loss, mode="linear")
    assert abs(res.suggest("steepest")[1] - 0.4) < 0.01
    # Measured against log-LR, the same curve's steepest point moves: the axis matters.
    as_exp = RangeTestResult(lrs, loss, mode="exp")
    assert as_exp.suggest("steepest")[1] != res.suggest("steepest")[1]


PAPER_LRS = np.linspace(0.0, 0.02, 201)  # the paper's linear ramp, 1e-4 per step


def paper_accuracy(noise=0.0, spikes=0, seed=0):
    """Flat at 0.1 to lr 0.002, rising linearly to 0.9 at 0.006, ragged and falling from
    0.012: the paper's Figure 3 shape; answers max_lr = 0.006 and a rise at 0.002."""
    lrs = PAPER_LRS
    acc = np.interp(lrs, [0.0, 0.002, 0.006, 0.012, 0.02], [0.1, 0.1, 0.9, 0.88, 0.3])
    rng = np.random.default_rng(seed)
    ragged = np.where(lrs > 0.006, 0.04 * (lrs - 0.006) / 0.014, 0.0)
    acc = acc + (noise + ragged) * rng.standard_normal(len(lrs))
    if spikes:
        acc[rng.choice(np.arange(5, 150, 3), spikes, replace=False)] = 0.1
    return acc


@pytest.mark.parametrize("noise, spikes, seed", [(0.0, 0, 0)] + [
    (0.01, spikes, seed) for spikes in (0, 6) for seed in range(5)] + [(0.02, 6, 0)])
def test_the_papers_accuracy_rule_finds_the_known_bounds(noise, spikes, seed):
    res = RangeTestResult(PAPER_LRS, accuracies=paper_accuracy(noise, spikes, seed),
                          mode="linear")
    base_lr, max_lr = res.suggest("accuracy")
    assert 0.0055 <= max_lr <= 0.0062
    assert base_lr == max_lr / 4
    rise_base, rise_max = res.suggest("accuracy", base="rise")
    assert rise_max == max_lr and 0.002 <= rise_base <= 0.0027
    assert res.suggest() == res.suggest("accuracy")


def test_nan_losses_end_what_the_rules_read():
    loss = synthetic_loss(LOSS_LRS)
    cut = int(np.searchsorted(LOSS_LRS, 0.02))
    loss[cut] = math.nan
    loss[cut + 1:] = 0.01  # garbage after a NaN must not count as a great minimum
    res = RangeTestResult(LOSS_LRS, loss)
    for rule in ("steepest", "valley", "minimum"):
        assert res.suggest(rule)[1] < LOSS_LRS[cut]
    with pytest.raises(ValueError, match="finite"):
        RangeTestResult(LOSS_LRS[:3], [math.nan, 1.0, 1.0]).suggest("valley")


def test_a_suggestion_at_the_first_point_is_returned():
    lrs = np.geomspace(0.1, 10.0, 30)
    rising = RangeTestResult(lrs, np.linspace(1.0, 5.0, 30), np.linspace(0.9, 0.1, 30))
    assert rising.suggest("steepest") == (0.1 / 4, 0.1)
    assert rising.suggest("valley") == (0.1 / 4, 0.1)
    assert rising.suggest("minimum") == pytest.approx((0.01 / 4, 0.01))
    assert rising.suggest("accuracy") == (0.1 / 4, 0.1)
    assert rising.suggest("accuracy", base="rise") == (0.1 / 4, 0.1)
    single = RangeTestResult([0.5], [1.0], [0.2])
    for rule in RULES:
        assert single.suggest(rule)[1] in (0.5, 0.05)


def test_auto_falls_back_to_valley_when_no_accuracy_is_finite():
    loss = synthetic_loss(LOSS_LRS)
    res = RangeTestResult(LOSS_LRS, loss, np.full(len(LOSS_LRS), math.nan))
    assert res.suggest() == res.suggest("valley")
    with pytest.raises(ValueError, match="accuracies"):
        RangeTestResult(LOSS_LRS, loss).suggest("accuracy")
    with pytest.raises(ValueError, match="losses"):
        RangeTestResult(LOSS_LRS, accuracies=loss).suggest("steepest")


curves = st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(math.nan), st.just(math.inf)),
                  min_size=1, max_size=60)


@settings(max_examples=80)
@given(losses=curves, accuracies=curves, rule=st.sampled_from(RULES + ["auto"]),
       base=st.sampled_from(["ratio", "rise"]), beta=st.floats(0.0, 0.95))
def test_every_rule_returns_sane_bounds_on_any_curve(losses, accuracies, rule, base, beta):
    n = min(len(losses), len(accuracies))
    lrs = np.geomspace(1e-4, 1.0, n) if n > 1 else np.array([1e-2])
    res = RangeTestResult(lrs, losses[:n], accuracies[:n], smoothing=beta)
    try:
        base_lr, max_lr = res.suggest(rule, base=base)
    except ValueError as exc:  # only when the curve the rule reads has nothing finite
        assert "finite" in str(exc)
        return
    assert math.isfinite(base_lr) and math.isfinite(max_lr)
    assert 0 < base_lr <= max_lr
    assert max_lr in lrs or max_lr * 10 in lrs or any(np.isclose(max_lr * 10, lrs))


@pytest.mark.parametrize("kwargs, error, match", [
    ({"rule": "best"}, ValueError, "rule"),
    ({"ratio": 0.5}, ValueError, "ratio"),
    ({"ratio": math.nan}, ValueError, "ratio"),
    ({"base": "low"}, ValueError, "base"),
])
def test_bad_suggest_arguments_name_the_parameter(kwargs, error, match):
    res = RangeTestResult(LOSS_LRS, synthetic_loss(LOSS_LRS))
    with pytest.raises(error, match=match):
        res.suggest(**kwargs)


@pytest.mark.parametrize("args, kwargs, match", [
    (([0.1, 0.2], [1.0]), {}, "losses must have one value per LR"),
    (([0.2, 0.1], [1.0, 1.0]), {}, "strictly increasing"),
    (([0.0, 0.1], [1.0, 1.0]), {"mode": "exp"}, "mode='exp'"),
    (([0.1, 0.2],), {}, "at least one"),
    (([[0.1, 0.2]], [[1.0, 1.0]]), {}, "1-D"),
    (([], []), {}, "empty"),
    (([0.1, math.nan], [1.0, 1.0]), {}, "finite"),
])
def test_bad_results_are_refused(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        RangeTestResult(*args, **kwargs)


def test_result_arrays_are_read_only_copies():
    lrs, losses = np.geomspace(1e-3, 1.0, 5), np.ones(5)
    res = RangeTestResult(lrs, losses)
    losses[0] = 9.0
    assert res.losses[0] == 1.0
    with pytest.raises(ValueError):
        res.lrs[0] = 0.5


# --- schedules from a result -------------------------------------------------------

def test_schedule_is_built_by_the_core_constructors():
    res = RangeTestResult(PAPER_LRS, accuracies=paper_accuracy(), mode="linear")
    base_lr, max_lr = res.suggest()
    assert res.schedule("triangular2", 500) == cyclr.triangular2(base_lr, max_lr, 500)
    assert res.schedule("triangular", 500, shape="hann") == cyclr.triangular(
        base_lr, max_lr, 500, shape="hann")
    s = res.schedule("exp_range", 500, gamma=0.999, ratio=3.0)
    assert s == cyclr.exp_range(max_lr / 3.0, max_lr, 500, gamma=0.999)
    rise = res.suggest(base="rise")
    assert res.schedule("triangular2", 8, base="rise") == cyclr.triangular2(*rise, 8)
    t = res.schedule("triangular", 500, ratio=3.0)
    assert t(500) == max_lr and t(0) == max_lr / 3.0 == t(1000)
    with pytest.raises(ValueError, match="policy must be one of"):
        res.schedule("exp", 500)
    with pytest.raises(TypeError, match="step_size"):
        res.schedule("triangular2")


def test_schedule_proposes_one_cycle_and_warm_restarts_at_the_suggested_max_lr():
    # lr_find -> fit_one_cycle: the test's max_lr is the 1cycle peak; warm restarts
    # restart at it.
    res = RangeTestResult(PAPER_LRS, accuracies=paper_accuracy(), mode="linear")
    _, max_lr = res.suggest()
    assert res.schedule("one_cycle", total_steps=5000) == cyclr.one_cycle(max_lr, 5000)
    assert res.schedule("one_cycle", total_steps=900, pct_start=0.25, three_phase=True) == \
        cyclr.one_cycle(max_lr, 900, pct_start=0.25, three_phase=True)
    restarts = res.schedule("cosine_restarts", first_cycle=400, cycle_mult=2,
                            min_lr=max_lr / 100)
    assert restarts == cyclr.cosine_restarts(max_lr, 400, min_lr=max_lr / 100, cycle_mult=2)
    assert restarts(0) == max_lr and restarts(400) == max_lr
    with pytest.raises(TypeError, match="needs total_steps"):
        res.schedule("one_cycle")
    with pytest.raises(TypeError, match="needs first_cycle"):
        res.schedule("cosine_restarts")
    with pytest.raises(TypeError, match="one_cycle takes no step_size"):
        res.schedule("one_cycle", 500, total_steps=1000)


# --- progress, plot, imports -------------------------------------------------------

def test_progress_off_a_terminal_is_whole_lines_every_tenth(capsys):
    rt = RangeTest(1e-3, 1.0, 6)
    for k, _ in enumerate(rt):
        rt.record(loss=[1.0, 0.9, 0.8, math.nan, 1.0, 1.0][k])
    err = capsys.readouterr().err
    assert "\r" not in err and err.endswith("\n")
    assert err.splitlines() == [
        "LR range test 1/6: lr 0.001 loss 1", "LR range test 2/6: lr 0.00398 loss 0.9",
        "LR range test 3/6: lr 0.0158 loss 0.8",
        "LR range test 4/6: stopped: loss is nan at step 3 (lr=0.0631)"]
    rt = RangeTest(1e-3, 1.0, 95, diverge_factor=None)
    for _ in rt:
        rt.record(loss=1.0, accuracy=0.5)
    lines = capsys.readouterr().err.splitlines()
    # every 95 // 10 = 9 steps, and the end
    assert [line.split(":")[0] for line in lines] == [
        f"LR range test {k}/95" for k in range(9, 95, 9)] + ["LR range test 95/95"]
    assert lines[0].endswith("loss 1 acc 0.5") and lines[-1].endswith(": done")
    run_engine([1.0] * 5)
    assert capsys.readouterr().err == ""
    with pytest.raises(KeyError):
        with RangeTest(1e-3, 1.0, 6) as rt:
            for lr in rt:
                rt.record(loss=1.0)
                raise KeyError("the training loop failed")
    assert capsys.readouterr().err == ("LR range test 1/6: lr 0.001 loss 1\n"
                                       "LR range test 1/6: interrupted\n")


def test_progress_on_a_terminal_is_a_tqdm_bar():
    """stderr on a pseudo-terminal: tqdm redraws one line with carriage returns."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    code = ("import cyclr\n"
            "rt = cyclr.RangeTest(1e-3, 1.0, 40)\n"
            "for lr in rt:\n"
            "    rt.record(loss=1.0)\n")
    leader, follower = pty.openpty()
    # A terminal 100 columns wide (a new pseudo-terminal has 0, where tqdm draws nothing).
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait() == 0
    out = b"".join(chunks).decode()
    assert "\r" in out and "LR range test" in out
    last = out.replace("\r\n", "\n").split("\r")[-1]
    assert "40/40" in last and "100%" in last and "done" in last


def lines_by_label(ax):
    return {line.get_label(): line for a in ax.figure.axes for line in a.lines}


def test_plot_draws_raw_and_smoothed_curves_and_marks_the_bounds():
    loss = synthetic_loss(LOSS_LRS, noise=0.03)
    acc = np.clip(1.0 - loss / 2.5, 0.0, 1.0)
    res = RangeTestResult(LOSS_LRS, loss, acc)
    ax = res.plot(Figure().subplots())
    assert ax.get_xscale() == "log" and len(ax.figure.axes) == 2
    lines = lines_by_label(ax)
    np.testing.assert_array_equal(lines["loss"].get_xdata(), res.lrs)
    np.testing.assert_array_equal(lines["loss"].get_ydata(), loss)
    np.testing.assert_array_equal(lines["loss (smoothed)"].get_ydata(), res.smoothed_losses)
    np.testing.assert_array_equal(lines["accuracy (smoothed)"].get_ydata(),
                                  res.smoothed_accuracies)
    base_lr, max_lr = res.suggest()
    assert list(lines[f"base_lr = {base_lr:.3g}"].get_xdata()) == [base_lr, base_lr]
    assert list(lines[f"max_lr = {max_lr:.3g}"].get_xdata()) == [max_lr, max_lr]


def test_plot_options_linear_axis_single_curve_and_pyplot():
    res = RangeTestResult(PAPER_LRS, accuracies=paper_accuracy(0.01), mode="linear")
    ax = res.plot(Figure().subplots(), raw=False, mark=False)
    assert ax.get_xscale() == "linear" and len(ax.figure.axes) == 1
    assert set(lines_by_label(ax)) == {"accuracy (smoothed)"}
    with pytest.raises(ValueError, match="log_lr"):
        res.plot(Figure().subplots(), log_lr=True)
    import matplotlib.pyplot as plt

    ax = res.plot(rule="accuracy", base="rise")
    assert ax.figure in map(plt.figure, plt.get_fignums())
    plt.close(ax.figure)


def test_the_engine_needs_neither_frameworks_nor_matplotlib():
    code = (
        "import sys\n"
        "sys.modules['matplotlib'] = None  # as if it were not installed\n"
        "import cyclr.rangetest as r\n"
        "res = r.RangeTestResult([1e-3, 1e-2, 1e-1], [2.0, 1.0, 3.0])\n"
        "print(res.suggest('minimum'))\n"
        "try:\n"
        "    res.plot()\n"
        "except ImportError:\n"
        "    print('no plot')\n"
        "heavy = [m for m in ('torch', 'tensorflow', 'keras', 'jax') if m in sys.modules]\n"
        "print(heavy)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    assert out[:3] == ["(0.00025, 0.001)", "no plot", "[]"]  # the minimum is at 1e-2


# --- the auto rule's fallback, and curves with nothing to read ------------------------

def test_auto_reads_the_loss_when_the_accuracy_never_varies():
    loss = synthetic_loss(LOSS_LRS)
    constant = RangeTestResult(LOSS_LRS, loss, np.zeros(len(LOSS_LRS)))  # MSE "top-1"
    assert constant.auto_rule == "valley"
    assert constant.suggest() == constant.suggest("valley")
    assert constant.suggest()[1] > 10 * LOSS_LRS[0]  # not the first LR
    assert constant.suggest("accuracy")[1] == LOSS_LRS[0]  # what the old default gave
    varying = RangeTestResult(PAPER_LRS, np.ones(len(PAPER_LRS)), paper_accuracy(),
                              mode="linear")
    assert varying.auto_rule == "accuracy"
    assert varying.suggest() == varying.suggest("accuracy")
    assert RangeTestResult(LOSS_LRS, loss).auto_rule == "valley"
    # Only accuracies: the paper's rule, even on a flat curve (it says "start higher").
    flat = RangeTestResult(LOSS_LRS, accuracies=np.full(len(LOSS_LRS), 0.3))
    assert flat.auto_rule == "accuracy" and flat.suggest()[1] == LOSS_LRS[0]


def test_accuracy_that_varies_only_after_the_first_nan_loss_does_not_count():
    loss = synthetic_loss(LOSS_LRS)
    cut = 150
    loss[cut] = math.nan
    acc = np.where(np.arange(len(LOSS_LRS)) < cut, 0.5, np.linspace(0, 1, len(LOSS_LRS)))
    assert RangeTestResult(LOSS_LRS, loss, acc).auto_rule == "valley"


def test_nothing_finite_gives_a_message_about_what_was_recorded():
    nan_acc = RangeTestResult([1e-3, 1e-2], accuracies=[math.nan, math.nan])
    with pytest.raises(ValueError, match="no finite loss or accuracy") as info:
        nan_acc.suggest()
    assert "losses" not in str(info.value)
    with pytest.raises(ValueError, match="accuracies, but none of them is finite"):
        nan_acc.suggest("accuracy")
    diverged = RangeTestResult([1e-7], [math.nan], [0.1],
                               stop_reason="loss is nan at step 0 (lr=1e-07)")
    with pytest.raises(ValueError, match="stopped: loss is nan at step 0"):
        diverged.suggest()


@pytest.mark.parametrize("accuracies", [None, [math.nan]])
def test_plot_after_divergence_at_the_first_step_draws_without_bounds(accuracies):
    rt = RangeTest(1e-7, 10.0, 50, progress=False)
    for _ in rt:
        rt.record(loss=math.nan, accuracy=None if accuracies is None else accuracies[0])
    res = rt.result()
    assert len(res) == 1 and "step 0" in res.stop_reason
    ax = res.plot(Figure().subplots())
    assert "no bounds: no finite losses" in ax.get_title()
    assert not [k for k in lines_by_label(ax) if k.startswith(("base_lr", "max_lr"))]
    with pytest.raises(ValueError, match="rule"):
        res.plot(Figure().subplots(), rule="best")
