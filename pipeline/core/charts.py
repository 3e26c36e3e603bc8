"""Charts as inline, byte-stable SVG (fixed hash salt, no date, no random ids)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams.update({
    "svg.hashsalt": "stagesco",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
})


def _svg(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def bar_chart(labels: list[str], values: list[float], *, title: str, xlabel: str = "", color: str = "#3b6e9e") -> str:
    """A horizontal bar chart; ``labels`` are shown top to bottom in the given order."""
    height = 0.9 + 0.32 * max(1, len(labels))
    fig, ax = plt.subplots(figsize=(7, height))
    positions = list(range(len(labels)))[::-1]
    ax.barh(positions, values, color=color)
    ax.set_yticks(positions, [str(l) for l in labels])
    for pos, value in zip(positions, values):
        ax.text(value, pos, f" {value:g}", va="center", fontsize=9)
    ax.set_title(title, loc="left", fontsize=11)
    if xlabel:
        ax.set_xlabel(xlabel)
    ax.margins(x=0.12)
    return _svg(fig)
