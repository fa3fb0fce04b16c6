"""Plots and the HTML report of a run; reads run folders, never writes them.

Names are imported on first use: importing :mod:`evosearch.report` loads neither matplotlib
nor the plotting module.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["Report", "plot_architecture", "plot_convergence", "plot_pareto", "write_report"]

_LOCATIONS = {
    "Report": "html",
    "write_report": "html",
    "plot_architecture": "plotting",
    "plot_convergence": "plotting",
    "plot_pareto": "plotting",
}

if TYPE_CHECKING:
    from evosearch.report.html import Report, write_report
    from evosearch.report.plotting import plot_architecture, plot_convergence, plot_pareto


def __getattr__(name: str) -> Any:
    if name in _LOCATIONS:
        return getattr(importlib.import_module(f"{__name__}.{_LOCATIONS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
