"""Terminal output of the commands: archive and population tables, genomes drawn as text.

The run's live progress (:class:`ConsoleReporter`) lives in :mod:`evosearch.search.progress`,
where ``Evolver(verbose=...)`` uses it too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rich.table import Table

from evosearch.search.progress import ConsoleReporter

if TYPE_CHECKING:
    from evosearch.search import ParetoArchive
    from evosearch.space import Genome

__all__ = ["ConsoleReporter", "archive_table", "best_line", "genome_text", "population_table"]


def _other_objectives(archive: ParetoArchive) -> list[tuple[int, str, Callable[[float], str]]]:
    """(index, column label, formatter) of each objective but the score, in archive order."""
    from evosearch.objectives import find_objective

    names = archive.objective_names or tuple(f"objective {i}" for i in range(len(archive.weights)))
    columns: list[tuple[int, str, Callable[[float], str]]] = []
    for index, name in enumerate(names):
        if name == "score":
            continue
        # A run folder's plug-in objective that is not imported here still shows, by name.
        objective = find_objective(name)
        label = objective.label if objective else name
        columns.append((index, label, objective.format if objective else "{:.4g}".format))
    return columns


def _score_index(archive: ParetoArchive) -> int:
    names = archive.objective_names or ()
    return names.index("score") if "score" in names else 0


def archive_table(archive: ParetoArchive, score_name: str = "accuracy") -> Table:
    """The archive as a table, smallest model first: the score, then the other objectives."""
    from evosearch.space import Genome

    table = Table(title=f"Pareto archive ({len(archive)} members)", title_justify="left")
    holdout = any(entry.holdout_score is not None for entry in archive)
    others = _other_objectives(archive)
    score = _score_index(archive)
    columns = [("#", "right"), (score_name, "right"), ("± folds", "right")]
    columns += [("holdout", "right")] if holdout else []
    columns += [(label, "right") for _, label, _ in others]
    columns += [("gen", "right"), ("architecture", "left")]
    for name, justify in columns:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for index, entry in enumerate(archive.members):
        spread = (
            max(entry.fold_scores) - min(entry.fold_scores) if len(entry.fold_scores) > 1 else 0.0
        )
        cells = [str(index), f"{entry.objectives[score]:.4f}", f"{spread / 2:.4f}"]
        if holdout:
            held = entry.holdout_score
            cells.append("-" if held is None else f"{held:.4f}")
        cells += [fmt(entry.objectives[i]) for i, _, fmt in others]
        cells += [str(entry.generation), Genome.from_json(entry.genome).describe()]
        table.add_row(*cells)
    return table


def best_line(archive: ParetoArchive, score_name: str) -> str:
    """``best accuracy 0.9500 with 1,234 parameters`` (plus any other objectives) of the best."""
    best = archive.best(_score_index(archive))
    values = archive.named(best)
    line = f"best {score_name} {best.objectives[_score_index(archive)]:.4f}"
    if "params" in values:
        line += f" with {int(values['params']):,} parameters"
    extras = [
        f"{label} {fmt(best.objectives[i])}"
        for i, label, fmt in _other_objectives(archive)
        if archive.objective_names is None or archive.objective_names[i] != "params"
    ]
    return line + "".join(f", {extra}" for extra in extras)


def _shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(str(side) for side in shape)


def genome_text(genome: Genome) -> str:
    """The genome drawn as text: one line per layer with its inputs, then hyperparameters."""
    from evosearch.nn.layers import get_layer_kind
    from evosearch.space import INPUT, OUTPUT

    graph = genome.graph
    chain = set(genome.hidden_layers())
    # An image genome also shows each layer's output shape (height x width x channels).
    shapes = genome.shapes() if "shape" in graph.nodes[INPUT] else None
    lines = []
    for node in [INPUT, *genome.hidden_layers(), OUTPUT]:
        attrs = graph.nodes[node]
        if node == INPUT:
            what = f"input    {attrs['units']} features"
            if shapes is not None:
                what = (
                    f"input    {_shape_text(genome.input_shape)} image ({attrs['units']} features)"
                )
        elif node == OUTPUT:
            what = f"output   {attrs['units']} units"
        else:
            kind = get_layer_kind(attrs["kind"])
            what = f"{kind.name:<8} {kind.line_label(attrs)}"
            if shapes is not None:
                what += f" -> {_shape_text(shapes[node][1])}"
        inputs = sorted(graph.predecessors(node))
        if inputs:
            # A skip jumps over layers: its target is also reachable through other layers.
            skips = {u for u, v in genome.jump_edges() if v == node}
            names = [
                ("input" if u == INPUT else f"[{u}]") + (" (skip)" if u in skips else "")
                for u in inputs
            ]
            what = f"{what:<34} <- {' + '.join(names)}"
        label = "" if node in (INPUT, OUTPUT) or node not in chain else f"[{node}]"
        lines.append(f"  {label:>6} {what}")
    hp = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                   for k, v in genome.hyperparameters.items())  # fmt: skip
    lines.append(f"  training: {hp}")
    if genome.preprocessing:
        genes = ", ".join(f"{k}={v}" for k, v in genome.preprocessing.items())
        lines.append(f"  preprocessing: {genes} (input features after encoding)")
    lines.append(f"  {genome.n_params():,} parameters; several inputs are concatenated")
    return "\n".join(lines)


def population_table(
    title: str,
    rows: Sequence[tuple[str, ...]],
    columns: tuple[str, ...],
) -> Table:
    """A plain table with right-aligned numbers and a left-aligned last column."""
    table = Table(title=title, title_justify="left")
    for index, name in enumerate(columns):
        table.add_column(name, justify="left" if index == len(columns) - 1 else "right")
    for row in rows:
        table.add_row(*row)
    return table
