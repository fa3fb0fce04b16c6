"""Point masses: numeric columns where one exact value holds a large share of the rows.

A measurement such as a day's rainfall is exactly 0 on most days and spread over many values
on the others. A tree splits that off for free; a network sees the 0 as one more point on a
scaled line, next to the smallest rainfalls, and needs large weights to tell them apart. The
``point_mass`` preprocessing gene (:mod:`evosearch.preprocess`) gives the network a 0/1 column
``value == mass`` beside each such column instead.

Found once, on every row of the table the dataset was read from (as the categorical levels
are: :mod:`evosearch.data.table`), so every fold, the refit and a resume see the same columns
and the network's input width is known before training. A column qualifies when its most
frequent present value holds at least :data:`MIN_SHARE` of the present cells and at least
:data:`MIN_RATIO` times as many as the next most frequent value, and the column has at least
:data:`MIN_DISTINCT` distinct present values. The ratio tells a point mass (Seattle's rainfall:
0 on 57 % of days, 16 times the next value's days) from the peak of values measured to a
resolution (iris's sepal widths: 3.0 cm in 17 % of the flowers, 1.9 times 2.8 cm's share;
diamonds' table widths: 56 % and 57 % equally often); a column of a few levels (a count of
children, a rating) is closer to a categorical one, where an extra column for one level adds
little. Where most columns have one (more than half of them, and more than
:data:`MAX_IN_SPARSE`), the data is sparse, such as pixels or word counts given as a table: the
common value is the background, and a flag for every column would double the network's input,
so none is flagged.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_IN_SPARSE", "MIN_DISTINCT", "MIN_RATIO", "MIN_SHARE", "point_masses"]

#: The share of a column's present cells its most frequent value must hold.
MIN_SHARE = 0.1
#: How many times the next most frequent value's cells the most frequent one must hold.
MIN_RATIO = 3.0
#: Point masses always kept, even in more than half of the columns (a table of two columns).
MAX_IN_SPARSE = 4
#: The distinct present values a column must have.
MIN_DISTINCT = 20


def point_masses(matrix: np.ndarray) -> tuple[tuple[int, float], ...]:
    """The point masses of the columns of a float matrix (NaN: a missing cell).

    Parameters
    ----------
    matrix : ndarray of shape (n_rows, n_columns)
        Numeric columns.

    Returns
    -------
    tuple of (int, float)
        ``(column index, value)`` for each column with a point mass, in column order; the
        value the most frequent one; empty for sparse data (see the module docstring).

    Examples
    --------
    >>> rain = np.r_[np.zeros(60), np.arange(1.0, 41.0)]
    >>> point_masses(np.c_[rain, np.arange(100.0)])
    ((0, 0.0),)
    """
    values = np.asarray(matrix, dtype=np.float64)
    found = []
    for j in range(values.shape[1]):
        column = values[:, j]
        present = column[~np.isnan(column)]
        if present.size == 0:
            continue
        levels, counts = np.unique(present, return_counts=True)
        if levels.size < MIN_DISTINCT:
            continue
        top = int(np.argmax(counts))  # the first of the tied: the smallest value
        runner_up = np.partition(counts, -2)[-2]
        if counts[top] >= MIN_SHARE * present.size and counts[top] >= MIN_RATIO * runner_up:
            found.append((j, float(levels[top])))
    if len(found) > max(MAX_IN_SPARSE, values.shape[1] // 2):
        return ()
    return tuple(found)
