"""What ``cyclr show`` draws and writes: a terminal sparkline, a CSV of the values, a plot.

Every function here takes values the core already computed (``Schedule.array``); none
of them evaluates a schedule. matplotlib is imported only when a plot is asked for.
"""

from __future__ import annotations

import re
import textwrap

import numpy as np

BLOCKS = "▁▂▃▄▅▆▇█"
ASCII = "_.-:=+*#"
_SIZE = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")
# Enough pixels for axis labels to fit; few enough to keep a mistyped size from
# asking matplotlib for gigabytes.
MIN_PIXELS, MAX_PIXELS = 160, 8000


def can_encode(text: str, encoding: str | None) -> bool:
    """Whether ``text`` survives ``encoding`` (a stream's, which may be None)."""
    try:
        text.encode(encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def sparkline(values: np.ndarray, width: int, *, ascii_only: bool = False) -> str:
    """``values`` as one line of ``width`` characters (fewer if there are fewer values).

    Each character stands for a run of consecutive steps and shows their mean, scaled
    between the smallest and the largest value; a flat schedule is drawn mid-height.
    The mean, rather than one sampled step, keeps schedules with many short cycles
    from aliasing into a pattern they do not have.

    Args:
        values: the schedule's values, one per step.
        width: the most characters to use, >= 1.
        ascii_only: draw with ASCII characters instead of Unicode blocks.

    Returns:
        The line, without a newline.

    Examples:
        >>> import numpy as np
        >>> sparkline(np.array([0.0, 0.5, 1.0, 0.5, 0.0]), 5)
        '▁▅█▅▁'
    """
    glyphs = ASCII if ascii_only else BLOCKS
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return ""
    columns = min(int(width), values.size)
    edges = np.arange(columns + 1, dtype=np.int64) * values.size // columns
    means = np.add.reduceat(values, edges[:-1]) / np.diff(edges)
    low, high = float(values.min()), float(values.max())
    if not high > low:
        return glyphs[len(glyphs) // 2 - 1] * columns
    levels = np.rint((means - low) / (high - low) * (len(glyphs) - 1)).astype(np.int64)
    return "".join(glyphs[k] for k in np.clip(levels, 0, len(glyphs) - 1))


def parse_size(text: str) -> tuple[int, int]:
    """``"WxH"`` in pixels, each between MIN_PIXELS and MAX_PIXELS.

    Raises:
        ValueError: naming the text, for anything else.
    """
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"size must look like WIDTHxHEIGHT in pixels (e.g. 800x400), "
                         f"got {text!r}")
    width, height = int(match.group(1)), int(match.group(2))
    for name, value in (("width", width), ("height", height)):
        if not MIN_PIXELS <= value <= MAX_PIXELS:
            raise ValueError(f"size {name} must be between {MIN_PIXELS} and {MAX_PIXELS} "
                             f"pixels, got {text!r}")
    return width, height


def write_csv(stream, columns: dict[str, np.ndarray]) -> None:
    """One row per step: ``step`` then each column, floats written so that they read
    back exactly (``repr``)."""
    names = list(columns)
    stream.write(",".join(["step", *names]) + "\n")
    data = [columns[name].tolist() for name in names]
    for step, row in enumerate(zip(*data)):
        stream.write(f"{step}," + ",".join(repr(x) for x in row) + "\n")


def envelope(values: np.ndarray, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, values)`` to draw: all of them when there are few, else the smallest
    and the largest value of each of ``buckets`` runs of steps, in step order, so a
    plot a few thousand pixels wide keeps every peak and trough of millions of steps.

    Examples:
        >>> import numpy as np
        >>> steps, shown = envelope(np.array([0.0, 3.0, 1.0, 2.0, 5.0, 4.0]), 2)
        >>> steps.tolist(), shown.tolist()
        ([0, 1, 3, 4], [0.0, 3.0, 2.0, 5.0])
    """
    n = values.size
    if n <= 2 * buckets:
        return np.arange(n), values
    edges = np.arange(buckets + 1, dtype=np.int64) * n // buckets
    picked: list[int] = []
    for k in range(buckets):
        chunk = values[edges[k]:edges[k + 1]]
        picked += sorted({int(edges[k]) + int(np.argmin(chunk)),
                          int(edges[k]) + int(np.argmax(chunk))})
    steps = np.array(picked, dtype=np.int64)
    return steps, values[steps]


# Width of a character of the title (matplotlib's "medium", 10 pt, at 100 dpi), a
# little wide for DejaVu Sans so that a wrapped line never runs past the figure.
_TITLE_CHAR_PX = 7


def fit_title(title: str, width: int) -> str:
    """``title`` wrapped at spaces into lines that fit a plot ``width`` pixels wide
    (a chain's ``repr`` is longer than a small figure).

    Examples:
        >>> print(fit_title("chain((linear(0.0, 0.1, 500), 500), cosine(0.1, 0.0, 4500))",
        ...                 300))
        chain((linear(0.0, 0.1, 500), 500),
        cosine(0.1, 0.0, 4500))
    """
    columns = max(20, (width - 20) // _TITLE_CHAR_PX)
    return textwrap.fill(title, columns, break_long_words=False, break_on_hyphens=False)


def write_plot(stream, lrs: np.ndarray, *, size: tuple[int, int], title: str,
               fmt: str = "png", value_label: str = "learning rate",
               momentum: np.ndarray | None = None, marks=()) -> None:
    """Plot ``lrs`` against the step, ``size`` pixels at 100 dpi, in format ``fmt``.

    Args:
        stream: the binary file (or path) to write.
        lrs: the values, one per step.
        size: ``(width, height)`` in pixels; a raster image has exactly these.
        title: drawn above the plot.
        fmt: ``"png"``, ``"svg"``, ``"pdf"`` or ``"jpeg"`` (matplotlib's names).
        value_label: the y-axis label.
        momentum: optional momentum values, drawn on a second y axis.
        marks: steps to mark with a dotted vertical line (cycle ends).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    dpi = 100
    width, height = size
    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    steps, shown = envelope(lrs, 2 * width)
    ax.plot(steps, shown, color="tab:blue", linewidth=1.4, label=value_label)
    for step in marks:
        ax.axvline(step, color="0.6", linestyle=":", linewidth=0.9)
    ax.set_xlabel("step")
    ax.set_ylabel(value_label, color="tab:blue" if momentum is not None else "black")
    ax.set_xlim(0, max(lrs.size - 1, 1))
    # Tick labels as plain short numbers: matplotlib's "1e-3" offset text would
    # collide with the title in small figures.
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}"))
    ax.grid(True, alpha=0.3)
    ax.set_title(fit_title(title, width), fontsize="medium")
    if momentum is not None:
        twin = ax.twinx()
        twin.plot(*envelope(momentum, 2 * width), color="tab:orange", linewidth=1.2)
        twin.set_ylabel("momentum", color="tab:orange")
    fig.savefig(stream, dpi=dpi, format=fmt)
