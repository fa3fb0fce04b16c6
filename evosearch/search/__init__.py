"""The search: the Evolver's loop, its strategies, selection, the Pareto archive, export."""

from evosearch.search.archive import ArchiveEntry, ParetoArchive
from evosearch.search.evolver import Callback, Evolver, GenerationRecord
from evosearch.search.export import export_member, refit, select_member

__all__ = [
    "ArchiveEntry",
    "Callback",
    "Evolver",
    "GenerationRecord",
    "ParetoArchive",
    "export_member",
    "refit",
    "select_member",
]
