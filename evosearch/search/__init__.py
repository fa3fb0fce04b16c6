"""The search: the Evolver's loop, its strategies, selection, the Pareto archive, export."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evosearch._lazy import lazy_exports

if TYPE_CHECKING:
    from evosearch.search.archive import ArchiveEntry, ParetoArchive
    from evosearch.search.evolver import Callback, Evolver, GenerationRecord
    from evosearch.search.fidelity_plan import FidelityPlan, plan_from_dict, resolve_plan
    from evosearch.search.member import Member
    from evosearch.search.refit import export_member, refit, select_member
    from evosearch.search.run import SearchRun, reevaluate
    from evosearch.search.settings import (
        SETTINGS,
        RunSettings,
        Setting,
        check_settings,
        recorded_params,
    )
    from evosearch.search.strategies import (
        Strategy,
        get_strategy,
        register_strategy,
        strategy_names,
    )

__all__ = [
    "SETTINGS",
    "ArchiveEntry",
    "Callback",
    "Evolver",
    "FidelityPlan",
    "GenerationRecord",
    "Member",
    "ParetoArchive",
    "RunSettings",
    "SearchRun",
    "Setting",
    "Strategy",
    "check_settings",
    "export_ensemble",
    "export_member",
    "get_strategy",
    "plan_from_dict",
    "read_ensemble",
    "rebuild_ensemble",
    "recorded_params",
    "reevaluate",
    "refit",
    "register_strategy",
    "resolve_plan",
    "select_member",
    "strategy_names",
]

# Imported on first use (see evosearch._lazy): light commands stay light.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ArchiveEntry": "archive",
        "Callback": "evolver",
        "Evolver": "evolver",
        "FidelityPlan": "fidelity_plan",
        "GenerationRecord": "evolver",
        "Member": "member",
        "ParetoArchive": "archive",
        "RunSettings": "settings",
        "SETTINGS": "settings",
        "SearchRun": "run",
        "Setting": "settings",
        "Strategy": "strategies",
        "check_settings": "settings",
        "recorded_params": "settings",
        "reevaluate": "run",
        "export_member": "refit",
        "export_ensemble": "ensemble_run",
        "read_ensemble": "ensemble_run",
        "rebuild_ensemble": "ensemble_run",
        "get_strategy": "strategies",
        "refit": "refit",
        "register_strategy": "strategies",
        "plan_from_dict": "fidelity_plan",
        "resolve_plan": "fidelity_plan",
        "select_member": "refit",
        "strategy_names": "strategies",
    },
)
