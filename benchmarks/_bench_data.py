"""The yardstick's datasets: 569 to 200,000 rows, nothing downloaded at run time.

Each dataset is a source the ``evosearch evolve`` CLI reads (``--data SOURCE [--target COL]``):
a bundled scikit-learn name, or a CSV file written once into a cache folder. The baselines load
the same source with :func:`evosearch.data.load_dataset`, so every method sees the same rows,
the same target and the same folds.

* ``digits`` (1,797 x 64, 10 classes) and ``breast_cancer`` (569 x 30, 2 classes): bundled with
  scikit-learn.
* ``synth20k``, ``synth50k`` and ``synth200k``: ``make_classification`` (20 features, 8
  informative, 4 redundant, 4 classes, 5 % of the labels flipped, class_sep 0.8), a fixed seed
  per size.
* ``diamonds`` (53,940 x 9, target ``cut``, 5 classes; text columns ``color`` and ``clarity``):
  ggplot2's diamonds table as shipped inside the ``plotnine`` wheel
  (``plotnine/data/diamonds.csv``, ``pip install 'evosearch[bench]'``). The CSV is found
  through the package's location, without importing plotnine (which imports matplotlib).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_CACHE = Path(os.environ.get("EVOSEARCH_BENCH_DATA", "/tmp/evosearch-bench-data"))


@dataclass(frozen=True)
class BenchData:
    """One dataset of the yardstick: how the CLI reads it and its size."""

    name: str
    source: str  # a bundled name or a CSV path
    target: str | None  # the CSV's target column
    rows: int

    def cli_args(self) -> list[str]:
        return ["--data", self.source] + (["--target", self.target] if self.target else [])

    def load(self):  # -> evosearch.data.Dataset
        from evosearch.data import load_dataset

        return load_dataset(self.source, target=self.target)


def _synthetic(rows: int, folder: Path) -> tuple[str, str]:
    from sklearn.datasets import make_classification

    path = folder / f"synth{rows // 1000}k.csv"
    if not path.exists():
        X, y = make_classification(
            n_samples=rows,
            n_features=20,
            n_informative=8,
            n_redundant=4,
            n_classes=4,
            flip_y=0.05,
            class_sep=0.8,
            random_state=16 + rows,
        )
        header = ",".join([f"x{i}" for i in range(X.shape[1])] + ["label"])
        table = np.column_stack([X.round(6), y])
        fmt = ["%.6f"] * X.shape[1] + ["%d"]
        _atomic_write(path, lambda tmp: np.savetxt(tmp, table, fmt=fmt, delimiter=",",
                                                   header=header, comments=""))  # fmt: skip
    return str(path), "label"


def _diamonds(folder: Path) -> tuple[str, str]:
    path = folder / "diamonds.csv"
    if not path.exists():
        spec = importlib.util.find_spec("plotnine")
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit(
                "the diamonds table ships inside plotnine: pip install 'evosearch[bench]'"
            )
        shipped = Path(next(iter(spec.submodule_search_locations))) / "data" / "diamonds.csv"
        text = shipped.read_text(encoding="utf-8")
        _atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return str(path), "cut"


def _atomic_write(path: Path, write: Callable[[str], object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    write(str(tmp))
    tmp.replace(path)


ROWS = {"breast_cancer": 569, "digits": 1797, "synth20k": 20_000, "synth50k": 50_000}
ROWS["diamonds"] = 53_940
ROWS["synth200k"] = 200_000
NAMES = list(ROWS)


def get(name: str, folder: Path = DEFAULT_CACHE) -> BenchData:
    """The dataset ``name`` (one of :data:`NAMES`), its CSV written into ``folder`` if need be."""
    if name in ("digits", "breast_cancer"):
        return BenchData(name, name, None, ROWS[name])
    if name.startswith("synth"):
        source, target = _synthetic(ROWS[name], folder)
    elif name == "diamonds":
        source, target = _diamonds(folder)
    else:
        raise ValueError(f"unknown dataset {name!r}: expected one of {', '.join(NAMES)}")
    return BenchData(name, source, target, ROWS[name])
