"""The ``point_mass`` gene's transformer: a 0/1 column per numeric column with a point mass.

See :mod:`evosearch.data.point_masses` for which columns have one and why a network wants the
column. The masses are fixed from the whole table, not fitted on a fold, so every fold's
input has the same width.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = ["PointMassIndicators"]


class PointMassIndicators(TransformerMixin, BaseEstimator):
    """Append ``X[:, column] == value`` (1.0 or 0.0; a missing cell is 0.0) for each point mass.

    Stateless: ``fit`` learns nothing from the rows.

    Parameters
    ----------
    columns : sequence of int
        The columns with a point mass (positions in ``X``).
    values : sequence of float
        Each one's value.

    Examples
    --------
    >>> PointMassIndicators([0], [0.0]).fit_transform(np.array([[0.0, 5.0], [2.5, 6.0]]))
    array([[0. , 5. , 1. ],
           [2.5, 6. , 0. ]])
    """

    def __init__(self, columns: Sequence[int] = (), values: Sequence[float] = ()) -> None:
        self.columns = columns
        self.values = values

    def fit(self, X: Any, y: Any = None) -> PointMassIndicators:
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        x = np.asarray(X, dtype=np.float64)
        columns = np.asarray(self.columns, dtype=np.intp)
        masses = np.asarray(self.values, dtype=np.float64)
        flags = (x[:, columns] == masses).astype(np.float64)
        return np.hstack([x, flags])

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = [str(n) for n in (input_features if input_features is not None
                                  else [f"x{j}" for j in range(self.n_features_in_)])]  # fmt: skip
        extra = [f"{names[c]}=={v:g}" for c, v in zip(self.columns, self.values, strict=True)]
        return np.asarray(names + extra, dtype=object)
