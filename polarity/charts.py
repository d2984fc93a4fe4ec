"""Charts for the run report and the model card, as inline SVG (matplotlib, no network).

Each function takes plain numbers and returns one `<svg>` element as text, so an HTML
page holds its charts itself and opens offline. Text stays text in the SVG (not paths),
which keeps the files small and the labels searchable.
"""

import io

import matplotlib
from matplotlib.figure import Figure

# Class colours in order (matplotlib's tab10, colour-blind friendly enough for a few classes).
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
_STYLE = {"svg.fonttype": "none", "svg.hashsalt": "polarity", "font.size": 9, "axes.spines.top": False}


def _figure(width: float = 4.2, height: float = 2.8) -> tuple:
    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, figure.add_subplot()


def _svg(figure: Figure) -> str:
    """The figure as an <svg> element titled by its axes' title (no date: same input, same SVG)."""
    buffer = io.StringIO()
    title = figure.axes[0].get_title() if figure.axes else ""
    with matplotlib.rc_context(_STYLE):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Title": title})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def colour(index: int) -> str:
    """The colour of the index-th class or series."""
    return PALETTE[index % len(PALETTE)]


def bars(labels: list, values: list, title: str, xlabel: str = "", percent: bool = False) -> str:
    """Horizontal bars, one per label, each with its value written at its end."""
    with matplotlib.rc_context(_STYLE):
        figure, axes = _figure(4.2, 0.6 + 0.32 * max(len(labels), 1))
        positions = range(len(labels))
        axes.barh(positions, values, color=[colour(i) for i in positions])
        axes.set_yticks(list(positions), [str(label) for label in labels])
        axes.invert_yaxis()
        for position, value in zip(positions, values, strict=True):
            axes.annotate(
                f"{value:.1%}" if percent else f"{value:g}",
                (value, position),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
            )
        axes.set_xlim(0, max(values, default=0) * 1.25 or 1)
        axes.set_title(title)
        axes.set_xlabel(xlabel)
        return _svg(figure)


def histogram(edges: list, counts: list, title: str, xlabel: str) -> str:
    """A histogram from bucket edges (len(counts) + 1 of them) and counts."""
    with matplotlib.rc_context(_STYLE):
        figure, axes = _figure()
        widths = [high - low for low, high in zip(edges[:-1], edges[1:], strict=True)]
        axes.bar(edges[:-1], counts, width=widths, align="edge", color=colour(0), edgecolor="white")
        axes.set_title(title)
        axes.set_xlabel(xlabel)
        axes.set_ylabel("rows")
        return _svg(figure)


def heatmap(matrix: list, labels: list, title: str, xlabel: str, ylabel: str) -> str:
    """A square matrix of counts with each cell's count written in it (a confusion matrix)."""
    with matplotlib.rc_context(_STYLE):
        size = 1.6 + 0.5 * len(labels)
        figure, axes = _figure(size + 0.6, size)
        image = axes.imshow(matrix, cmap="Blues")
        ticks = list(range(len(labels)))
        axes.set_xticks(ticks, labels, rotation=30, ha="right")
        axes.set_yticks(ticks, labels)
        top = max((value for row in matrix for value in row), default=0) or 1
        for row, values in enumerate(matrix):
            for column, value in enumerate(values):
                shade = "white" if value > top / 2 else "black"
                axes.text(column, row, f"{value:g}", ha="center", va="center", color=shade)
        figure.colorbar(image, ax=axes, shrink=0.8)
        axes.set_title(title)
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
        return _svg(figure)


def curves(series: list, title: str, xlabel: str, ylabel: str, diagonal: bool = False) -> str:
    """Lines on a unit square: series is [(label, xs, ys, dashed)], e.g. ROC curves per class.

    With diagonal, the line y = x is drawn as a reference (chance, perfect calibration).
    """
    with matplotlib.rc_context(_STYLE):
        figure, axes = _figure(3.6, 3.2)
        if diagonal:
            axes.plot([0, 1], [0, 1], color="#999999", linewidth=0.8, linestyle=":")
        for index, (label, xs, ys, dashed) in enumerate(series):
            axes.plot(
                xs,
                ys,
                label=label,
                color=colour(index // 2 if dashed is not None else index),
                linestyle="--" if dashed else "-",
                marker="o" if len(xs) <= 20 else None,
                markersize=3,
            )
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1.02)
        axes.set_title(title)
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
        if series:
            axes.legend(fontsize=7, loc="best")
        return _svg(figure)


def timeline(runs: list, labels: list, series: list, title: str, ylabel: str, marks: list = ()) -> str:
    """Lines over runs: series is [(label, values with None for gaps)]; marks is
    [(run, text, colour)] drawn as vertical lines with their text (halts, warnings)."""
    with matplotlib.rc_context(_STYLE):
        figure, axes = _figure(7.5, 3.4)
        for index, (label, values) in enumerate(series):
            points = [(run, value) for run, value in zip(runs, values, strict=True) if value is not None]
            if points:
                xs, ys = zip(*points, strict=True)
                axes.plot(xs, ys, label=label, color=colour(index), marker="o", markersize=4)
        for run, text, shade in marks:
            axes.axvline(run, color=shade, linewidth=1, linestyle="--")
            axes.annotate(
                text, (run, 0.02), xycoords=("data", "axes fraction"), rotation=90, ha="right", color=shade
            )
        axes.set_xticks(list(runs), labels)
        axes.set_xlabel("run")
        axes.set_ylabel(ylabel)
        axes.set_title(title)
        if series:
            axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
        return _svg(figure)


def steps(runs: list, labels: list, values: list, levels: list, title: str) -> str:
    """A step line over runs through categorical levels (e.g. the model version served)."""
    with matplotlib.rc_context(_STYLE):
        figure, axes = _figure(7.5, 0.9 + 0.3 * len(levels))
        position = {level: index for index, level in enumerate(levels)}
        points = [
            (run, position[value]) for run, value in zip(runs, values, strict=True) if value is not None
        ]
        if points:
            xs, ys = zip(*points, strict=True)
            axes.step(xs, ys, where="post", color=colour(2), marker="o", markersize=4)
        axes.set_yticks(list(range(len(levels))), [str(level) for level in levels])
        axes.set_ylim(-0.5, len(levels) - 0.5)
        axes.set_xticks(list(runs), labels)
        axes.set_xlim(min(runs) - 0.5, max(runs) + 0.5)
        axes.set_title(title)
        axes.set_ylabel("version")
        return _svg(figure)
