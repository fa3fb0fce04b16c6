"""One member of a run, for the run page's member panel: its record and its layer graph laid out.

The layout is the report's (:func:`evosearch.report.architecture._layout`: columns by
longest-path depth, the longest path on the middle row); the browser draws it as SVG.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from evosearch.dashboard._runstate import RunState, finite
from evosearch.errors import EvosearchError
from evosearch.nn.layers import get_layer_kind
from evosearch.space import INPUT, OUTPUT, Genome

__all__ = ["member_detail"]


def member_detail(run: RunState, genome_hash: str) -> dict[str, Any] | None:
    """The member ``genome_hash`` of ``run``: archive entry and/or journal record, its
    hyperparameters and laid-out graph; None when the run has no such genome."""
    entry = next(
        (m for m in (run.archive or {}).get("members", []) if _hash(m) == genome_hash), None
    )
    record = None
    if genome_hash in run.lines:
        record = run.journal.read_line(*run.lines[genome_hash])
    genome_json = (entry or {}).get("genome") or (record or {}).get("genome")
    if genome_json is None:
        return None
    try:
        genome = Genome.from_json(genome_json)
    except (ValueError, KeyError, TypeError, EvosearchError) as exc:
        return {"hash": genome_hash, "problem": f"unreadable genome: {exc}"}
    front = next((m for m in run.front if m["hash"] == genome_hash), None)
    detail: dict[str, Any] = {
        "hash": genome_hash,
        "describe": genome.describe(),
        "in_archive": entry is not None,
        "archive_index": (front or {}).get("index"),
        "objectives": (front or {}).get("objectives"),
        "hyperparameters": genome.hyperparameters,
        "preprocessing": dict(getattr(genome, "preprocessing", {}) or {}),
        "n_params": genome.n_params(),
        "layers": len(genome.graph) - 2,
        "graph": layout(genome),
        # The journal records each fold's score and epochs, not per-epoch losses.
        "training_curve": None,
    }
    if entry is not None:
        detail["generation"] = entry.get("generation")
        detail["parents"] = entry.get("parents", [])
        detail["fold_scores"] = [finite(s) for s in entry.get("fold_scores", [])]
    if record is not None:
        detail.setdefault("generation", record.get("generation"))
        detail["fold_scores"] = [finite(s) for s in record.get("fold_scores") or []]
        detail["score"] = finite(record.get("score"))
        detail["epochs"] = record.get("epochs")
        detail["seconds"] = finite(record.get("seconds"))
        detail["peak_memory_mb"] = finite(record.get("peak_memory_mb"))
        detail["error"] = record.get("error")
        if isinstance(record.get("curve"), dict):  # a future journal's recorded curve
            detail["training_curve"] = record["curve"]
    return detail


def _hash(member: dict[str, Any]) -> str | None:
    value = member.get("genome_hash")
    return value if isinstance(value, str) else None


def layout(genome: Genome) -> dict[str, Any]:
    """Nodes (position, label, colour) and edges (``skip``: reachable another way too)."""
    from evosearch.report.architecture import _layout

    graph = genome.graph
    positions = _layout(graph)
    skips = set(graph.edges) - set(nx.transitive_reduction(graph).edges)
    nodes = []
    for node, attrs in graph.nodes(data=True):
        kind = attrs.get("kind")
        colour: str | None
        if node == INPUT:
            label, colour = f"input\n{attrs.get('units')} features", "#cfe8cf"
            if "shape" in attrs:
                label = "input\n" + "x".join(str(s) for s in attrs["shape"]) + " image"
        elif node == OUTPUT:
            label, colour = f"output\n{attrs.get('units')} units", "#d9d2ec"
        else:
            try:
                layer_kind = get_layer_kind(str(kind))
                label, colour = layer_kind.box_label(attrs), layer_kind.colour(attrs)
            except (KeyError, EvosearchError):  # a plug-in kind not imported here
                label, colour = str(kind), None
        x, y = positions[node]
        nodes.append(
            {
                "id": node,
                "x": x,
                "y": y,
                "kind": kind,
                "label": label,
                "colour": colour or "#eeeeee",
            }
        )
    edges = [{"source": u, "target": v, "skip": (u, v) in skips} for u, v in graph.edges]
    return {"nodes": nodes, "edges": edges}
