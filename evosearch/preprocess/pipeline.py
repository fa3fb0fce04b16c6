"""Preprocessing genes -> the scikit-learn transformer in front of the network.

A plain float matrix gets one scaler (:func:`make_scaler`; ``standard`` is the
``StandardScaler`` of every run before tables, so their results stay), after the point-mass
indicators where the ``point_mass`` gene asks for them (:mod:`.point_mass`). A table gets a
``ColumnTransformer`` (:func:`build_preprocessor`): numeric columns imputed (where cells are
missing), given their point-mass indicators (``point_mass``) and scaled, date columns expanded
into calendar features (:mod:`.dates`) then imputed and scaled alike, optional
missing-indicator columns, categorical columns mapped to fixed levels and encoded. It is a step
of the model's pipeline, so it is fitted on each training fold only (imputation means, scaling
statistics: the test rows never reach them) and an exported model takes the raw columns.

The categorical *levels* are not fitted: they are fixed from the whole search table's column
description (:class:`~evosearch.data.Column`), so every fold encodes to the same width, which is
the genome's input width, known before training (:func:`encoded_width`). A level seen in fewer
than ``max(2, 1 %)`` of the rows is *rare*: one-hot encoding groups rare (and unseen) levels in
one ``(other)`` column; a missing cell is a level of its own, ``(missing)``. The point masses
are fixed from the whole table in the same way (:mod:`evosearch.data.point_masses`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    OneHotEncoder,
    OrdinalEncoder,
    QuantileTransformer,
    RobustScaler,
    StandardScaler,
)

from evosearch.data import Column
from evosearch.preprocess.base import DataProfile, gene_values
from evosearch.preprocess.dates import DateFeatures, date_width
from evosearch.preprocess.point_mass import PointMassIndicators

__all__ = [
    "MISSING_LEVEL",
    "OTHER_LEVEL",
    "LevelMapper",
    "build_preprocessor",
    "encoded_width",
    "encoding_levels",
    "make_scaler",
]

MISSING_LEVEL = "(missing)"
OTHER_LEVEL = "(other)"
#: A level in fewer rows than this share (and at least 2 rows) is grouped with the other rare ones.
RARE_SHARE = 0.01


def make_scaler(name: str, n_rows: int | None = None) -> Any:
    """The scaler a ``scale`` gene value stands for (``"passthrough"`` for ``none``)."""
    if name == "standard":
        return StandardScaler()
    if name == "robust":
        return RobustScaler()
    if name == "quantile":
        # No more quantiles than a training fold has rows (scikit-learn warns otherwise).
        quantiles = 1000 if n_rows is None else max(2, min(1000, n_rows // 2))
        # Above 10,000 rows scikit-learn subsamples the rows it takes quantiles of, with numpy's
        # global random state unless told: a fixed state keeps runs reproducible.
        return QuantileTransformer(
            n_quantiles=quantiles, output_distribution="normal", random_state=0
        )
    if name == "none":
        return "passthrough"
    raise ValueError(f"unknown scaling {name!r}")


def encoding_levels(column: Column, n_rows: int) -> list[str]:
    """The fixed levels a categorical column is encoded to (see the module docstring)."""
    threshold = max(2, math.ceil(RARE_SHARE * n_rows))
    kept = sorted(level for level, n in zip(column.levels, column.counts, strict=True)
                  if n >= threshold)  # fmt: skip
    rare = len(kept) < len(column.levels)
    return kept + ([OTHER_LEVEL] if rare else []) + ([MISSING_LEVEL] if column.n_missing else [])


class LevelMapper(TransformerMixin, BaseEstimator):
    """Map categorical cells to fixed levels: missing -> ``(missing)``, a level not among
    ``levels`` -> ``(other)`` where the column has it (else left for the encoder to ignore).

    Stateless: ``fit`` learns nothing from the rows.

    Parameters
    ----------
    levels : sequence of sequence of str
        One list of levels per column.
    """

    def __init__(self, levels: Sequence[Sequence[str]] = ()) -> None:
        self.levels = levels

    def fit(self, X: Any, y: Any = None) -> LevelMapper:
        self.n_features_in_ = np.asarray(X, dtype=object).shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        import pandas as pd

        cells = np.asarray(X, dtype=object)
        out = np.empty(cells.shape, dtype=object)
        for j, levels in enumerate(self.levels):
            column = pd.Series(cells[:, j], dtype=object)
            missing = column.isna().to_numpy()
            text = column.map(str).to_numpy(dtype=object)
            text[missing] = MISSING_LEVEL
            if OTHER_LEVEL in levels:
                text[~np.isin(text, np.asarray(levels, dtype=object))] = OTHER_LEVEL
            out[:, j] = text
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(input_features, dtype=object)


def _values(genes: Mapping[str, Any]) -> dict[str, str]:
    return gene_values(dict(genes), ("impute", "encode", "scale", "point_mass"))


def _point_masses(profile: DataProfile, values: Mapping[str, str]) -> Any:
    """The point-mass step of the numeric columns, or None where the genes or data have none."""
    if values["point_mass"] != "indicator" or not profile.point_masses:
        return None
    columns, masses = zip(*profile.point_masses, strict=True)
    return PointMassIndicators(list(columns), list(masses))


def encoded_width(profile: DataProfile, genes: Mapping[str, Any]) -> int:
    """Width of the network's input for data of ``profile`` under preprocessing ``genes``."""
    values = _values(genes)
    width = len(profile.numeric) + sum(date_width(c.times) for c in profile.dates)
    if values["impute"].endswith("_indicator"):
        width += len(profile.missing_numeric)
    if _point_masses(profile, values) is not None:
        width += len(profile.point_masses)
    for column in profile.categorical:
        onehot = values["encode"] == "onehot"
        width += len(encoding_levels(column, profile.n_rows)) if onehot else 1
    return width


def build_preprocessor(profile: DataProfile, genes: Mapping[str, Any]) -> Any:
    """The unfitted transformer for data of ``profile`` under preprocessing ``genes``.

    A plain matrix (``profile.columns`` None) gets the scaler alone; a table a
    ``ColumnTransformer`` whose output has :func:`encoded_width` columns.
    """
    values = _values(genes)
    scale = values["scale"]
    masses = _point_masses(profile, values)
    if profile.columns is None:
        if masses is None:
            return make_scaler(scale, profile.n_rows or None)
        return Pipeline(
            [("point_mass", masses), ("scale", make_scaler(scale, profile.n_rows or None))]
        )
    parts: list[tuple[str, Any, list[str]]] = []
    numeric = [c.name for c in profile.numeric]
    missing = [c.name for c in profile.missing_numeric]
    strategy = values["impute"].removesuffix("_indicator")
    if numeric:
        steps: list[tuple[str, Any]] = []
        if missing:
            imputer = SimpleImputer(strategy=strategy, keep_empty_features=True)
            steps.append(("impute", imputer))
        if masses is not None:
            steps.append(("point_mass", masses))
        steps.append(("scale", make_scaler(scale, profile.n_rows or None)))
        parts.append(("numeric", Pipeline(steps), numeric))
    if profile.dates:  # only then: a table without dates keeps its transformer
        dates = profile.dates
        expand = DateFeatures([c.times for c in dates], [c.format for c in dates])
        date_steps: list[tuple[str, Any]] = [("expand", expand)]
        if profile.missing_dates:
            imputer = SimpleImputer(strategy=strategy, keep_empty_features=True)
            date_steps.append(("impute", imputer))
        date_steps.append(("scale", make_scaler(scale, profile.n_rows or None)))
        parts.append(("dates", Pipeline(date_steps), [c.name for c in dates]))
    if missing and values["impute"].endswith("_indicator"):
        parts.append(("missing", MissingIndicator(features="all"), missing))
    categorical = profile.categorical
    if categorical:
        levels = [encoding_levels(c, profile.n_rows) for c in categorical]
        encoder: Any
        if values["encode"] == "onehot":
            encoder = OneHotEncoder(
                categories=levels, handle_unknown="ignore", sparse_output=False, dtype=np.float64
            )
            cat_steps = [("levels", LevelMapper(levels)), ("encode", encoder)]
        else:
            encoder = OrdinalEncoder(
                categories=levels,
                handle_unknown="use_encoded_value",
                unknown_value=-1,
                dtype=np.float64,
            )
            cat_steps = [
                ("levels", LevelMapper(levels)),
                ("encode", encoder),
                ("scale", make_scaler(scale, profile.n_rows or None)),
            ]
        parts.append(("categorical", Pipeline(cat_steps), [c.name for c in categorical]))
    return ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0)
