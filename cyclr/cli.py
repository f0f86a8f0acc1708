"""The ``cyclr`` command: ``show`` a schedule, ``stepsize`` advice, and the ``demo``.

Every number printed, plotted or written comes from the core (``Schedule.array``,
``Schedule.cycle_ends``, ``suggest_step_size``); this module only parses, checks and
formats. Exit status: 0 on success, 2 for a usage error (argparse's convention), which
includes an argument the core rejects and a file that cannot be read or written; 1 when
the reader of standard output goes away (a broken pipe).

Files: every output is written to a temporary file beside it and renamed into place
once the run has produced all of them, so a failed run leaves existing files as they
were. An output may not be the input file or another output of the same run, nor a
symbolic link to a file; a device or FIFO (``/dev/null``) is written into. ``--from``
reads at most ``MAX_FROM_BYTES`` bytes, from a regular file only.

Examples:
    cyclr show triangular2 --base-lr 0.001 --max-lr 0.006 --step-size 2000
    cyclr show one_cycle --max-lr 0.1 --total-steps 1000 --plot one_cycle.svg
    cyclr show --from schedule.json --csv values.csv
    cyclr stepsize --examples 50000 --batch-size 100
    cyclr demo --quick
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np

from . import __version__, _files, _render, demo, policies
from .advice import PAPER_EPOCHS_PER_HALF_CYCLE, iterations_per_epoch, suggest_step_size
from .schedules import Chain, Constant, Cyclic, Decay, Momentum, OneCycle, StepDecay
from .serialize import fill_nulls, from_dict

MAX_STEPS = 10_000_000
MAX_FROM_BYTES = 1 << 20     # a description is a few hundred bytes; a chain, a few KiB
# The plot formats, by file extension (matplotlib writes JPEG through Pillow, which it
# requires).
PLOT_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf", ".jpg": "jpeg",
                ".jpeg": "jpeg"}
DEFAULT_CYCLES = 4
DEFAULT_OPEN_STEPS = 1000
_LISTED_ENDS = 12

# Per policy: the options it requires and the ones it also accepts (by argparse dest).
_POLICY_OPTIONS = {
    "triangular": (("base_lr", "max_lr", "step_size"), ("step_size_down", "shape")),
    "triangular2": (("base_lr", "max_lr", "step_size"), ("step_size_down", "shape")),
    "exp_range": (("base_lr", "max_lr", "step_size", "gamma"),
                  ("step_size_down", "shape", "scale_mode")),
    "one_cycle": (("max_lr", "total_steps"),
                  ("pct_start", "anneal", "div_factor", "final_div_factor", "three_phase")),
    "constant": (("lr",), ()),
    "decay": (("max_lr", "base_lr"), ("decay_steps",)),
    "exponential": (("lr", "gamma"), ()),
    "step_decay": (("lr", "gamma", "step_size"), ()),
}
_SCHEDULE_DESTS = sorted({d for req, opt in _POLICY_OPTIONS.values() for d in req + opt})


class UsageError(Exception):
    """A bad argument, file or value: reported as ``cyclr CMD: error: ...``, exit 2.

    Args:
        message: the one-line error.
        usage: print the command's usage before it (for a bad option, not for a file
            that cannot be read or written).
    """

    def __init__(self, message: str, *, usage: bool = True):
        super().__init__(message)
        self.usage = usage


def _file_error(problem: Exception) -> UsageError:
    return UsageError(str(problem), usage=False)


def _number(text: str) -> int | float:
    """A number as typed: ``"2000"`` stays an int (so messages and reprs echo it as
    given), anything else goes through ``float`` (``"1e-3"``, ``"inf"``)."""
    try:
        return int(text)
    except ValueError:
        return float(text)


_number.__name__ = "number"   # argparse says "invalid number value: 'abc'"


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


# ---------------------------------------------------------------- argument parsing

def build_parser() -> argparse.ArgumentParser:
    """The ``cyclr`` argument parser, with one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="cyclr",
        description="Cyclical learning rates (Smith 2017): inspect schedules, get the "
                    "paper's step-size advice, and run a small reproduction of its "
                    "experiment.")
    parser.add_argument("--version", action="version", version=f"cyclr {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_show(commands)
    _add_stepsize(commands)
    _add_demo(commands)
    return parser


def _add_show(commands) -> None:
    show = commands.add_parser(
        "show", help="summarize, sparkline, plot or tabulate a schedule",
        description="Summarize a schedule (cycles, min/max LR, the steps where cycles "
                    "end), draw it as a terminal sparkline, and optionally plot it "
                    "(--plot) or write its values (--csv). Give a POLICY with its options, "
                    "or --from FILE with a description written by Schedule.to_dict() "
                    "(JSON, or TOML for a .toml file; chains are expressed this way).",
        epilog="Each policy takes: " + "; ".join(
            f"{name}: " + " ".join(_flag(d) for d in req)
            + "".join(f" [{_flag(d)}]" for d in opt)
            for name, (req, opt) in _POLICY_OPTIONS.items()))
    show.add_argument("policy", nargs="?", choices=list(_POLICY_OPTIONS), metavar="POLICY",
                      help="one of: " + ", ".join(_POLICY_OPTIONS))
    show.add_argument("--from", dest="from_file", metavar="FILE", type=Path,
                      help="read the schedule from a to_dict() description (JSON or .toml) "
                           "instead of POLICY")
    cyc = show.add_argument_group("cyclic policies (triangular, triangular2, exp_range)")
    cyc.add_argument("--base-lr", type=_number, metavar="LR", help="lower LR bound")
    cyc.add_argument("--max-lr", type=_number, metavar="LR",
                     help="upper LR bound (one_cycle: the peak; decay: the start)")
    cyc.add_argument("--step-size", type=_number, metavar="STEPS",
                     help="steps in a half cycle (step_decay: steps between drops)")
    cyc.add_argument("--step-size-down", type=_number, metavar="STEPS",
                     help="steps in the falling half (default: --step-size)")
    cyc.add_argument("--shape", choices=["linear", "welch", "hann"],
                     help="window: linear (triangular), welch (parabolic) or hann "
                          "(sinusoidal); default linear")
    cyc.add_argument("--gamma", type=_number,
                     help="exp_range, exponential, step_decay: decay factor in (0, 1]")
    cyc.add_argument("--scale-mode", choices=["iterations", "cycle"],
                     help="exp_range: decay per step (default) or per cycle")
    one = show.add_argument_group("one_cycle")
    one.add_argument("--total-steps", type=int, metavar="N", help="length of the cycle")
    one.add_argument("--pct-start", type=_number, metavar="P",
                     help="fraction of steps spent rising (default 0.3)")
    one.add_argument("--anneal", choices=["cos", "linear"], help="default cos")
    one.add_argument("--div-factor", type=_number, metavar="X",
                     help="initial LR = max_lr / X (default 25)")
    one.add_argument("--final-div-factor", type=_number, metavar="X",
                     help="final LR = initial LR / X (default 1e4)")
    one.add_argument("--three-phase", action="store_true", default=None,
                     help="come back down to the initial LR before annealing")
    base = show.add_argument_group("baselines (constant, decay, exponential, step_decay)")
    base.add_argument("--lr", type=_number, help="the (starting) LR")
    base.add_argument("--decay-steps", type=_number, metavar="STEPS",
                      help="decay: steps from --max-lr down to --base-lr (default --steps)")
    out = show.add_argument_group("output")
    out.add_argument("--steps", type=int, metavar="N",
                     help=f"steps to show (default: {DEFAULT_CYCLES} cycles of a cyclic "
                          f"schedule, the whole of a finite one, else {DEFAULT_OPEN_STEPS})")
    out.add_argument("--momentum", type=float, nargs=2, metavar=("BASE", "MAX"),
                     help="also show cyclical momentum between BASE and MAX (cyclic and "
                          "one_cycle schedules, and chains of them)")
    out.add_argument("--width", type=int, metavar="COLUMNS",
                     help="sparkline width (default: the terminal's, at most 100)")
    out.add_argument("--plot", "--png", dest="plot", type=Path, metavar="FILE",
                     help="write a plot, in the format the extension names: "
                          + ", ".join(PLOT_FORMATS) + " (--png is the old name)")
    out.add_argument("--size", default="800x400", metavar="WxH",
                     help="plot size in pixels, at 100 dpi (default 800x400)")
    out.add_argument("--csv", metavar="FILE",
                     help="write step,lr[,momentum] per step ('-' for standard output)")
    show.set_defaults(run=run_show, subparser=show)


def _add_stepsize(commands) -> None:
    sub = commands.add_parser(
        "stepsize", help="the paper's advice for the half-cycle length",
        description="Smith (2017), section 3.3: set the step size (half a cycle) to 2-10 "
                    "epochs of iterations. Prints the iterations per epoch, the suggested "
                    "step size and the whole 2..10 epoch range.")
    sub.add_argument("--examples", type=int, required=True, metavar="N",
                     help="training examples per epoch")
    sub.add_argument("--batch-size", type=int, required=True, metavar="B")
    sub.add_argument("--epochs-per-half-cycle", type=_number, default=4, metavar="K",
                     help="epochs in a half cycle (default 4, the paper's CIFAR-10 setting)")
    sub.add_argument("--drop-last", action="store_true",
                     help="the last incomplete batch is dropped")
    sub.set_defaults(run=run_stepsize, subparser=sub)


def _add_demo(commands) -> None:
    sub = commands.add_parser(
        "demo", help="reproduce the paper's workflow on scikit-learn's digits (PyTorch)",
        description="Run the LR range test on a small MLP for scikit-learn's digits "
                    "(bundled, no download), take the suggested bounds, then train with a "
                    "fixed LR, the paper's linear decay, exponential decay and "
                    "triangular2 CLR for the same number of steps over several seeds. "
                    "Writes a Markdown report and PNG figures. Needs torch, scikit-learn "
                    "and matplotlib.")
    demo.add_arguments(sub)
    sub.set_defaults(run=_run_demo, subparser=sub)


def _run_demo(args) -> int:
    problem = demo.check_arguments(args)
    if problem:
        raise UsageError(problem)
    # Before any training: a folder that cannot take the report fails now, not after.
    problem = demo.check_output(args.out, force=args.force)
    if problem:
        raise UsageError(problem, usage=False)
    try:
        return demo.run_demo(args)   # imports torch, scikit-learn and matplotlib
    except demo.OutputError as error:
        raise UsageError(str(error), usage=False) from None


def main(argv=None) -> int:
    """Run the ``cyclr`` command with ``argv`` (default ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success, 2 for a usage error, 1 for a broken pipe.
        ``--help`` and argparse's own errors return their status too, instead of
        raising ``SystemExit``.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return _status(exit_.code)
    try:
        return args.run(args)
    except BrokenPipeError:
        # The reader went away (``cyclr show ... --csv - | head``): stop quietly, and
        # keep Python from failing again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except UsageError as error:
        sub = args.subparser
        if error.usage:
            sub.print_usage(sys.stderr)
        print(f"{sub.prog}: error: {error}", file=sys.stderr)
        return 2


def _status(code) -> int:
    if code is None:
        return 0
    return code if isinstance(code, int) else 2


# ---------------------------------------------------------------- cyclr show

def schedule_from_args(args):
    """The Schedule that the ``show`` arguments describe. A warning the core gives
    about it (a degenerate 1cycle, say) is printed as ``cyclr show: warning: ...``.

    Raises:
        UsageError: for a missing, extra or invalid option, or an unreadable file.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        schedule = _schedule_from_args(args)
    for warning in caught:
        print(f"{args.subparser.prog}: warning: {warning.message}", file=sys.stderr)
    return schedule


def _schedule_from_args(args):
    given = [d for d in _SCHEDULE_DESTS if getattr(args, d) is not None]
    if args.from_file is not None:
        if args.policy is not None or given:
            extra = [args.policy] if args.policy else []
            raise UsageError(f"--from FILE cannot be combined with a POLICY or its options, "
                             f"got {' '.join(extra + [_flag(d) for d in given])}")
        return load_schedule(args.from_file)
    if args.policy is None:
        raise UsageError("give a POLICY (one of " + ", ".join(_POLICY_OPTIONS)
                         + ") or --from FILE")
    required, optional = _POLICY_OPTIONS[args.policy]
    missing = [_flag(d) for d in required if getattr(args, d) is None]
    if missing:
        raise UsageError(f"{args.policy} needs {' '.join(missing)}")
    unused = [_flag(d) for d in given if d not in required + optional]
    if unused:
        raise UsageError(f"{args.policy} does not take {' '.join(unused)}")
    kw = {d: getattr(args, d) for d in required + optional if getattr(args, d) is not None}
    try:
        if args.policy == "decay":
            steps = kw.pop("decay_steps", args.steps)
            if steps is None:
                raise UsageError("decay needs --decay-steps (or --steps)")
            return policies.decay(kw["max_lr"], kw["base_lr"], steps)
        if args.policy in ("triangular", "triangular2", "exp_range"):
            positional = (kw.pop("base_lr"), kw.pop("max_lr"), kw.pop("step_size"))
            return getattr(policies, args.policy)(*positional, **kw)
        if args.policy == "one_cycle":
            return policies.one_cycle(kw.pop("max_lr"), kw.pop("total_steps"), **kw)
        return getattr(policies, args.policy)(**kw)
    except (TypeError, ValueError) as error:
        raise UsageError(str(error)) from None


def load_schedule(path: Path):
    """The schedule described in the JSON or TOML file ``path`` (``from_dict`` format,
    no imports of custom ``scale_fn`` code).

    TOML has no null, so in a ``.toml`` file a key that may be null (a cyclic
    ``step_size_down`` or ``scale_fn``, a chain segment's ``steps``) may be left out.

    The file is untrusted: it must be a regular file of at most ``MAX_FROM_BYTES``
    bytes (a FIFO or a device is refused without reading), and text nested too deeply
    or holding numbers too long to convert is refused like any invalid file.

    Raises:
        UsageError: for every file that does not describe a schedule, saying why.
    """
    path = Path(path)
    try:
        raw = _files.read_capped(path, MAX_FROM_BYTES)
    except _files.FileProblem as problem:
        raise UsageError(f"--from: {problem}", usage=False) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(f"--from: {str(path)!r} is not UTF-8 text: {error}",
                         usage=False) from None
    toml = path.suffix.lower() == ".toml"
    kind = "TOML" if toml else "JSON"
    try:
        if toml:
            import tomllib

            data = fill_nulls(tomllib.loads(text))
        else:
            data = json.loads(text)
    except ModuleNotFoundError:
        raise UsageError("--from: reading TOML needs Python 3.11 or later (tomllib); "
                         "use JSON instead", usage=False) from None
    except RecursionError:
        raise UsageError(f"--from: {str(path)!r} is not a schedule description: its "
                         f"{kind} is nested too deeply to read", usage=False) from None
    except ValueError as error:
        # Decoding errors, and Python's limit on the digits of an integer (whose
        # message goes on about sys.set_int_max_str_digits, which a user of the
        # command cannot call).
        reason = str(error).split("; use sys.set_int_max_str_digits")[0]
        raise UsageError(f"--from: {str(path)!r} is not valid {kind}: {reason}",
                         usage=False) from None
    try:
        return from_dict(data)
    except (TypeError, ValueError, OverflowError, RecursionError) as error:
        reason = ("nested too deeply to read" if isinstance(error, RecursionError)
                  else str(error))
        raise UsageError(f"--from {str(path)!r}: {reason}", usage=False) from None


def natural_length(schedule) -> int:
    """How many steps ``show`` displays by default: a few whole cycles of a cyclic
    schedule, the whole of a finite one, otherwise a fixed number of steps."""
    if isinstance(schedule, Momentum):
        return natural_length(schedule.params["schedule"])
    if isinstance(schedule, Cyclic):
        return schedule.steps_for_cycles(DEFAULT_CYCLES)
    if isinstance(schedule, OneCycle):
        return schedule.params["total_steps"]
    if isinstance(schedule, Decay):
        return math.ceil(schedule.params["steps"]) + 1
    if isinstance(schedule, StepDecay):
        return math.ceil(DEFAULT_CYCLES * schedule.params["step_size"])
    if isinstance(schedule, Chain):
        segments = schedule.params["segments"]
        finite = sum(n for _, n in segments if n is not None)
        last, last_steps = segments[-1]
        return finite if last_steps is not None else finite + natural_length(last)
    if isinstance(schedule, Constant):
        return 100
    return DEFAULT_OPEN_STEPS


def _is_cyclical(schedule) -> bool:
    if isinstance(schedule, Momentum):
        return True
    if isinstance(schedule, Chain):
        return any(_is_cyclical(s) for s, _ in schedule.params["segments"])
    return isinstance(schedule, (Cyclic, OneCycle))


def check_outputs(args) -> str | None:
    """The plot format (``None`` without ``--plot``), after refusing, before any work,
    outputs that would lose data: an unknown plot extension, an output in a missing
    folder or on a folder, and an output that is the ``--from`` file or the other
    output.

    Raises:
        UsageError: naming the option and the path.
    """
    fmt = None
    if args.plot is not None:
        fmt = PLOT_FORMATS.get(args.plot.suffix.lower())
        if fmt is None:
            raise UsageError(
                f"--plot: cannot tell the format of {str(args.plot)!r} from its extension "
                f"{args.plot.suffix or '(none)'!s}; use one of {', '.join(PLOT_FORMATS)}")
        if importlib.util.find_spec("matplotlib") is None:
            raise UsageError("--plot needs matplotlib: pip install 'cyclr[plot]'",
                             usage=False)
    named = []
    if args.from_file is not None:
        named.append(("--from", args.from_file))
    outputs = []
    if args.csv is not None and args.csv != "-":
        outputs.append(("--csv", Path(args.csv)))
    if args.plot is not None:
        outputs.append(("--plot", args.plot))
    for option, path in outputs:
        for other, seen in named:
            if _files.same_file(path, seen):
                raise UsageError(f"{option} {str(path)!r} is the same file as {other} "
                                 f"{str(seen)!r}; write to another file", usage=False)
        try:
            _files.check_target(path, option)
        except _files.FileProblem as problem:
            raise _file_error(problem) from None
        named.append((option, path))
    return fmt


def _steps_to_show(args, schedule) -> int:
    if args.steps is not None:
        if not 1 <= args.steps <= MAX_STEPS:
            raise UsageError(f"--steps must be between 1 and {MAX_STEPS}, got {args.steps}")
        return args.steps
    n = natural_length(schedule)
    if n > MAX_STEPS:
        # The user asked for no length: say which default ran over, and what to pass.
        raise UsageError(
            f"by default show draws {DEFAULT_CYCLES} cycles of a cyclic schedule or the "
            f"whole of a finite one, {n} steps for this one, more than the {MAX_STEPS} "
            f"it draws at most; pass --steps N (1 <= N <= {MAX_STEPS}) to show the first "
            f"N steps")
    return n


def run_show(args) -> int:
    """``cyclr show``: print the summary and sparkline; write the plot and CSV asked
    for (both or, when either fails, neither)."""
    fmt = check_outputs(args)
    schedule = schedule_from_args(args)
    n = _steps_to_show(args, schedule)
    momentum = None
    if args.momentum is not None:
        try:
            momentum = schedule.momentum_schedule(*args.momentum)
        except (TypeError, ValueError) as error:
            raise UsageError(f"--momentum: {error}") from None
    size = None
    if args.plot is not None:
        try:
            size = _render.parse_size(args.size)
        except ValueError as error:
            raise UsageError(f"--size: {error}") from None
    if args.width is not None and args.width < 1:
        raise UsageError(f"--width must be >= 1, got {args.width}")

    label = "momentum" if isinstance(schedule, Momentum) else "lr"
    values = schedule.array(n)
    moms = None if momentum is None else momentum.array(n)
    try:
        # Steps where a cycle (or the run) ends, up to the n shown: the core's exact
        # integers, up to n of them, kept as an array (a list of ten million Python
        # ints would cost ten times the memory).
        ends = schedule.cycle_ends(n)
    except (TypeError, ValueError) as error:
        raise UsageError(str(error)) from None

    out = sys.stdout
    csv_to_stdout = args.csv == "-"
    report = sys.stderr if csv_to_stdout else out
    for line in summary_lines(schedule, label, values, moms, ends, _is_cyclical(schedule)):
        print(line, file=report)
    width = args.width or min(100, shutil.get_terminal_size((80, 24)).columns - 2)
    ascii_only = not _render.can_encode("▁█", getattr(report, "encoding", None))
    print(_render.sparkline(values, width, ascii_only=ascii_only), file=report)
    if moms is not None:
        print(_render.sparkline(moms, width, ascii_only=ascii_only) + "  (momentum)",
              file=report)

    columns = {label: values} if moms is None else {label: values, "momentum": moms}
    if csv_to_stdout:
        _render.write_csv(out, columns)
    written = []
    with _files.Outputs(streams=True) as files:
        if args.csv is not None and not csv_to_stdout:
            _write(files, Path(args.csv), "--csv",
                   lambda f: _render.write_csv(f, columns), binary=False)
            written.append(f"wrote {args.csv} ({n} rows)")
        if args.plot is not None:
            title = _short(repr(schedule), 90)
            _write(files, args.plot, "--plot",
                   lambda f: _render.write_plot(
                       f, values, size=size, title=title, fmt=fmt,
                       value_label="momentum" if label == "momentum" else "learning rate",
                       momentum=moms, marks=ends.tolist() if len(ends) <= 40 else ()),
                   binary=True)
            written.append(f"wrote {args.plot} ({size[0]}x{size[1]} px)")
        try:
            files.commit()
        except OSError as error:
            raise UsageError(f"cannot write the output files: {error}",
                             usage=False) from None
    for line in written:
        print(line, file=report)
    return 0


def _write(files, path: Path, option: str, writer, binary: bool) -> None:
    try:
        files.write(path, writer, binary=binary)
    except OSError as error:
        raise UsageError(f"{option}: cannot write {str(path)!r}: "
                         f"{error.strerror or error}", usage=False) from None


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def summary_lines(schedule, label, values, moms, ends, cyclical) -> list[str]:
    """The text summary of ``show``: what the schedule is and what it does over the
    steps shown. ``values`` (and ``moms``) are the core's arrays for those steps."""
    n = values.size
    lo, hi = int(np.argmin(values)), int(np.argmax(values))
    rows = [("schedule", _short(repr(schedule), 200)),
            ("steps", f"0 .. {n - 1} ({n} steps)")]
    if isinstance(schedule, Cyclic):
        rows.append(("cycles", f"{schedule.num_cycles(n):g} of {schedule.cycle_length:g} "
                               f"steps"))
    elif cyclical:
        rows.append(("cycles", f"{len(ends)} complete"))
    else:
        rows.append(("cycles", "none (not a cyclical schedule)"))
    if cyclical:
        listed = ", ".join(str(int(e)) for e in ends[:_LISTED_ENDS])
        if len(ends) > _LISTED_ENDS:
            listed += f", ... ({len(ends)} in all)"
        where = ("the LR is back at its minimum" if label == "lr"
                 else "the momentum is back at its maximum")
        rows.append(("cycle ends", (listed or "none within the steps shown")
                     + (f"  (steps where {where}: stop training at one)" if len(ends) else "")))
    rows += [(f"min {label}", f"{values[lo]:.6g} at step {lo}"),
             (f"max {label}", f"{values[hi]:.6g} at step {hi}"),
             (f"final {label}", f"{values[-1]:.6g} at step {n - 1}")]
    if moms is not None:
        rows.append(("momentum", f"{moms.min():.6g} .. {moms.max():.6g}"))
    rows.append(("sparkline", f"{values.min():.6g} .. {values.max():.6g}, step 0 on the "
                              f"left"))
    return [f"{key:<10}  {value}" for key, value in rows]


# ---------------------------------------------------------------- cyclr stepsize

def run_stepsize(args) -> int:
    """``cyclr stepsize``: the paper's step-size advice for a data set and batch size."""
    per_epoch = None
    try:
        per_epoch = iterations_per_epoch(args.examples, args.batch_size,
                                         drop_last=args.drop_last)
        suggested = suggest_step_size(args.examples, args.batch_size,
                                      args.epochs_per_half_cycle, drop_last=args.drop_last)
    except (TypeError, ValueError) as error:
        raise UsageError(str(error)) from None
    except OverflowError:
        # Past float range: a count of examples above 1e308, or epochs times the
        # iterations per epoch.
        if per_epoch is None:
            raise UsageError("--examples is too large to divide into batches (more "
                             "than 1e308)") from None
        raise UsageError(
            f"--epochs-per-half-cycle {args.epochs_per_half_cycle:g} epochs of "
            f"{per_epoch} iterations is too many steps to count; give a number of "
            f"epochs such as the paper's 2 to 10") from None
    low, high = PAPER_EPOCHS_PER_HALF_CYCLE
    k = args.epochs_per_half_cycle
    print(f"iterations per epoch  {per_epoch}  ({args.examples} examples, batch size "
          f"{args.batch_size}{', last partial batch dropped' if args.drop_last else ''})")
    print(f"step size             {suggested}  ({k:g} epochs per half cycle; a cycle is "
          f"{2 * suggested} steps)")
    print(f"paper's range         {low}..{high} epochs per half cycle:")
    for epochs in range(low, high + 1):
        steps = suggest_step_size(args.examples, args.batch_size, epochs,
                                  drop_last=args.drop_last)
        print(f"  {epochs:>2} epochs  step size {steps:>8}   cycle {2 * steps:>9} steps")
    print("Stop training at the end of a cycle, when the LR is back at its minimum.")
    return 0
