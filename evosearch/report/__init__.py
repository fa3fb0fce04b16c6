"""Plots and the HTML report of a run; reads run folders, never writes them.

Modules: :mod:`~evosearch.report.pareto`, :mod:`~evosearch.report.convergence` and
:mod:`~evosearch.report.architecture` and :mod:`~evosearch.report.objective_pairs` (one figure
each), :mod:`~evosearch.report.html` (the
report), ``_rundata`` (:class:`RunData`, :func:`run_data`, :func:`pick_members`: what they are
all drawn from) and ``_figures`` (the figure factory they share). Several runs:
:mod:`~evosearch.report.compare` (checks, groups by settings, final figures:
:func:`compare_runs`), :mod:`~evosearch.report.compare_plots` (the figures
:func:`plot_convergence` and :func:`plot_pareto` draw given a list of runs) and
:mod:`~evosearch.report.compare_html` (:func:`write_comparison`).

Names are imported on first use: importing :mod:`evosearch.report` loads neither matplotlib
nor the plotting modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "Comparison",
    "Report",
    "RunData",
    "compare_runs",
    "pick_members",
    "plot_architecture",
    "plot_convergence",
    "plot_objective_pairs",
    "plot_pareto",
    "run_data",
    "write_comparison",
    "write_report",
]

_LOCATIONS = {
    "Report": "html",
    "write_report": "html",
    "RunData": "_rundata",
    "pick_members": "_rundata",
    "run_data": "_rundata",
    "plot_architecture": "architecture",
    "plot_convergence": "convergence",
    "plot_pareto": "pareto",
    "plot_objective_pairs": "objective_pairs",
    "Comparison": "compare",
    "compare_runs": "compare",
    "write_comparison": "compare_html",
}

if TYPE_CHECKING:
    from evosearch.report._rundata import RunData, pick_members, run_data
    from evosearch.report.architecture import plot_architecture
    from evosearch.report.compare import Comparison, compare_runs
    from evosearch.report.compare_html import write_comparison
    from evosearch.report.convergence import plot_convergence
    from evosearch.report.html import Report, write_report
    from evosearch.report.objective_pairs import plot_objective_pairs
    from evosearch.report.pareto import plot_pareto


def __getattr__(name: str) -> Any:
    if name in _LOCATIONS:
        return getattr(importlib.import_module(f"{__name__}.{_LOCATIONS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
