"""Charts as inline, byte-stable SVG (fixed hash salt, no date, no random ids)."""

from __future__ import annotations

import io
from html import escape

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from . import fr  # noqa: E402

plt.rcParams.update({
    "svg.hashsalt": "stagesco",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
})


def _svg(fig, title: str) -> str:
    """The figure as an SVG element named by ``title`` for screen readers (``role="img"``, ``aria-label`` and a
    ``<title>``, which browsers also show on hover)."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    opening = text.index(">") + 1
    name = escape(title, quote=True)
    return (text[:4] + f' role="img" aria-label="{name}"' + text[4:opening] + f"<title>{name}</title>"
            + text[opening:])


def _value_axis(axis, values) -> None:
    """The value axis in French (``0,5``, ``1 000``), whole steps when every value is whole (counts), from 0 and
    up to 1 at least when nothing is positive (rather than around 0)."""
    numbers = [float(v) for v in values]
    axis.set_major_formatter(FuncFormatter(lambda v, _: fr.number(v)))
    if all(v.is_integer() for v in numbers):
        axis.set_major_locator(MaxNLocator(integer=True))
    if numbers and min(numbers) >= 0:
        low, high = axis.get_view_interval()
        axis.set_view_interval(0, max(high, 1), ignore=True)


def bar_chart(labels: list[str], values: list[float], *, title: str, xlabel: str = "", color: str = "#3b6e9e",
              small: bool = False) -> str:
    """A horizontal bar chart; ``labels`` are shown top to bottom in the given order (``small``: for a table cell)."""
    height = (0.5 + 0.2 * max(1, len(labels))) if small else (0.9 + 0.32 * max(1, len(labels)))
    fig, ax = plt.subplots(figsize=(3.2 if small else 7, height))
    positions = list(range(len(labels)))[::-1]
    ax.barh(positions, values, color=color)
    ax.set_yticks(positions, [str(l) for l in labels])
    for pos, value in zip(positions, values):
        ax.text(value, pos, f" {fr.number(value)}", va="center", fontsize=8 if small else 9)
    ax.set_title(title, loc="left", fontsize=9 if small else 11)
    if small:
        ax.tick_params(labelsize=8)
        ax.set_xticks([])
        ax.spines["bottom"].set_visible(False)
    if xlabel:
        ax.set_xlabel(xlabel)
    ax.margins(x=0.12)
    _value_axis(ax.xaxis, values)
    return _svg(fig, title)


def grouped_bar_chart(categories: list[str], series: dict[str, list[float]], *, title: str,
                      colors: tuple[str, ...] = ("#9bb8d3", "#3b6e9e", "#1f3f5f", "#c97b2a")) -> str:
    """Vertical bars, one group per category and one bar per series (e.g. one per edition), with a legend."""
    names = list(series)
    width = 0.8 / max(1, len(names))
    fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * len(categories) + 2), 3.6))
    for i, name in enumerate(names):
        xs = [c + (i - (len(names) - 1) / 2) * width for c in range(len(categories))]
        values = series[name]
        ax.bar(xs, values, width=width, label=name, color=colors[i % len(colors)])
        for x, value in zip(xs, values):
            ax.text(x, value, fr.number(value), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(categories)), [str(c) for c in categories])
    ax.set_title(title, loc="left", fontsize=11)
    ax.legend(frameon=False, fontsize=9)
    ax.margins(y=0.15)
    _value_axis(ax.yaxis, [v for values in series.values() for v in values])
    return _svg(fig, title)
