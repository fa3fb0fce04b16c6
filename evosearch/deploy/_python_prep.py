"""The fitted preprocessing of a model as numpy code: the ``preprocess(X)`` of a ``--format
python`` model file, the arrays it reads from ``weights.npz`` and the helpers it calls.

It reads the fitted scikit-learn steps :func:`evosearch.preprocess.build_preprocessor` makes
(a scaler, after point-mass indicators or not, for a plain matrix; for a table a
ColumnTransformer of imputation, point-mass indicators, scaling, missing indicators and
categorical level mapping and encoding) and refuses any other step with one line
naming it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evosearch.deploy import _python_runtime as rt
from evosearch.errors import SettingsError

__all__ = ["Preprocessing", "translate_preprocessing"]


@dataclass
class Preprocessing:
    """What the model file's preprocessing is made of.

    Attributes
    ----------
    body : list of str
        The lines of ``preprocess(X)``'s body (indented four spaces).
    constants : list of str
        Module-level assignments the body reads (column names, levels).
    arrays : dict of str to ndarray
        Fitted statistics for ``weights.npz``.
    helpers : list of callable
        Functions of :mod:`~evosearch.deploy._python_runtime` the body calls.
    levels : dict of str to dict
        For each constant of categorical levels (``CATEGORICAL_LEVELS``): its value, the
        encoded levels of each column.
    """

    body: list[str] = field(default_factory=list)
    constants: list[str] = field(default_factory=list)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    helpers: list[Callable[..., Any]] = field(default_factory=list)
    levels: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def need(self, *helpers: Callable[..., Any]) -> None:
        for helper in helpers:
            if helper not in self.helpers:
                self.helpers.append(helper)


def _refuse(step: Any) -> SettingsError:
    what = type(step).__name__ if not isinstance(step, str) else repr(step)
    return SettingsError(f"the python export format has no numpy code for the step {what}")


def _scale(prep: Preprocessing, step: Any, var: str, part: str) -> None:
    """The lines of a fitted scaler (or ``"passthrough"``) applied to ``var``."""
    from sklearn.preprocessing import QuantileTransformer, RobustScaler, StandardScaler

    if isinstance(step, str) and step == "passthrough":
        return
    if isinstance(step, StandardScaler) and step.with_mean and step.with_std:
        offset, scale, what = "mean", "std", "standardised (training mean and deviation)"
        prep.arrays[f"{part}_mean"] = np.asarray(step.mean_, np.float64)
        prep.arrays[f"{part}_std"] = np.asarray(step.scale_, np.float64)
    elif isinstance(step, RobustScaler) and step.with_centering and step.with_scaling:
        offset, scale, what = "median", "iqr", "robust-scaled (training median and IQR)"
        prep.arrays[f"{part}_median"] = np.asarray(step.center_, np.float64)
        prep.arrays[f"{part}_iqr"] = np.asarray(step.scale_, np.float64)
    elif isinstance(step, QuantileTransformer) and step.output_distribution == "normal":
        prep.arrays[f"{part}_quantiles"] = np.asarray(step.quantiles_, np.float64)
        prep.arrays[f"{part}_references"] = np.asarray(step.references_, np.float64)
        prep.need(rt.inverse_normal_cdf, rt.quantile_normal)
        prep.body += [
            f"    # {var}: mapped through the training quantiles to a normal distribution",
            f'    {var} = quantile_normal({var}, WEIGHTS["{part}_quantiles"], '
            f'WEIGHTS["{part}_references"])',
        ]
        return
    else:
        raise _refuse(step)
    prep.need(rt.shift_and_scale)
    prep.body += [
        f"    # {var}: {what}",
        f'    {var} = shift_and_scale({var}, WEIGHTS["{part}_{offset}"], '
        f'WEIGHTS["{part}_{scale}"])',
    ]


def _point_mass(prep: Preprocessing, step: Any, var: str, part: str) -> None:
    """The lines of the point-mass indicators appended to ``var``."""
    prep.arrays[f"{part}_mass_columns"] = np.asarray(step.columns, np.int64)
    prep.arrays[f"{part}_mass_values"] = np.asarray(step.values, np.float64)
    prep.body += [
        f"    # {var}: a 0/1 column for each column's point mass (1: the cell is that value)",
        f'    {var} = np.hstack([{var}, ({var}[:, WEIGHTS["{part}_mass_columns"]] == '
        f'WEIGHTS["{part}_mass_values"]).astype(np.float64)])',
    ]


def _plain(prep: Preprocessing, first_step: Any) -> None:
    from sklearn.pipeline import Pipeline

    from evosearch.preprocess import PointMassIndicators

    prep.need(rt.feature_matrix)
    prep.body.append("    x = feature_matrix(X, FEATURES)")
    steps = [s for _, s in first_step.steps] if isinstance(first_step, Pipeline) else [first_step]
    for step in steps:
        if isinstance(step, PointMassIndicators):
            _point_mass(prep, step, "x", "scale")
        else:
            _scale(prep, step, "x", "scale")
    prep.body.append("    return x")


def _numeric_part(prep: Preprocessing, part: str, steps: list[Any], columns: list[str]) -> None:
    prep.need(rt.numbers)
    prep.body.append(f"    {part} = numbers(cells, {literal(columns)}, NA_VALUES)")
    _numeric_steps(prep, part, steps, columns)


def _date_part(prep: Preprocessing, part: str, steps: list[Any], columns: list[str]) -> None:
    """A date part: the cells read as seconds since 1970, expanded into calendar features,
    then imputed and scaled as numbers are."""
    from evosearch.deploy._python_dates import date_seconds
    from evosearch.preprocess.dates import date_feature_names, date_features

    expand, *rest = steps
    times = [bool(t) for t in expand.times]
    formats = [str(f) for f in expand.formats] or [""] * len(times)
    constant = f"{part.upper()}_FORMATS"
    prep.constants += [
        f"# The format of each {part} column's texts (datetime.strptime; empty: ISO 8601).",
        f"{constant} = {literal(dict(zip(columns, formats, strict=True)))}",
    ]
    prep.need(rt.is_missing, date_seconds, date_features)
    prep.body += [
        f"    # {part}: seconds since 1970-01-01 -> year, month, day of week, day of year,",
        "    # hour (columns with times) and days since 1970",
        f"    {part} = date_seconds(cells, {literal(columns)}, list({constant}.values()), "
        "NA_VALUES)",
        f"    {part} = date_features({part}, {literal(times)})",
    ]
    names = [f for c, t in zip(columns, times, strict=True) for f in date_feature_names(c, t)]
    _numeric_steps(prep, part, rest, names)


def _numeric_steps(prep: Preprocessing, part: str, steps: list[Any], columns: list[str]) -> None:
    """The lines of a numeric part's fitted steps (imputation, indicators, scaling)."""
    from sklearn.impute import MissingIndicator, SimpleImputer

    from evosearch.preprocess import PointMassIndicators

    imputed = False
    for step in steps:
        if isinstance(step, SimpleImputer):
            if not (isinstance(step.missing_values, float) and np.isnan(step.missing_values)):
                raise _refuse(step)
            statistics = np.asarray(step.statistics_, np.float64)
            if np.isnan(statistics).any():
                raise _refuse(step)
            prep.arrays[f"{part}_fill"] = statistics
            prep.need(rt.impute)
            prep.body += [
                f"    # {part}: missing cells filled with the training {step.strategy}",
                f'    {part} = impute({part}, WEIGHTS["{part}_fill"])',
            ]
            imputed = True
        elif isinstance(step, MissingIndicator):
            if step.features != "all":
                raise _refuse(step)
            prep.body.append(f"    {part} = np.isnan({part}).astype(np.float64)  # 1: missing")
            imputed = True
        elif isinstance(step, PointMassIndicators):
            if not imputed:
                prep.need(rt.refuse_missing)
                prep.body.append(f"    refuse_missing({part}, {literal(columns)})")
                imputed = True
            _point_mass(prep, step, part, part)
        else:
            if not imputed:
                prep.need(rt.refuse_missing)
                prep.body.append(f"    refuse_missing({part}, {literal(columns)})")
                imputed = True
            _scale(prep, step, part, part)
    if not imputed:
        prep.need(rt.refuse_missing)
        prep.body.append(f"    refuse_missing({part}, {literal(columns)})")


def _categorical_part(prep: Preprocessing, part: str, steps: list[Any], columns: list[str]) -> None:
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

    from evosearch.preprocess import MISSING_LEVEL, OTHER_LEVEL

    mapper, encoder, *rest = steps
    levels = {name: [str(v) for v in lv] for name, lv in zip(columns, mapper.levels, strict=True)}
    fitted = [[str(v) for v in c] for c in getattr(encoder, "categories_", [])]
    if fitted != list(levels.values()):
        raise _refuse(encoder)
    constant = f"{part.upper()}_LEVELS"
    prep.constants += [
        f"# The levels of each {part} column, in encoding order: {MISSING_LEVEL} stands for a",
        f"# missing cell and, where listed, {OTHER_LEVEL} for any level not listed (rare ones).",
        f"{constant} = {literal(levels)}",
    ]
    prep.levels[constant] = levels
    prep.need(rt.is_missing, rt.level_codes)
    prep.body.append(
        f"    {part} = level_codes(cells, {constant}, NA_VALUES, {literal(MISSING_LEVEL)}, "
        f"{literal(OTHER_LEVEL)})"
    )
    if isinstance(encoder, OneHotEncoder) and encoder.handle_unknown == "ignore":
        if encoder.drop is not None:
            raise _refuse(encoder)
        prep.need(rt.one_hot)
        prep.body.append(
            f"    {part} = one_hot({part}, [len(levels) for levels in {constant}.values()])"
        )
    elif (
        isinstance(encoder, OrdinalEncoder)
        and encoder.handle_unknown == "use_encoded_value"
        and encoder.unknown_value == -1
    ):
        prep.body.append(f"    {part} = {part}.astype(np.float64)  # level positions, -1: unknown")
    else:
        raise _refuse(encoder)
    for step in rest:
        _scale(prep, step, part, part)


def _table(prep: Preprocessing, transformer: Any) -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    from evosearch.preprocess import DateFeatures, LevelMapper

    if not isinstance(transformer, ColumnTransformer):
        raise _refuse(transformer)
    prep.need(rt.table_cells, rt.is_missing)
    prep.body.append("    cells = table_cells(X, FEATURES)")
    parts: list[str] = []
    for name, step, columns in transformer.transformers_:
        if isinstance(step, str) and step == "drop":
            continue
        part = name if name.isidentifier() and name not in ("cells", "X") else f"part{len(parts)}"
        steps = [s for _, s in step.steps] if isinstance(step, Pipeline) else [step]
        columns = [str(c) for c in columns]
        if isinstance(steps[0], LevelMapper):
            _categorical_part(prep, part, steps, columns)
        elif isinstance(steps[0], DateFeatures):
            _date_part(prep, part, steps, columns)
        else:
            _numeric_part(prep, part, steps, columns)
        parts.append(part)
    prep.body.append(f"    return np.hstack([{', '.join(parts)}])")


def literal(value: Any) -> str:
    """Python source for a string, number, list of them or dict of such lists: strings in
    double quotes, long lists wrapped at 96 characters (four spaces in)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        items = [f"{literal(k)}: {literal(v)}" for k, v in value.items()]
        if sum(len(item) + 2 for item in items) < 80 and "\n" not in "".join(items):
            return "{" + ", ".join(items) + "}"
        return (
            "{\n"
            + "".join(f"    {item.replace(chr(10), chr(10) + '    ')},\n" for item in items)
            + "}"
        )
    if isinstance(value, (list, tuple)):
        items = [literal(v) for v in value]
        ends = "()" if isinstance(value, tuple) else "[]"
        if len(items) == 1 and isinstance(value, tuple):
            return f"({items[0]},)"
        if sum(len(item) + 2 for item in items) < 80:
            return ends[0] + ", ".join(items) + ends[1]
        lines, line = [], ""
        for item in items:
            if line and len(line) + len(item) + 2 > 92:
                lines.append(line)
                line = ""
            line += ("" if not line else " ") + item + ","
        lines.append(line)
        return ends[0] + "\n" + "".join(f"    {text}\n" for text in lines) + ends[1]
    return repr(value)


def translate_preprocessing(first_step: Any, table: bool) -> Preprocessing:
    """The numpy form of a fitted pipeline's preprocessing step (``model[0]``).

    Raises
    ------
    SettingsError
        Naming a step there is no numpy code for.
    """
    prep = Preprocessing()
    if table:
        _table(prep, first_step)
    else:
        _plain(prep, first_step)
    return prep
