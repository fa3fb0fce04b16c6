"""Table files as users have them: the file type from its name, delimited text whose separator
and decimal mark are sniffed (or given), compressed text, Parquet and Excel.

Every table file ends as the same thing, the stripped text cells of a header row and of the data
rows with the file line of each row (:class:`Table`), which :mod:`evosearch.data.loading` types
as it types a CSV file. So one table gives the same dataset whatever file holds it.

File types (from the name, case-insensitive)
--------------------------------------------
``.csv``, ``.tsv``
    UTF-8 text, a header row first. ``.csv`` is separated by ``,``, ``;``, tab or ``|``: the
    first of these that splits the header into the most fields, with that many fields on the
    most rows of the first 64 KiB (``sep`` says it instead); ``.tsv`` by tab.
``.csv.gz``, ``.csv.bz2``, ``.csv.xz``, ``.csv.zip`` (and the same for ``.tsv``)
    Compressed text (a zip archive holding one file), read like the text.
``.parquet``
    Needs pyarrow (``pip install 'evosearch[parquet]'``).
``.xlsx``, ``.xlsm``
    The first sheet, its first row the header. Needs openpyxl
    (``pip install 'evosearch[excel]'``).
``.npz``
    Arrays ``X`` and ``y`` (read by :mod:`evosearch.data.loading`, not a table).

Decimal mark
------------
``.`` in comma-separated text. Otherwise ``,`` when more cells are numbers written with a
decimal comma (``1,5``) than with a decimal point (``1.5``): the common European form, a
``;``-separated file with ``1,5`` numbers. ``decimal`` says it instead (``","`` also reads the
quoted ``"1,5"`` cells of a comma-separated file). Thousands separators are not read; a column
whose numbers mix both marks is refused in one line.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import importlib
import io
import lzma
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evosearch.data._checks import _COMMA_NUMBER, _POINT_NUMBER, _one_line
from evosearch.data.table import _is_number
from evosearch.errors import DataError

__all__ = [
    "DATA_FILE_TYPES",
    "SEPARATORS",
    "TABLE_FILE_TYPES",
    "Table",
    "check_decimal",
    "check_sep",
    "file_type",
    "is_table_file",
    "read_csv_cells",
    "read_table",
    "source_type",
]

#: The separators sniffed in a ``.csv`` file, in order of preference.
SEPARATORS: tuple[str, ...] = (",", ";", "\t", "|")

# Delimited text: its type and default separator (None: sniffed).
_TEXT: dict[str, str | None] = {".csv": None, ".tsv": "\t"}
_COMPRESSED = (".gz", ".bz2", ".xz", ".zip")
_PARQUET = (".parquet",)
_EXCEL = (".xlsx", ".xlsm")

#: The file types read as tables (what :func:`file_type` returns for them).
TABLE_FILE_TYPES: tuple[str, ...] = (
    *_TEXT,
    *(t + c for t in _TEXT for c in _COMPRESSED),
    *_PARQUET,
    *_EXCEL,
)
#: Every file type :func:`~evosearch.data.load_dataset` reads.
DATA_FILE_TYPES: tuple[str, ...] = (*TABLE_FILE_TYPES, ".npz")

_READS = ".csv, .tsv, either compressed (.gz, .bz2, .xz, .zip: cars.csv.gz), .parquet, .xlsx, .npz"
# The first part of a file a .csv's separator is sniffed on.
_SNIFF_CHARS = 65536
_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}


def file_type(path: str) -> str:
    """The type of a data file from its name: ``".csv"``, ``".csv.gz"``, ``".parquet"``, ...

    Lower-case; a compressed text file's type has two suffixes. A name without a suffix gives
    ``""``, any other its last suffix.

    Examples
    --------
    >>> file_type("cars.CSV"), file_type("runs/cars.tsv.gz"), file_type("cars.2024.xlsx")
    ('.csv', '.tsv.gz', '.xlsx')
    >>> file_type("notes.txt"), file_type("cars")
    ('.txt', '')
    """
    suffixes = [s.lower() for s in Path(path).suffixes]
    if len(suffixes) >= 2 and suffixes[-1] in _COMPRESSED and suffixes[-2] in _TEXT:
        return suffixes[-2] + suffixes[-1]
    return suffixes[-1] if suffixes else ""


def is_table_file(path: str) -> bool:
    """Whether ``path`` names a file read as a table (by its name, not its content)."""
    return file_type(path) in TABLE_FILE_TYPES


def source_type(source: str, bundled: Sequence[str]) -> str:
    """``"bundled"`` for a bundled dataset's name, else the type of the existing data file.

    Only a bare word (no suffix, no folder) is compared with the bundled names, and a bundled
    name wins over a file of that name in the working folder.

    Raises
    ------
    DataError
        One line: an unknown bare word (naming the bundled sets), a missing file, a folder, a
        file of a type that is not read (naming those that are).
    """
    separators = {os.sep, "/"} | ({os.altsep} if os.altsep else set())
    bare = not Path(source).suffix and not any(s in source for s in separators)
    if bare and source.lower() in bundled:
        return "bundled"
    if os.path.isdir(source):
        raise DataError(
            f"cannot read {source}: a folder, not a data file (evosearch reads {_READS})"
        )
    if os.path.exists(source):
        kind = file_type(source)
        if kind not in DATA_FILE_TYPES:
            what = f"'{kind}'" if kind else "(no suffix)"
            hint = (
                "; a compressed table is named .csv.gz, .tsv.zip, ..."
                if kind in _COMPRESSED
                else "; an Excel file of before 2007 (.xls): save it as .xlsx or .csv"
                if kind == ".xls"
                else ""
            )
            raise DataError(
                f"cannot read {source}: unknown file type {what} (evosearch reads {_READS}){hint}"
            )
        return kind
    if bare:
        raise DataError(
            f"unknown dataset '{source}': expected one of {', '.join(bundled)} or the path of a "
            f"data file (.csv/.npz/.tsv/.parquet/.xlsx, or a .csv/.tsv compressed .gz, .bz2, "
            ".xz or .zip)"
        )
    raise DataError(f"data file not found: {source}")


def check_sep(sep: str | None) -> str | None:
    """``sep`` as a separator character: ``"tab"`` and ``"\\t"`` mean a tab; None: sniffed.

    Raises
    ------
    DataError
        Unless it is one character that is not a letter, digit, quote, space, line break or
        ``.``.
    """
    if sep is None:
        return None
    if sep.lower() in ("tab", "\\t"):
        return "\t"
    if len(sep) != 1 or sep.isalnum() or sep in "\"'. \r\n":
        raise DataError(f"--sep must be one character such as , ; | or tab, got {sep!r}")
    return sep


def check_decimal(decimal: str | None) -> str | None:
    """``decimal`` if it is ``"."`` or ``","``; None: sniffed.

    Raises
    ------
    DataError
        For anything else.
    """
    if decimal is None or decimal in (".", ","):
        return decimal
    raise DataError(f"--decimal must be '.' or ',', got {decimal!r}")


@dataclass(frozen=True)
class Table:
    """The stripped text cells of a table file, with the file line of each data row.

    Attributes
    ----------
    header : list of str
        The column names.
    cells : pandas.DataFrame
        The data cells as ``str`` (decimal commas made points), columns numbered like the
        header.
    lines : numpy.ndarray
        The file line (sheet row) of each data row; the header is line 1, or the first
        non-blank line.
    sep, decimal : str or None
        How delimited text was read (given or sniffed); None for Parquet and Excel files.
    """

    header: list[str]
    cells: Any
    lines: np.ndarray
    sep: str | None = None
    decimal: str | None = None

    def take(self, rows: np.ndarray) -> Table:
        """The table of data rows ``rows`` (positions)."""
        cells = self.cells.iloc[rows].reset_index(drop=True)
        return Table(self.header, cells, self.lines[rows], self.sep, self.decimal)


def read_table(
    path: str, kind: str | None = None, *, sep: str | None = None, decimal: str | None = None
) -> Table:
    """Read the table file ``path`` of type ``kind`` (default: from its name).

    ``sep`` and ``decimal`` (delimited text only) are sniffed where None (see the module
    docstring). Refused in one line (:class:`~evosearch.errors.DataError`): an unreadable or
    empty file, a header that looks like data or repeats a name, a row with another number of
    fields than the header, a column mixing decimal marks, a missing library.
    """
    kind = file_type(path) if kind is None else kind
    if kind in _PARQUET:
        grid, first = _parquet_grid(path), 1
    elif kind in _EXCEL:
        grid, first = _excel_grid(path), 1
    elif kind in TABLE_FILE_TYPES:
        text = _read_text(path, kind)
        if sep is None:
            default = _TEXT["." + kind.split(".")[1]]  # .tsv.gz -> .tsv
            sep = default if default is not None else _sniff_sep(text)
        grid, first = _parse_text(text, sep, path)
    else:
        raise DataError(f"cannot read {path} as a table: unknown file type '{kind}'")
    return _table(grid, first, path, sep, decimal if sep is not None else None)


def read_csv_cells(path: str, *, sep: str | None = None, decimal: str | None = None) -> Any:
    """A table file's cells as text (stripped), in a DataFrame named by its header row, read
    as :func:`read_table_file` reads it."""
    table = read_table_file(path, sep=sep, decimal=decimal)
    return table.cells.set_axis(table.header, axis=1)  # a copy


def read_table_file(path: str, *, sep: str | None = None, decimal: str | None = None) -> Table:
    """Any table file (``.csv``, ``.tsv``, compressed, ``.parquet``, ``.xlsx``) as a
    :class:`Table` (with the file line of each row), sniffed and read as
    :func:`~evosearch.data.load_dataset` reads it (decimal commas made points), with its checks
    (header, field counts, encoding), each refusal a one-line :class:`~evosearch.errors.DataError`.
    """
    if not os.path.exists(path):
        raise DataError(f"data file not found: {path}")
    if (kind := source_type(path, ())) not in TABLE_FILE_TYPES:
        raise DataError(f"cannot read {path} as a table: it holds arrays, not columns")
    return read_table(path, kind, sep=check_sep(sep), decimal=check_decimal(decimal))


# --------------------------------------------------------------------------------------------
# delimited text


def _read_text(path: str, kind: str) -> str:
    """The file's text (decompressed), without the byte-order mark spreadsheets write."""
    try:
        if kind.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                names = [
                    n for n in archive.namelist()
                    if not n.endswith("/") and not n.startswith("__MACOSX/")
                ]  # fmt: skip
                if len(names) != 1:
                    raise DataError(
                        f"cannot read {path}: a zip archive of {len(names)} files; it must "
                        "hold one table"
                    )
                data = archive.read(names[0])
        else:
            opener: Any = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(
                kind[kind.rfind(".") :], open
            )
            with opener(path, "rb") as handle:
                data = handle.read()
    except (OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError) as exc:
        raise DataError(f"cannot read {path}: {_one_line(exc)}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"cannot read {path}: not UTF-8 text ({_one_line(exc)})") from None


def _sniff_sep(text: str) -> str:
    """The separator of :data:`SEPARATORS` that splits the header into two or more fields and
    the most sampled rows into as many (then: the most fields; then: the first); ``,`` when
    none splits the header."""
    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rfind("\n")]  # whole lines only
    best: tuple[float, int] | None = None
    chosen = ","
    for sep in SEPARATORS:
        try:
            counts = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=sep) if r]
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        rest = counts[1:]
        share = sum(c == counts[0] for c in rest) / len(rest) if rest else 1.0
        if best is None or (share, counts[0]) > best:
            best, chosen = (share, counts[0]), sep
    return chosen


def _parse_text(text: str, sep: str, path: str) -> tuple[np.ndarray, int]:
    """Rows of fields (None: absent, a short record), and the file line of the first row."""
    import pandas as pd

    # Blank lines before the header are not rows (pandas would expect 0 fields after them).
    lines = text.splitlines(keepends=True)
    skipped = 0
    while skipped < len(lines) and not lines[skipped].strip():
        skipped += 1
    body = "".join(lines[skipped:])
    if not body:
        raise DataError(f"data file is empty: {path}")
    # The python engine tells an absent field (None: a short record) from an empty one (""),
    # and keeps blank lines as rows, so row i is line i + 1 of a file without multi-line cells.
    try:
        raw = pd.read_csv(
            io.StringIO(body), sep=sep, header=None, dtype=object, keep_default_na=False,
            skip_blank_lines=False, engine="python", skipinitialspace=False,
        )  # fmt: skip
    except pd.errors.EmptyDataError:
        raise DataError(f"data file is empty: {path}") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"cannot read {path}: {_field_count(exc, sep, skipped)}") from None
    except (ValueError, csv.Error) as exc:
        raise DataError(f"cannot read {path}: {_one_line(exc)}") from None
    return raw.to_numpy(dtype=object), skipped + 1


def _field_count(exc: Exception, sep: str, skipped: int) -> str:
    """pandas' "Expected 3 fields in line 5, saw 4" in our words, the separator named."""
    import re

    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
    if found is None:
        return _one_line(exc)
    expected, line, saw = (int(g) for g in found.groups())
    return (
        f"line {line + skipped} has {saw} fields, expected {expected} (as the header) with "
        f"separator {_NAMES.get(sep, repr(sep))}; --sep names another"
    )


# --------------------------------------------------------------------------------------------
# Parquet and Excel


def _need(module: str, extra: str, what: str, path: str) -> None:
    try:
        importlib.import_module(module)
    except ImportError:
        raise DataError(
            f"cannot read {path}: {what} files need {module}: pip install 'evosearch[{extra}]'"
        ) from None


def _cell_text(value: Any) -> str:
    """A typed cell as the text a CSV file would hold ("" where missing); floats by repr, so
    the text reads back as the very value."""
    if value is None or (isinstance(value, float | np.floating) and np.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return repr(float(value))
    import pandas as pd

    if value is pd.NA or value is pd.NaT:
        return ""
    return str(value)


def _parquet_grid(path: str) -> np.ndarray:
    _need("pyarrow", "parquet", "Parquet", path)
    import pandas as pd

    try:
        frame = pd.read_parquet(path, engine="pyarrow")
    except Exception as exc:  # pyarrow's own errors (ArrowInvalid, ...) on a damaged file
        raise DataError(f"cannot read {path}: {_one_line(exc)}") from None
    grid = np.empty((len(frame) + 1, frame.shape[1]), dtype=object)
    grid[0, :] = [str(c) for c in frame.columns]  # the header row, as in a text file
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        grid[i, :] = [_cell_text(v) for v in row]
    return grid


def _excel_grid(path: str) -> np.ndarray:
    _need("openpyxl", "excel", "Excel", path)
    import pandas as pd

    try:
        frame = pd.read_excel(path, sheet_name=0, header=None, dtype=object, engine="openpyxl")
    except Exception as exc:  # openpyxl's own errors (InvalidFileException, ...)
        raise DataError(f"cannot read {path}: {_one_line(exc)}") from None
    grid = np.empty(frame.shape, dtype=object)
    for i, row in enumerate(frame.itertuples(index=False)):
        grid[i, :] = [_cell_text(v) for v in row]
    return grid


# --------------------------------------------------------------------------------------------
# rows -> Table


def _table(rows: np.ndarray, first: int, path: str, sep: str | None, decimal: str | None) -> Table:
    import pandas as pd

    lines = np.arange(first, first + rows.shape[0])
    # Blank lines (e.g. at the end of the file) carry no data.
    blank = np.array([all(c is None or not str(c).strip() for c in row) for row in rows], bool)
    rows, lines = rows[~blank], lines[~blank]
    if rows.shape[0] == 0 or rows.shape[1] == 0:
        raise DataError(f"data file is empty: {path}")
    short = [i for i, row in enumerate(rows) if row[-1] is None]
    if short:
        row = rows[short[0]]
        n_fields = sum(c is not None for c in row)
        raise DataError(
            f"{path} line {lines[short[0]]} has {n_fields} fields, expected {len(row)} "
            "(as the header)"
        )
    header = [str(cell).strip() for cell in rows[0]]
    _check_header(header, path)
    if rows.shape[0] == 1:
        raise DataError(f"data file has a header but no data rows: {path}")
    cells = pd.DataFrame(rows[1:]).map(lambda c: str(c).strip())
    lines = lines[1:]
    if sep is not None:
        decimal = decimal or _sniff_decimal(cells, sep)
        cells = _points(cells, decimal, header, lines, path)
    return Table(header, cells, lines, sep, decimal)


def _check_header(header: list[str], path: str) -> None:
    if all(_is_number(cell) for cell in header):
        raise DataError(
            f"the first line of {path} looks like data: a header row naming the columns is required"
        )
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise DataError(f"{path} has duplicate column name '{name}' in its header")
        seen.add(name)


def _sniff_decimal(cells: Any, sep: str) -> str:
    """``,`` where more cells are decimal-comma numbers than decimal-point ones (never for
    comma-separated text), else ``.``."""
    if sep == ",":
        return "."
    comma = sum(int(cells[c].str.fullmatch(_COMMA_NUMBER).sum()) for c in cells.columns)
    point = sum(int(cells[c].str.fullmatch(_POINT_NUMBER).sum()) for c in cells.columns)
    return "," if comma > point else "."


def _points(cells: Any, decimal: str, header: list[str], lines: np.ndarray, path: str) -> Any:
    """Decimal-comma numbers written with a point (for ``decimal=","``); a column whose numbers
    mix both marks is refused."""
    cells = cells.copy()
    for column in cells.columns:
        texts = cells[column]
        comma = texts.str.fullmatch(_COMMA_NUMBER).to_numpy(dtype=bool)
        point = texts.str.fullmatch(_POINT_NUMBER).to_numpy(dtype=bool)
        if comma.any() and point.any():
            i, j = int(np.argmax(comma)), int(np.argmax(point))
            raise DataError(
                f"column '{header[column]}' of {path} mixes decimal marks (line {lines[i]}: "
                f"{texts.iloc[i]!r}, line {lines[j]}: {texts.iloc[j]!r}): write its numbers "
                f"with one mark (read with --decimal '{decimal}'; thousands separators are not "
                "read)"
            )
        if decimal == "," and comma.any():
            cells[column] = texts.where(~comma, texts.str.replace(",", ".", regex=False))
    return cells
