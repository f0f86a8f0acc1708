"""``cyclr show``: the schedule its arguments describe, how much of it to draw, and
the summary, sparkline, plot and CSV it prints and writes.

The command's contract (exit status, how outputs are written, the ``--from`` limits)
is in :mod:`cyclr.cli`; the policies' options are read in ``cyclr._cli_options``.
"""

from __future__ import annotations

import importlib.util
import json
import math
import shutil
import sys
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np

from . import _files, _render, policies
from ._cli_options import flag
from ._cli_usage import UsageError
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
                             f"got {' '.join(extra + [flag(d) for d in given])}")
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
                               else f"{option.flag} (or {flag(option.param)})")
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
    unused = [flag(d) for d in given if d not in {o.dest for o in options}]
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


def _file_error(problem: Exception) -> UsageError:
    return UsageError(str(problem), usage=False)


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
        if fmt is not None and size is not None:         # both set exactly with --plot
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
