"""The search: the Evolver's loop, its strategies, selection, the Pareto archive, export."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evosearch._lazy import lazy_exports

if TYPE_CHECKING:
    from evosearch.search._fidelity import FidelityPlan, plan_from_dict, resolve_plan
    from evosearch.search.archive import ArchiveEntry, ParetoArchive
    from evosearch.search.evolver import Callback, Evolver, GenerationRecord
    from evosearch.search.export import export_member, refit, select_member
    from evosearch.search.member import Member
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
    "export_member",
    "get_strategy",
    "plan_from_dict",
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
        "FidelityPlan": "_fidelity",
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
        "export_member": "export",
        "get_strategy": "strategies",
        "refit": "export",
        "register_strategy": "strategies",
        "plan_from_dict": "_fidelity",
        "resolve_plan": "_fidelity",
        "select_member": "export",
        "strategy_names": "strategies",
    },
)
