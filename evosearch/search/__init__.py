"""The search: the Evolver's loop, its strategies, selection, the Pareto archive, export."""

from evosearch.search.archive import ArchiveEntry, ParetoArchive
from evosearch.search.evolver import Callback, Evolver, GenerationRecord
from evosearch.search.export import export_member, refit, select_member
from evosearch.search.member import Member
from evosearch.search.strategies import (
    Strategy,
    get_strategy,
    register_strategy,
    strategy_names,
)

__all__ = [
    "ArchiveEntry",
    "Callback",
    "Evolver",
    "GenerationRecord",
    "Member",
    "ParetoArchive",
    "Strategy",
    "export_member",
    "get_strategy",
    "refit",
    "register_strategy",
    "select_member",
    "strategy_names",
]
