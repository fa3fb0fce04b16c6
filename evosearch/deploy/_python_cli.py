"""The command line of a ``--format python`` model file: the last part of ``model.py``.

``python model.py data.csv [--proba] [--keep COLS]`` prints one prediction per row of a CSV
file, as ``evosearch predict`` does for any export: the columns ``--keep`` names (an ID) in
front of the predictions, a note naming the columns the model does not use, a warning for each
categorical column with levels no training row had, a bad cell named by its line in the file,
and a quiet end when the reader of the output goes away (``| head``). The notes' text comes
from :mod:`~evosearch.deploy._python_runtime`, which ``evosearch predict`` uses too, so both
say the same.
"""

from __future__ import annotations

import inspect
import textwrap
from typing import Any

from evosearch.deploy import _python_runtime as rt
from evosearch.deploy._python_prep import Preprocessing, literal

__all__ = ["cli_sections", "usage"]


def usage(task: str) -> str:
    """How the model file's command is called (its docstring and usage line say it)."""
    proba = " [--proba]" if task == "classification" else ""
    return f"python model.py data.csv{proba} [--keep COLS] [--sep CHAR] [--decimal MARK]"


_READING = '''
def separator(file):
    """The separator of the CSV text in ``file`` (rewound after): the training file's (SEP),
    or the first of , ; tab | whose header line names every feature column."""
    first = next((line for line in file if line.strip()), "")
    file.seek(0)
    for candidate in dict.fromkeys([SEP or ",", ",", ";", "\\t", "|"]):
        header = next(csv.reader([first], delimiter=candidate), [])
        if set(FEATURES) <= {name.strip() for name in header}:
            return candidate
    return SEP or ","


def decimal_commas(columns):
    """Whether the numeric columns are written with a decimal comma (``1,5``): some cell
    has one and, read with a point instead, every cell that is not a number becomes one."""
    cells = [c.strip() for n in NUMERIC_COLUMNS if n in columns for c in columns[n]]
    commas = [c for c in cells if "," in c]

    def number(text):
        try:
            float(text.replace(",", "."))
        except ValueError:
            return False
        return "." not in text or "," not in text

    return bool(commas) and all(number(c) for c in commas)
'''


_MAIN = '''
def main(argv):
    """`python model.py data.csv [--proba] [--keep COLS]`: print the predictions as CSV, one
    row per row of data.csv, after the columns COLS (comma-separated, e.g. an ID) copied."""
    proba, keep, paths, understood = False, [], [], True
    sep, decimal = None, None
    args = iter(argv)
    for arg in args:
        if arg == "--proba":
            proba = True
        elif arg in ("--sep", "--decimal") or arg.startswith(("--sep=", "--decimal=")):
            value = arg.partition("=")[2] if "=" in arg else next(args, "")
            value = "\\t" if value in ("\\\\t", "tab") else value
            understood = understood and len(value) == 1
            sep, decimal = (value, decimal) if arg.startswith("--sep") else (sep, value)
        elif arg == "--keep" or arg.startswith("--keep="):
            names = arg.partition("=")[2] if "=" in arg else next(args, "")
            keep += [name.strip() for name in names.split(",") if name.strip()]
            understood = understood and bool(names.strip(", "))
        elif arg.startswith("--"):
            understood = False
        else:
            paths.append(arg)
    if not understood or len(paths) != 1 or (proba and TASK != "classification"):
        print(f"usage: {USAGE}", file=sys.stderr)
        return 2
    path = paths[0]
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file, delimiter=sep or separator(file))
            rows, lines = [], []  # lines: the file line of each row, for messages
            for row in reader:
                if any(cell.strip() for cell in row):
                    rows.append(row)
                    lines.append(reader.line_num)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        print(f"{path}: {getattr(error, 'strerror', None) or error}", file=sys.stderr)
        return 2
    if not rows or any(len(row) != len(rows[0]) for row in rows):
        print(f"{path}: not a CSV table (empty, or rows of other lengths)", file=sys.stderr)
        return 2
    header = [name.strip() for name in rows[0]]
    columns = {name: [row[j] for row in rows[1:]] for j, name in enumerate(header)}
    if (decimal or (DECIMAL if sep in (None, SEP) else ".")) == "," or (
        decimal is None and decimal_commas(columns)
    ):
        for name in NUMERIC_COLUMNS:
            if name in columns:
                columns[name] = [cell.replace(",", ".") for cell in columns[name]]
    refused = keep_refusal(keep, header, proba)
    if refused:
        print(f"{path}: {refused}", file=sys.stderr)
        return 2
    try:
        predictions = predict_proba(columns) if proba else predict(columns)
    except CellError as error:
        print(
            f"{path}: line {lines[error.row + 1]} of {error.kind} column {error.column!r} "
            f"holds {error.cell!r}",
            file=sys.stderr,
        )
        return 2
    except ValueError as error:
        print(f"{path}: {error}", file=sys.stderr)
        return 2
    for note in notes(columns, keep):
        print(note, file=sys.stderr)
    kept = [[columns[name][i].strip() for name in keep] for i in range(len(rows) - 1)]
    try:
        write_predictions(predictions, proba, keep, kept)
    except BrokenPipeError:
        # The reader went away (`python model.py data.csv | head`): stop quietly, as other
        # tools do, with standard output on devnull so that Python's last flush cannot fail.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


def prediction_names(proba):
    """The header of the predictions: the target's name (and one column per class)."""
    if proba:
        return [TARGET] + [f"proba_{label}" for label in CLASSES]
    return [TARGET]


def keep_refusal(keep, header, proba):
    """Why the columns to --keep cannot be kept (None if they can)."""
    absent = [name for name in keep if name not in header]
    if absent:
        return f"--keep names no column {quoted(absent)} (columns: {quoted(header)})"
    clash = [name for name in keep if name in prediction_names(proba)]
    if clash:
        return f"--keep column {quoted(clash)} has the name of a prediction column"
    return None


def write_predictions(predictions, proba, keep, kept):
    """Print the kept cells and the predictions of each row as CSV."""
    names = prediction_names(proba)
    if proba:
        values = [[CLASSES[np.argmax(row)]] + [repr(float(p)) for p in row] for row in predictions]
    elif TASK == "classification":
        values = [[label] for label in predictions]
    elif predictions.ndim == 1:
        values = [[repr(float(value))] for value in predictions]
    else:
        names = [f"{TARGET}_{j}" for j in range(predictions.shape[1])]
        values = [[repr(float(v)) for v in row] for row in predictions]
    out = csv.writer(sys.stdout, lineterminator="\\n")
    out.writerow(keep + names)
    out.writerows(cells + row for cells, row in zip(kept, values))
    sys.stdout.flush()  # a reader gone fails here, inside main, not at the exit


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
'''


def _source(function: Any) -> str:
    return textwrap.dedent(inspect.getsource(function)).strip() + "\n"


def _rare_levels(info: dict[str, Any], prep: Preprocessing) -> dict[str, list[str]]:
    """Per categorical column, the levels model.json saw in training that the encoding does not
    list (rare ones, grouped as ``(other)``)."""
    seen = {
        str(c.get("name")): [str(v) for v in c.get("levels", ())]
        for c in info.get("columns") or ()
        if isinstance(c, dict) and c.get("kind") == "categorical"
    }
    rare: dict[str, list[str]] = {}
    for levels in prep.levels.values():
        for name, encoded in levels.items():
            grouped = [level for level in seen.get(name, ()) if level not in encoded]
            if grouped:
                rare[name] = grouped
    return rare


def cli_sections(info: dict[str, Any], prep: Preprocessing) -> list[str]:
    """The sections of ``model.py`` after the predictions: the command line and its notes.

    ``info`` is model.json's (its target, options and columns), ``prep`` the translated
    preprocessing (its constants of categorical levels).
    """
    options = info.get("options") or {}
    roles = [info.get("target"), options.get("groups"), options.get("sample_weight")]
    roles += list(options.get("drop", ()))
    columns = info.get("columns")
    numeric = [
        str(c["name"]) for c in columns if c.get("kind") == "numeric"
    ] if columns is not None else [str(name) for name in info.get("features") or ()]  # fmt: skip
    constants = [
        f"USAGE = {literal(usage(str(info.get('task'))))}",
        "# How the training file was written (None / '.': the plain CSV's), and the columns of",
        "# numbers, which a decimal comma is read in.",
        f"SEP = {literal(options.get('sep'))}",
        f"DECIMAL = {literal(options.get('decimal', '.'))}",
        f"NUMERIC_COLUMNS = {literal(numeric)}",
        "# Columns of the training table that are not features (target, groups, weights, those",
        "# dropped): no note says they are not used.",
        f"NOT_FEATURES = {literal([str(c) for c in roles if c])}",
    ]
    body = [
        "    found = [unused_columns_note(list(X), FEATURES + NOT_FEATURES + list(keep))]",
    ]
    helpers: list[Any] = [rt.CellError, rt.quoted, rt.unused_columns_note]
    if prep.levels:
        constants += [
            "# Levels seen in training that the encoding groups as (other), being rare: no",
            "# warning says they are new.",
            f"RARE_LEVELS = {literal(_rare_levels(info, prep))}",
        ]
        body += [
            f"    found += unseen_levels(X, {name}, RARE_LEVELS, NA_VALUES)" for name in prep.levels
        ]
        helpers.append(rt.unseen_levels)
    notes = (
        "def notes(X, keep=()):\n"
        '    """One-line notes on the table X that do not stop its predictions: columns the\n'
        '    model does not use (but those in keep), categorical levels no training row had."""\n'
        + "\n".join(body)
        + "\n    return [note for note in found if note]\n"
    )
    return [
        "# ---- the command line ----\n",
        "\n".join(constants) + "\n",
        *(_source(helper) for helper in helpers),
        notes,
        _READING.lstrip("\n"),
        _MAIN.lstrip("\n"),
    ]
