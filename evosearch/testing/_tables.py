"""A small mixed table (numbers, text, booleans, missing cells) for tests and examples."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["fitted_table_model", "mixed_table"]


def mixed_table(n_rows: int = 60, seed: int = 0, missing: float = 0.05) -> tuple[Any, Any]:
    """A deterministic classification table and its target (pandas DataFrame and Series).

    Columns: ``size`` and ``weight`` (numbers, about ``missing`` of them empty), ``color``
    (text, 3 common levels and a rare one), ``shiny`` (booleans); the class depends on
    ``size`` and ``color``.
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    size = rng.normal(0.0, 1.0, n_rows)
    weight = 2.0 * size + rng.normal(0.0, 0.5, n_rows)
    color = rng.choice(np.array(["red", "green", "blue"], dtype=object), n_rows)
    color[rng.integers(n_rows)] = "violet"  # a rare level
    shiny = rng.random(n_rows) < 0.5
    label = np.where(size + (color == "red") * 1.5 > 0.5, "yes", "no")
    frame = pd.DataFrame({"size": size, "weight": weight, "color": color, "shiny": shiny})
    for name in ("size", "weight"):
        holes = rng.random(n_rows) < missing
        frame.loc[holes, name] = np.nan
    frame["color"] = frame["color"].astype(object)
    frame.loc[rng.random(n_rows) < missing, "color"] = None
    return frame, pd.Series(label, name="label")


def fitted_table_model(dataset: Any, genes: dict[str, str]) -> tuple[Any, dict[str, Any]]:
    """A one-layer table model fitted on ``dataset`` with preprocessing ``genes``, and the
    ``model.json`` information an export writes for it (target named ``label``)."""
    from evosearch.evaluation import build_estimator
    from evosearch.preprocess import DataProfile, encoded_width
    from evosearch.space import Genome
    from evosearch.testing._tiny import TINY_HYPER

    profile = DataProfile.of(dataset)
    genome = Genome.chain(1, 2, [{"units": 4, "activation": "tanh", "dropout": 0.0}], TINY_HYPER)
    genome.preprocessing = dict(genes)
    genome.graph.nodes[0]["units"] = encoded_width(profile, genes)
    model = build_estimator(genome, dataset.task, 0, profile=profile).fit(dataset.X, dataset.y)
    info = {
        "task": dataset.task,
        "features": dataset.feature_names,
        "target": "label",
        "columns": [c.to_json() for c in dataset.columns or ()],
        "options": dict(dataset.options),
    }
    return model, info
