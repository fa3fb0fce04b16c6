"""The figure factory and the axis helpers shared by the plots; matplotlib is imported lazily.

Figures are made without :mod:`matplotlib.pyplot` and rendered by the Agg canvas, so no display
and no GUI backend is ever needed, the user's backend and pyplot's figure registry are left
alone, and a notebook shows a returned figure once (as a PNG, whether or not pyplot was
imported). matplotlib is imported inside the functions (``pip install 'evosearch[plot]'``).
"""

from __future__ import annotations

import functools
import io
import math
from typing import TYPE_CHECKING, Any

from evosearch.errors import EvosearchError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

MISSING_MATPLOTLIB = "plotting needs matplotlib: pip install 'evosearch[plot]'"


def _new_figure(**kwargs: Any) -> Figure:
    """A figure on an Agg canvas, without pyplot; lazy import of matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError:
        raise EvosearchError(MISSING_MATPLOTLIB) from None
    figure = _figure_class()(**kwargs)
    FigureCanvasAgg(figure)
    return figure


@functools.cache
def _figure_class() -> type[Figure]:
    from matplotlib.figure import Figure

    class RunFigure(Figure):
        """A Figure that IPython and Jupyter show as a PNG even when pyplot was never imported."""

        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", facecolor="white")
            return buffer.getvalue()

    return RunFigure


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")


def _integer_axis(axis: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _count_format(value: float, _position: Any = None) -> str:
    if value >= 1e6:
        return f"{value / 1e6:g}M"
    if value >= 1e3:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


def _colormap(name: str) -> Any:
    from matplotlib import colormaps

    return colormaps[name]


def _log_ticks(ax: Axes, values: list[float]) -> None:
    """Label more ticks than a log axis does when the data spans less than two decades."""
    from matplotlib.ticker import FixedLocator, MaxNLocator

    if not values:
        return
    low, high = min(values), max(values)
    if low <= 0 or high / low >= 100:
        return
    ax.set_xlim(low / 1.25, high * 1.25)
    if high / low < 3:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
        return
    mantissas = (1, 2, 3, 5, 7) if high / low < 10 else (1, 2, 5)
    ticks = [
        m * 10**e
        for e in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1)
        for m in mantissas
    ]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
