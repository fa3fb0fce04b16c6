"""Bytes of an exported ``model.onnx`` for a small member: how much is preprocessing graph.

Two tables, each fitted with a one-layer member of one hidden unit (a few dozen parameters),
then written with the ``onnx`` format in both input dtypes (``float32``, the default, and
``float64``) and, for comparison, the ``python`` and ``joblib`` formats:

* ``mixed``: 20 columns, 12 numeric (3 with blank cells), 6 text (3 to 6 levels, blanks and a
  rare level) and 2 booleans, one-hot encoded, median imputation with indicators, standard
  scaling;
* ``numeric``: 20 numeric columns, no blanks, standard scaling.

Printed per table: the member's parameters, ``weights.bin`` (the ``bytes`` objective), each
format's model file(s), and the ONNX graph's node count. No search is run; it takes seconds::

    python benchmarks/onnx_size.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np


def mixed_table(n_rows: int = 300, seed: int = 0) -> tuple[Any, Any]:
    """A 20-column classification table: 12 numbers, 6 texts, 2 booleans, with blanks."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame: dict[str, Any] = {}
    for j in range(12):
        values = rng.normal(10.0 * j, 1.0 + j, n_rows)
        if j < 3:
            values[rng.random(n_rows) < 0.1] = np.nan
        frame[f"num{j}"] = values
    for j in range(6):
        levels = np.array([f"level{k}" for k in range(3 + j % 4)], dtype=object)
        cells = rng.choice(levels, n_rows).astype(object)
        cells[rng.random(n_rows) < 0.05] = None
        cells[rng.integers(n_rows)] = "rare"
        frame[f"text{j}"] = cells
    for j in range(2):
        frame[f"flag{j}"] = rng.random(n_rows) < 0.5
    table = pd.DataFrame(frame)
    label = np.where(np.nan_to_num(table["num0"]) + (table["text0"] == "level0") > 0.5, "a", "b")
    return table, pd.Series(label, name="label")


def numeric_table(n_rows: int = 300, seed: int = 0) -> tuple[Any, Any]:
    """A 20-column numeric classification table."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    table = pd.DataFrame({f"x{j}": rng.normal(j, 1.0 + j, n_rows) for j in range(20)})
    return table, pd.Series(np.where(table["x0"] > 0.0, "a", "b"), name="label")


def fitted(table: Any, label: Any, genes: dict[str, str]) -> tuple[Any, int]:
    """A one-hidden-unit member fitted on the table, and its parameter count."""
    from evosearch.data import check_dataset
    from evosearch.evaluation import build_estimator
    from evosearch.preprocess import DataProfile, encoded_width
    from evosearch.space import Genome
    from evosearch.testing._tiny import TINY_HYPER

    dataset = check_dataset(table, label)
    profile = DataProfile.of(dataset)
    genome = Genome.chain(1, 2, [{"units": 1, "activation": "tanh", "dropout": 0.0}], TINY_HYPER)
    genome.preprocessing = dict(genes)
    genome.graph.nodes[0]["units"] = encoded_width(profile, genes)
    model = build_estimator(genome, dataset.task, 0, profile=profile)
    return model.fit(dataset.X, dataset.y), genome.n_params()


def sizes(model: Any, folder: Path) -> dict[str, int]:
    """Bytes of each format's files (and the ONNX graph's node count, ``nodes``)."""
    import onnx

    from evosearch.deploy import get_format, write_model

    found: dict[str, int] = {}
    for label, fmt in (
        ("onnx float32", get_format("onnx").configure({"input_dtype": "float32"})),
        ("onnx float64", get_format("onnx").configure({"input_dtype": "float64"})),
        ("python", get_format("python")),
        ("joblib", get_format("joblib")),
    ):
        out = folder / label.replace(" ", "-")
        out.mkdir()
        info = write_model(model, out, {"task": "classification"}, fmt)
        found[label] = sum((out / name).stat().st_size for name in info["files"])
        if label == "onnx float32":
            found["nodes"] = len(onnx.load(out / "model.onnx").graph.node)
    return found


def main() -> None:
    genes = {"impute": "median_indicator", "encode": "onehot", "scale": "standard"}
    tables = {"mixed": mixed_table(), "numeric": numeric_table()}
    print("table    params  weights.bin  onnx-f32  onnx-f64  nodes  python  joblib")
    for name, (table, label) in tables.items():
        model, params = fitted(table, label, genes)
        with tempfile.TemporaryDirectory() as tmp:
            found = sizes(model, Path(tmp))
        payload = len(model[-1].payload())
        print(
            f"{name:8s} {params:6d} {payload:12,d} {found['onnx float32']:9,d}"
            f" {found['onnx float64']:9,d} {found['nodes']:6d} {found['python']:7,d}"
            f" {found['joblib']:7,d}"
        )


if __name__ == "__main__":
    main()
