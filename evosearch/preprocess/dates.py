"""Date columns expanded into numeric features: year, month, day of week, day of year, hour
(where the column has times) and the days since 1970-01-01.

A date column reaches the model as float64 seconds since 1970-01-01T00:00 (see
:mod:`evosearch.data.dates`; NaN where missing). :func:`date_features` computes the calendar
from them with floor divisions alone (Howard Hinnant's ``civil_from_days``), so the ``python``
export (which copies the function) and the ONNX export (``Floor`` and ``Div`` in float64)
compute exactly the same numbers; a missing cell gives NaN features, which the numeric
preprocessing after it imputes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = ["DATE_PARTS", "DateFeatures", "date_feature_names", "date_features", "date_width"]

#: The features of a date column, in order; ``hour`` only for a column with times.
DATE_PARTS = ("year", "month", "weekday", "yearday", "hour", "days")


def date_width(times: bool) -> int:
    """How many features a date column gives (with or without ``hour``)."""
    return len(DATE_PARTS) - (0 if times else 1)


def date_feature_names(name: str, times: bool) -> list[str]:
    """``<name>_year``, ``<name>_month``, ... for the features of date column ``name``."""
    return [f"{name}_{part}" for part in DATE_PARTS if times or part != "hour"]


def date_features(seconds: np.ndarray, times: Sequence[bool]) -> np.ndarray:
    """Calendar features of date columns given as seconds since 1970-01-01T00:00.

    For each column j of ``seconds`` (float64, NaN where missing): the year, the month (1-12),
    the day of the week (0 Monday - 6 Sunday), the day of the year (1-366), the hour (0-23)
    where ``times[j]``, and the days since 1970-01-01 (fractional), each as float64. The
    calendar comes from the days with floor divisions only (H. Hinnant's civil_from_days),
    exact for any date in float64.
    """
    columns = []
    for j, hours in enumerate(times):
        s = seconds[:, j]
        day = np.floor(s / 86400.0)
        # civil_from_days: the proleptic Gregorian date of a day count, years from March.
        z = day + 719468.0
        era = np.floor(z / 146097.0)
        doe = z - era * 146097.0  # day of the 400-year era, 0-146096
        yoe = np.floor(
            (doe - np.floor(doe / 1460.0) + np.floor(doe / 36524.0) - np.floor(doe / 146096.0))
            / 365.0
        )
        doy = doe - (365.0 * yoe + np.floor(yoe / 4.0) - np.floor(yoe / 100.0))  # from 1 March
        mp = np.floor((5.0 * doy + 2.0) / 153.0)  # month from March, 0-11
        early = np.floor(mp / 10.0)  # 1 for January and February: the next year's
        month = mp + 3.0 - 12.0 * early
        year = yoe + era * 400.0 + early
        # days_from_civil of 1 January of that year.
        before = year - 1.0
        era1 = np.floor(before / 400.0)
        yoe1 = before - era1 * 400.0
        january = (
            era1 * 146097.0 + yoe1 * 365.0 + np.floor(yoe1 / 4.0) - np.floor(yoe1 / 100.0)
            + 306.0 - 719468.0
        )  # fmt: skip
        yearday = day - january + 1.0
        weekday = (day + 3.0) - np.floor((day + 3.0) / 7.0) * 7.0  # 1970-01-01: a Thursday
        columns += [year, month, weekday, yearday]
        if hours:
            columns.append(np.floor((s - day * 86400.0) / 3600.0))
        columns.append(s / 86400.0)
    return np.column_stack(columns) if columns else np.empty((seconds.shape[0], 0))


class DateFeatures(TransformerMixin, BaseEstimator):
    """Expand date columns into :data:`DATE_PARTS` (:func:`date_features`). Stateless.

    A cell may be seconds since 1970 (the table's own form), a datetime64 value, a
    ``datetime`` or a text in its column's format (``formats``; "" ISO 8601).

    Parameters
    ----------
    times : sequence of bool
        Per column: whether it has times (then an ``hour`` feature).
    formats : sequence of str
        Per column: the format its texts were read in.
    """

    def __init__(self, times: Sequence[bool] = (), formats: Sequence[str] = ()) -> None:
        self.times = times
        self.formats = formats

    def fit(self, X: Any, y: Any = None) -> DateFeatures:
        self.n_features_in_ = len(self.times)
        return self

    def transform(self, X: Any) -> np.ndarray:
        import pandas as pd

        from evosearch.data.dates import series_seconds

        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=object))
        formats = list(self.formats) or [""] * len(self.times)
        seconds = np.empty((len(frame), len(self.times)))
        for j, fmt in enumerate(formats):
            seconds[:, j] = series_seconds(frame.iloc[:, j], fmt)[0]
        return date_features(seconds, list(self.times))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = [f"x{j}" for j in range(len(self.times))]
        names = names if input_features is None else [str(n) for n in input_features]
        out = [f for n, t in zip(names, self.times, strict=True) for f in date_feature_names(n, t)]
        return np.asarray(out, dtype=object)
