"""Charts for the reports: matplotlib drawn to SVG, embedded as data URIs with alt text.

Output is deterministic (same figures, same bytes): no pyplot state, a fixed hash salt for SVG ids,
no date or creator in the metadata, text kept as text (DejaVu Sans metrics, the reader's sans-serif font),
fixed margins (one draw a chart).
Suppressed values are never drawn: their bars are left out and marked `*`.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import NullLocator
from matplotlib.transforms import offset_copy

BLUE = "#005eb8"
DARK_BLUE = "#003087"
GREY = "#768692"
PALE_GREY = "#d8dde0"
YELLOW = "#ffb81c"
GREEN = "#007f3b"
INK = "#212b32"
WIDTH_INCHES = 5.2  # about a phone screen wide at 100%, so the text stays readable there
# Fixed margins instead of savefig(bbox_inches="tight"), which draws every chart twice (half the reports'
# rendering time at national scale): 9pt DejaVu Sans averages under 0.075in a character.
CHARACTER_INCHES = 0.075
TICK_LABEL_PAD_INCHES = 0.2

STYLE = {
    "svg.hashsalt": "sprx-reports",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 9,
    "axes.edgecolor": GREY,
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.titleweight": "bold",
    "path.simplify": False,
}


@dataclass(frozen=True)
class Chart:
    """An embeddable chart: `src` is a data URI of an SVG with a fixed width and height."""

    src: str
    alt: str


def _layout(
    figure: MplFigure, tick_labels: Sequence[str], *, top_inches: float = 0.12, y_axis_label: bool = False
) -> None:
    """Margins for the y tick labels (their longest), a y axis label, the x axis label below and `top_inches`
    above."""
    width, height = figure.get_size_inches()
    left = TICK_LABEL_PAD_INCHES + CHARACTER_INCHES * max((len(label) for label in tick_labels), default=4)
    left += 0.25 if y_axis_label else 0
    figure.subplots_adjust(left=left / width, right=1 - 0.12 / width, bottom=0.5 / height, top=1 - top_inches / height)


def _category_labels(axes: Axes, positions: Sequence[float], labels: Sequence[str]) -> None:
    """The categories of a bar or interval chart, left of the y axis, as plain text: matplotlib's ticks (two marks,
    two labels and a grid line each, laid out twice) were about a fifth of the reports' rendering time."""
    axes.yaxis.set_major_locator(NullLocator())
    beside_axis = offset_copy(axes.get_yaxis_transform(), fig=axes.figure, x=-4, units="points")
    for position, label in zip(positions, labels, strict=True):
        axes.text(0, position, label, transform=beside_axis, ha="right", va="center")


def _render(figure: MplFigure, alt: str) -> Chart:
    """The figure as an embeddable SVG; called inside the chart's rc_context(STYLE)."""
    buffer = io.BytesIO()
    FigureCanvasSVG(figure)
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return Chart(src=f"data:image/svg+xml;base64,{encoded}", alt=alt)


def _figure(height: float) -> MplFigure:
    """A chart's figure; called inside the chart's rc_context(STYLE) (one style context a chart: entering one
    copies matplotlib's whole configuration)."""
    return MplFigure(figsize=(WIDTH_INCHES, height), dpi=72)


def _number(value: float, places: int) -> str:
    return f"{value:,.{places}f}"


def _labelled_bars(
    axes: Axes,
    positions: Sequence[float],
    values: Sequence[float | None],
    colours: Sequence[str],
    *,
    height: float,
    fontsize: float,
    gap: float,
    places: int,
    suffix: str,
    label: str | None = None,
) -> None:
    """Horizontal bars in one barh call (a call per bar was about a tenth of the reports' rendering time), each
    value written `gap` past its bar's end; a suppressed value (None) gets no bar, only `*` at zero. With every
    value written on its bar, the value axis has no ticks (matplotlib's ticks are costly to lay out)."""
    axes.xaxis.set_major_locator(NullLocator())
    drawn = [(p, v, c) for p, v, c in zip(positions, values, colours, strict=True) if v is not None]
    if drawn:
        bar_positions, bar_values, bar_colours = zip(*drawn, strict=True)
        axes.barh(bar_positions, bar_values, height=height, color=bar_colours, label=label)
    for position, value in zip(positions, values, strict=True):
        if value is None:
            axes.text(0, position, " *", va="center", ha="left", color=GREY, fontsize=fontsize)
        else:
            axes.text(value + gap, position, _number(value, places) + suffix, va="center", fontsize=fontsize)


def horizontal_bars(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    alt: str,
    axis_label: str,
    places: int = 0,
    reference: tuple[str, float] | None = None,
    suffix: str = "",
    highlight: Sequence[bool] | None = None,
) -> Chart:
    """One bar per label, top to bottom in the order given; None (suppressed) shows `*` instead of a bar."""
    with rc_context(STYLE):
        figure = _figure(max(1.5, 0.26 * len(labels) + 0.8))
        axes = figure.add_subplot()
        positions = list(range(len(labels)))[::-1]
        shown = [v for v in values if v is not None]
        top = max([*shown, reference[1] if reference else 0, 0]) or 1
        colours = [YELLOW if highlight and highlight[index] else BLUE for index in range(len(values))]
        _labelled_bars(
            axes, positions, values, colours, height=0.65, fontsize=9, gap=top * 0.01, places=places, suffix=suffix
        )
        if reference is not None:
            axes.axvline(reference[1], color=DARK_BLUE, linestyle="--", linewidth=1.2)
            axes.text(
                reference[1],
                len(labels) - 0.35,
                f" {reference[0]}: {_number(reference[1], places)}{suffix}",
                color=DARK_BLUE,
                fontsize=9,
                va="bottom",
            )
        tick_labels = [_short(label) for label in labels]
        _category_labels(axes, positions, tick_labels)
        axes.set_xlim(0, top * 1.22)
        axes.set_ylim(-0.6, len(labels) - 0.4 + (0.5 if reference else 0))
        axes.set_xlabel(axis_label)
        _layout(figure, tick_labels)
        return _render(figure, alt)


def lines(
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None], str]],
    *,
    alt: str,
    axis_label: str,
) -> Chart:
    """A line per series (name, values, colour); gaps where a value is suppressed or missing."""
    with rc_context(STYLE):
        figure = _figure(2.6)
        axes = figure.add_subplot()
        xs = list(range(len(x_labels)))
        for name, values, colour in series:
            ys = [float("nan") if v is None else v for v in values]
            axes.plot(xs, ys, marker="o", markersize=3.5, linewidth=2, color=colour, label=name)
        step = math.ceil(len(x_labels) / 6) or 1  # at most six month labels: more overlap at this width
        axes.set_xticks(xs[::step], [x_labels[i] for i in xs[::step]])
        axes.set_ylabel(axis_label)
        axes.set_ylim(bottom=0)
        axes.grid(axis="y", color=PALE_GREY, linewidth=0.8)
        if len(series) > 1:
            axes.legend(frameon=False, loc="upper left", ncols=len(series), fontsize=9, bbox_to_anchor=(0, 1.15))
        highest = max((v for _, values, _ in series for v in values if v is not None), default=0)
        _layout(figure, [f"{highest:.1f}"], top_inches=0.4 if len(series) > 1 else 0.12, y_axis_label=True)
        return _render(figure, alt)


def paired_bars(
    labels: Sequence[str],
    first: tuple[str, Sequence[float | None]],
    second: tuple[str, Sequence[float | None]],
    *,
    alt: str,
    axis_label: str,
    places: int = 0,
    suffix: str = "",
) -> Chart:
    """Two bars per category (e.g. referred vs registered, before vs after), top to bottom in the order given."""
    with rc_context(STYLE):
        figure = _figure(max(1.8, 0.36 * len(labels) + 0.9))
        axes = figure.add_subplot()
        positions = list(range(len(labels)))[::-1]
        shown = [v for v in [*first[1], *second[1]] if v is not None]
        top = max(shown, default=1) or 1
        for offset, (name, values), colour in ((0.2, first, BLUE), (-0.2, second, GREY)):
            shifted = [position + offset for position in positions]
            _labelled_bars(
                axes,
                shifted,
                values,
                [colour] * len(values),
                height=0.38,
                fontsize=8,
                gap=top * 0.01,
                places=places,
                suffix=suffix,
                label=name,
            )
        axes.legend(frameon=False, loc="lower right", fontsize=9)
        tick_labels = [_short(label) for label in labels]
        _category_labels(axes, positions, tick_labels)
        axes.set_xlim(0, top * 1.25)
        axes.set_xlabel(axis_label)
        _layout(figure, tick_labels)
        return _render(figure, alt)


def intervals(
    labels: Sequence[str],
    means: Sequence[float],
    lowers: Sequence[float],
    uppers: Sequence[float],
    *,
    alt: str,
    axis_label: str,
) -> Chart:
    """Mean change with its 95% confidence interval per measure, against a line at no change."""
    with rc_context(STYLE):
        figure = _figure(max(1.6, 0.45 * len(labels) + 1.0))
        axes = figure.add_subplot()
        positions = list(range(len(labels)))[::-1]
        for position, mean, low, high in zip(positions, means, lowers, uppers, strict=True):
            colour = GREEN if low > 0 or high < 0 else GREY
            axes.plot([low, high], [position, position], color=colour, linewidth=2.5)
            axes.plot([mean], [position], marker="o", color=colour, markersize=7)
        axes.axvline(0, color=INK, linewidth=1)
        tick_labels = [_short(label, 34) for label in labels]
        _category_labels(axes, positions, tick_labels)
        axes.set_ylim(-0.6, len(labels) - 0.4)
        axes.set_xlabel(axis_label)
        axes.grid(axis="x", color=PALE_GREY, linewidth=0.8)
        _layout(figure, tick_labels)
        return _render(figure, alt)


def _short(label: str, width: int = 28) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"
