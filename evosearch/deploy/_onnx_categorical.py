"""ONNX emission of the categorical columns' levels and encoding, all columns at once.

scikit-learn maps each categorical column through :class:`~evosearch.preprocess.LevelMapper`
(a missing cell to ``(missing)``, an unknown level to ``(other)`` where the column has them)
and then one-hot or ordinal encodes it. Per column that is a lookup from the cell's text to a
code: the index of its level among the encoder's categories, or -1 (no category: all zeros in
one-hot, ``-1`` in ordinal). The graph makes that lookup for every column with a handful of
nodes, however many columns there are:

1. one ``LabelEncoder`` maps each cell of the ``(n, k)`` string matrix to its index in the
   union of every column's levels (and ``""``, a missing cell), -1 for a text none has;
2. one ``Gather`` reads each cell's code from a ``(k, union + 1)`` table of small integers
   (row ``c``: column ``c``'s code of every union entry; column 0: of an unknown text);
3. one-hot: the code is an output position (the column's block start plus its level's
   index), and output ``p`` is ``code[:, column(p)] == p`` (a ``Gather`` and an ``Equal``);
   ordinal: the code itself, cast.

The level strings are stored once, in the ``LabelEncoder``; the tables as int8 or int16 where
they fit (cast once, which onnxruntime folds when it loads the model).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from onnx import TensorProto
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

from evosearch.deploy._onnx_graph import ML_DOMAIN
from evosearch.errors import SettingsError
from evosearch.preprocess import MISSING_LEVEL, OTHER_LEVEL, LevelMapper

__all__ = ["ENCODERS", "emit_encoding"]


def _mapped(text: str, levels: list[str]) -> str | None:
    """What LevelMapper makes of ``text`` (``""``: a missing cell) in a column of ``levels``."""
    if text in levels:
        return text
    if text == "":
        return MISSING_LEVEL if MISSING_LEVEL in levels else OTHER_LEVEL
    return OTHER_LEVEL if OTHER_LEVEL in levels else None


def _ints(graph: Any, values: np.ndarray, hint: str) -> str:
    """An int64 tensor of ``values``, stored in the smallest integer type that holds them."""
    for small in (np.int8, np.int16, np.int32):
        info = np.iinfo(small)
        if values.size == 0 or (values.min() >= info.min and values.max() <= info.max):
            stored = graph.const(values.astype(small), hint)
            return str(graph.op("Cast", [stored], hint, to=TensorProto.INT64))
    return str(graph.const(values.astype(np.int64), hint))


def emit_encoding(graph: Any, mapper: LevelMapper | None, encoder: Any, x: str, elem: int) -> str:
    """The encoded ``(n, width)`` matrix (ONNX type ``elem``) of the string matrix ``x``:
    ``mapper`` (None: the cells are the levels) then ``encoder`` (one-hot or ordinal)."""
    if isinstance(encoder, OneHotEncoder) and encoder.drop_idx_ is not None:
        raise SettingsError("the onnx format cannot export a OneHotEncoder that drops levels")
    categories = [[str(v) for v in levels] for levels in encoder.categories_]
    if mapper is not None:
        columns = [[str(v) for v in levels] for levels in mapper.levels]
    else:
        columns = categories
    union = sorted({text for levels in columns for text in levels} | {""})
    onehot = isinstance(encoder, OneHotEncoder)
    starts = np.cumsum([0] + [len(c) for c in categories])
    table = np.full((len(categories), len(union) + 1), -1, np.int64)
    for c, (levels, known) in enumerate(zip(columns, categories, strict=True)):
        position = {level: i + (int(starts[c]) if onehot else 0) for i, level in enumerate(known)}
        for u, text in enumerate([None, *union]):  # None: a text no column has
            if mapper is None:
                level = text
            elif text is None:
                level = OTHER_LEVEL if OTHER_LEVEL in levels else None
            else:
                level = _mapped(text, levels)
            if level is not None and level in position:
                table[c, u] = position[level]
    index = graph.op(
        "LabelEncoder",
        [x],
        "level",
        domain=ML_DOMAIN,
        keys_strings=union,
        values_int64s=list(range(len(union))),
        default_int64=-1,
    )
    # Row c of the flattened table starts at c * (union + 1); entry 0 of a row is "unknown".
    rows = np.arange(len(categories), dtype=np.int64) * (len(union) + 1) + 1
    at = graph.op("Add", [index, _ints(graph, rows, "rows")], "at")
    codes = graph.op("Gather", [_ints(graph, table.ravel(), "codes"), at], "code")
    if not onehot:
        return str(graph.op("Cast", [codes], "ordinal", to=elem))
    owner = np.repeat(np.arange(len(categories)), [len(c) for c in categories])
    spread = graph.op("Gather", [codes, _ints(graph, owner, "owner")], "spread", axis=1)
    slots = _ints(graph, np.arange(int(starts[-1])), "slots")
    return str(graph.op("Cast", [graph.op("Equal", [spread, slots], "hot")], "onehot", to=elem))


#: The encoders :func:`emit_encoding` takes after a LevelMapper (or alone).
ENCODERS = (OneHotEncoder, OrdinalEncoder)
