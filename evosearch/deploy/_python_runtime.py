"""The functions a ``--format python`` model file is made of, besides its layers' functions.

The exporter copies the source of the functions it needs into ``model.py`` (see
:mod:`evosearch.deploy._python_source`), so they import nothing but numpy and the standard
library (``math``, ``csv``, ``sys``), read no global of this module, and are written to be read
and ported. Each reproduces one fitted scikit-learn step of the model's preprocessing (the
tests compare them with the step itself) or a part of the file's plumbing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "CellError",
    "feature_matrix",
    "impute",
    "inverse_normal_cdf",
    "is_missing",
    "level_codes",
    "load_weights",
    "numbers",
    "one_hot",
    "quantile_normal",
    "quoted",
    "refuse_missing",
    "shift_and_scale",
    "table_cells",
    "unseen_levels",
    "unused_columns_note",
]


def load_weights(path: str) -> dict[str, np.ndarray]:
    """The arrays of ``weights.npz``, the layers' weights and biases as float64.

    A layer's weights ``w<node>`` are stored as float32, float16 or int8 (0 where pruned; int4
    ones as int8 too); int8 weights come with one float32 scale per output channel, ``s<node>``,
    and stand for
    ``int8 * scale`` computed in float32. The network is computed in float64 from these float32
    values, as the estimator does.
    """
    arrays = {}
    with np.load(path, allow_pickle=False) as stored:
        for name in stored.files:
            arrays[name] = stored[name]
    for name in list(arrays):
        if name[0] in "wb" and name[1:].isdigit():
            values = arrays[name].astype(np.float32)
            scales = arrays.pop("s" + name[1:], None)
            if scales is not None:
                values = values * scales  # float32 times float32: as the model was quantised
            arrays[name] = values.astype(np.float64)
    return arrays


def feature_matrix(X: Any, features: Sequence[str]) -> np.ndarray:
    """The rows of ``X`` as a float64 matrix with one column per feature, in order.

    ``X`` is a 2-D array of numbers (its columns in the order of ``features``) or a mapping of
    column name to values (a pandas DataFrame, a dict of lists; numbers or their text).
    """
    if hasattr(X, "keys"):
        absent = [name for name in features if name not in X]
        if absent:
            raise ValueError(f"X has no column {', '.join(map(repr, absent))}")
        columns = []
        for name in features:
            column = np.asarray(X[name])
            if column.dtype.kind not in "biuf":
                values = []
                for i, value in enumerate(column):
                    try:
                        values.append(float(value))
                    except (TypeError, ValueError):
                        raise CellError(i, name, value) from None
                column = np.array(values)
            columns.append(column.astype(np.float64))
        return np.column_stack(columns) if columns else np.empty((0, 0))
    x = np.asarray(X, dtype=np.float64)
    if x.ndim > 2 and int(np.prod(x.shape[1:])) == len(features):
        x = x.reshape(len(x), -1)  # images as the model was fitted on them: rows of pixels
    if x.ndim != 2 or x.shape[1] != len(features):
        raise ValueError(f"X must have shape (rows, {len(features)}), got {x.shape}")
    return x


def table_cells(X: Any, features: Sequence[str]) -> dict[str, list[Any]]:
    """The cells of each feature column of the table ``X``, as lists.

    ``X`` is a mapping of column name to cells (a pandas DataFrame, a dict of lists) or rows of
    cells in the order of ``features``. Other columns of a mapping are ignored.
    """
    if hasattr(X, "keys"):
        absent = [name for name in features if name not in X]
        if absent:
            raise ValueError(f"X has no column {', '.join(map(repr, absent))}")
        return {name: list(X[name]) for name in features}
    rows = np.asarray(X, dtype=object)
    if rows.ndim != 2 or rows.shape[1] != len(features):
        raise ValueError(f"X must have one cell per feature column ({len(features)}) in a row")
    return {name: list(rows[:, j]) for j, name in enumerate(features)}


def is_missing(cell: Any, na_values: Sequence[str]) -> bool:
    """Whether a cell holds no value: None, NaN, pandas' NA, or text that says so (stripped:
    empty, nan, na, n/a or null in any case, or exactly one of the run's ``na_values``)."""
    if cell is None or type(cell).__name__ in ("NAType", "NaTType"):
        return True
    if isinstance(cell, str):
        text = cell.strip()
        return text.lower() in ("", "nan", "na", "n/a", "null") or text in na_values
    return isinstance(cell, (float, np.floating)) and math.isnan(cell)


def numbers(
    cells: dict[str, list[Any]], names: Sequence[str], na_values: Sequence[str]
) -> np.ndarray:
    """The numeric columns ``names`` as a float64 matrix, NaN where a cell is missing."""
    out = np.empty((len(cells[names[0]]) if names else 0, len(names)))
    for j, name in enumerate(names):
        for i, cell in enumerate(cells[name]):
            if is_missing(cell, na_values):
                out[i, j] = math.nan
                continue
            try:
                out[i, j] = float(cell)
            except (TypeError, ValueError):
                raise CellError(i, name, cell) from None
    return out


def refuse_missing(x: np.ndarray, names: Sequence[str]) -> None:
    """Refuse missing cells in columns that had none in training (nothing imputes them)."""
    for j, name in enumerate(names):
        if np.isnan(x[:, j]).any():
            raise ValueError(f"column {name!r} has missing cells; the model was trained without")


def impute(x: np.ndarray, statistics: np.ndarray) -> np.ndarray:
    """Missing cells (NaN) replaced by their column's training mean or median."""
    x = x.copy()
    rows, columns = np.nonzero(np.isnan(x))
    x[rows, columns] = statistics[columns]
    return x


def shift_and_scale(x: np.ndarray, offset: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``(x - offset) / scale`` per column: scikit-learn's StandardScaler (offset the training
    mean, scale its standard deviation) and RobustScaler (the median and interquartile range)."""
    return (x - offset) / scale


def inverse_normal_cdf(p: np.ndarray) -> np.ndarray:
    """The standard normal distribution's quantile function, for ``0 < p < 1``.

    Wichura's algorithm AS241 (Applied Statistics 37(3), 1988), as Python's
    ``statistics.NormalDist().inv_cdf`` computes it (about 16 correct digits): a rational
    function of ``p`` near the median, of ``sqrt(-log(tail probability))`` in the tails.
    The polynomials' coefficients run from the highest power down.
    """
    central_num = (
        2.50908_09287_30122_6727e3,
        3.34305_75583_58812_8105e4,
        6.72657_70927_00870_0853e4,
        4.59219_53931_54987_1457e4,
        1.37316_93765_50946_1125e4,
        1.97159_09503_06551_4427e3,
        1.33141_66789_17843_7745e2,
        3.38713_28727_96366_6080e0,
    )
    central_den = (
        5.22649_52788_52854_5610e3,
        2.87290_85735_72194_2674e4,
        3.93078_95800_09271_0610e4,
        2.12137_94301_58659_5867e4,
        5.39419_60214_24751_1077e3,
        6.87187_00749_20579_0830e2,
        4.23133_30701_60091_1252e1,
        1.0,
    )
    near_num = (
        7.74545_01427_83414_07640e-4,
        2.27238_44989_26918_45833e-2,
        2.41780_72517_74506_11770e-1,
        1.27045_82524_52368_38258e0,
        3.64784_83247_63204_60504e0,
        5.76949_72214_60691_40550e0,
        4.63033_78461_56545_29590e0,
        1.42343_71107_49683_57734e0,
    )
    near_den = (
        1.05075_00716_44416_84324e-9,
        5.47593_80849_95344_94600e-4,
        1.51986_66563_61645_71966e-2,
        1.48103_97642_74800_74590e-1,
        6.89767_33498_51000_04550e-1,
        1.67638_48301_83803_84940e0,
        2.05319_16266_37758_82187e0,
        1.0,
    )
    far_num = (
        2.01033_43992_92288_13265e-7,
        2.71155_55687_43487_57815e-5,
        1.24266_09473_88078_43860e-3,
        2.65321_89526_57612_30930e-2,
        2.96560_57182_85048_91230e-1,
        1.78482_65399_17291_33580e0,
        5.46378_49111_64114_36990e0,
        6.65790_46435_01103_77720e0,
    )
    far_den = (
        2.04426_31033_89939_78564e-15,
        1.42151_17583_16445_88870e-7,
        1.84631_83175_10054_68180e-5,
        7.86869_13114_56132_59100e-4,
        1.48753_61290_85061_48525e-2,
        1.36929_88092_27358_05310e-1,
        5.99832_20655_58879_37690e-1,
        1.0,
    )

    def polynomial(coefficients: tuple[float, ...], r: np.ndarray) -> np.ndarray:
        value = np.full_like(r, coefficients[0])
        for c in coefficients[1:]:
            value = value * r + c
        return value

    q = p - 0.5
    r = 0.180625 - q * q
    central = q * polynomial(central_num, r) / polynomial(central_den, r)
    with np.errstate(divide="ignore", invalid="ignore"):  # where a branch is not taken
        r = np.sqrt(-np.log(np.where(q <= 0.0, p, 1.0 - p)))
        near = polynomial(near_num, r - 1.6) / polynomial(near_den, r - 1.6)
        far = polynomial(far_num, r - 5.0) / polynomial(far_den, r - 5.0)
    tail = np.where(r <= 5.0, near, far)
    tail = np.where(q < 0.0, -tail, tail)
    return np.where(np.abs(q) <= 0.425, central, tail)


def quantile_normal(x: np.ndarray, quantiles: np.ndarray, references: np.ndarray) -> np.ndarray:
    """scikit-learn's QuantileTransformer (``output_distribution="normal"``) per column.

    ``quantiles[:, j]`` are column j's training quantiles at the probabilities ``references``.
    A value is mapped to its probability by linear interpolation (the mean of interpolating
    upwards and downwards, so that a quantile repeated in the training data maps to the middle
    of its probabilities), to 0 or 1 beyond the first or last quantile (within 1e-7), and then
    through the normal distribution's quantile function, clipped to the probabilities 1e-7 and
    1 - 1e-7 (less the machine epsilon).
    """
    bound = 1e-7 - np.spacing(1)
    out = np.empty_like(x)
    for j in range(x.shape[1]):
        column, q = x[:, j], quantiles[:, j]
        p = 0.5 * (
            np.interp(column, q, references) - np.interp(-column, -q[::-1], -references[::-1])
        )
        p[column + 1e-7 > q[-1]] = 1.0
        p[column - 1e-7 < q[0]] = 0.0
        # Clipping before the quantile function is clipping after it: it is increasing.
        out[:, j] = inverse_normal_cdf(np.clip(p, bound, 1.0 - bound))
    return out


def level_codes(
    cells: dict[str, list[Any]],
    levels: dict[str, list[str]],
    na_values: Sequence[str],
    missing_level: str,
    other_level: str,
) -> np.ndarray:
    """For each categorical column (the keys of ``levels``), each cell's position among the
    column's levels, or -1 for a level it does not know.

    A cell's level is its text (stripped) or ``str`` of its value; a missing cell's is
    ``missing_level``; where the column has ``other_level``, a level it does not list is that
    one (rare and unseen levels were grouped in training).
    """
    names = list(levels)
    out = np.empty((len(cells[names[0]]) if names else 0, len(names)), dtype=np.int64)
    for j, name in enumerate(names):
        index = {level: k for k, level in enumerate(levels[name])}
        for i, cell in enumerate(cells[name]):
            if is_missing(cell, na_values):
                text = missing_level
            else:
                text = cell.strip() if isinstance(cell, str) else str(cell)
            if text not in index and other_level in index:
                text = other_level
            out[i, j] = index.get(text, -1)
    return out


def one_hot(codes: np.ndarray, widths: Sequence[int]) -> np.ndarray:
    """One 0/1 column per level of each categorical column (all 0 for an unknown level)."""
    blocks = []
    for j, width in enumerate(widths):
        block = np.zeros((codes.shape[0], width))
        known = np.flatnonzero(codes[:, j] >= 0)
        block[known, codes[known, j]] = 1.0
        blocks.append(block)
    return np.hstack(blocks) if blocks else np.empty((codes.shape[0], 0))


class CellError(ValueError):
    """A cell its column cannot read (text in a numeric column): ``row`` (from 0) of
    ``column``, of ``kind`` (numeric, date).

    ``python model.py data.csv`` names the row by its line in the file instead.
    """

    def __init__(self, row: int, column: str, cell: Any, kind: str = "numeric") -> None:
        super().__init__(f"row {row} of {kind} column {column!r} holds {cell!r}")
        self.row, self.column, self.cell, self.kind = row, column, cell, kind


def quoted(names: Sequence[str]) -> str:
    """``'a', 'b', 'c'``: the first five names quoted, then how many more there are."""
    shown = ", ".join(f"'{name}'" for name in list(names)[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def unused_columns_note(names: Sequence[str], used: Sequence[str]) -> str | None:
    """One line naming the columns of ``names`` not in ``used`` (ignored), or None."""
    unused = [name for name in names if name not in used]
    if not unused:
        return None
    if len(unused) == 1:
        return f"note: column {quoted(unused)} is not used by the model; ignored"
    return f"note: columns {quoted(unused)} are not used by the model; ignored"


def unseen_levels(
    cells: Any,
    levels: dict[str, list[str]],
    rare: dict[str, list[str]],
    na_values: Sequence[str],
) -> list[str]:
    """One warning line for each categorical column (the keys of ``levels``) with cells whose
    level no training row had: neither among the column's ``levels`` nor its ``rare`` ones
    (seen in training, encoded as one level). The model reads such a cell as an unknown
    level (as ``(other)`` where the column has it); the line counts the rows and names the
    levels."""
    warnings = []
    for name, known in levels.items():
        seen = set(known) | set(rare.get(name, ()))
        new = []
        for cell in cells[name]:
            if not is_missing(cell, na_values):
                text = cell.strip() if isinstance(cell, str) else str(cell)
                if text not in seen:
                    new.append(text)
        if new:
            distinct = list(dict.fromkeys(new))  # in the order of the rows
            rows = "1 row" if len(new) == 1 else f"{len(new)} rows"
            which = "a level" if len(distinct) == 1 else "levels"
            warnings.append(
                f"warning: column '{name}': {rows} with {which} not seen in training "
                f"({quoted(distinct)}); treated as unknown"
            )
    return warnings
