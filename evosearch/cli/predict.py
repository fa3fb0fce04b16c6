"""``evosearch predict MODEL_DIR DATA.csv``: apply an exported model to a new table.

The table must hold the model's feature columns (by name, in any order; text and missing cells
as in training); the target, group and weight columns may be there too and are not features.
A missing feature column is refused with one line naming it; other columns are ignored, with
a note naming them (on standard error), but those ``--keep`` copies into the output in front
of the predictions (an ID). A categorical column with levels no training row had gets a
one-line warning counting its rows (they are read as an unknown level, as in training). A bad
cell is named by its line in the file.

Predictions go to ``--out`` (CSV: one row per input row, the target's name as header; with
``--proba`` one probability column per class) or to standard output. When the table holds the
target too, the score on those rows is printed (with the run's scoring, weighted by the run's
sample-weight column where the table holds it; to standard error when the predictions go to
standard output).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from evosearch.errors import DataError, SettingsError

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Write the predictions of the model in ``args.model`` for the rows of ``args.data``."""
    import numpy as np
    import pandas as pd

    from evosearch.data import CATEGORICAL, NUMERIC, Column, conform_table
    from evosearch.data.files import read_table_file
    from evosearch.deploy import read_model
    from evosearch.deploy._python_runtime import unseen_levels, unused_columns_note

    model: Any
    model, info = read_model(args.model)
    data = str(args.data)
    table = read_table_file(data)  # any table file, sniffed; others refused in one line
    cells = table.cells.copy()
    cells.columns = table.header
    options = info.get("options") or {}
    plain = info.get("columns") is None
    features = info.get("features")
    try:
        if plain:
            if not isinstance(features, list):
                raise TypeError("features")
            columns = [Column(str(name), NUMERIC) for name in features]
        else:
            columns = [Column.from_json(c) for c in info["columns"]]
    except (KeyError, TypeError, ValueError, AttributeError):
        # A hand-edited or hand-written model.json: say what predict needs, in one line.
        raise SettingsError(
            f"{args.model}/model.json names no valid 'features' or 'columns': predict needs them"
        ) from None
    target = info.get("target")
    names = [target or "prediction"]
    if args.proba:
        if info.get("task") != "classification":
            raise SettingsError("--proba needs a classifier; this model is a regressor")
        names += [f"proba_{c}" for c in model.classes_]
    keep = _kept(args.keep or [], list(cells.columns), names, data)
    roles = [c for c in (target, options.get("groups"), options.get("sample_weight")) if c]
    roles += list(options.get("drop", ()))  # left out by the run (--drop): no note either
    used = [c.name for c in columns]
    others = [n for n in cells.columns if n not in used]  # not features: never refused
    X = conform_table(
        cells,
        columns,
        data,
        options.get("na_values", ()),
        ignore=others,
        lines=table.lines.tolist(),
    )
    if plain:
        if X.isna().to_numpy().any():
            raise DataError(
                f"{data} has missing cells, but the model was trained on complete numeric data"
            )
        X = X.to_numpy(dtype=np.float64)
    if args.proba:
        proba = _applied(model.predict_proba, X, args.model)
        out = pd.DataFrame(proba, columns=names[1:])
        predicted = model.classes_[np.argmax(proba, axis=1)]
        out.insert(0, names[0], predicted)
    else:
        predicted = _applied(model.predict, X, args.model)
        out = pd.DataFrame({names[0]: predicted})
    for position, name in enumerate(keep):
        out.insert(position, name, cells[name].to_numpy())
    # Said once the rows are predicted, so that a refusal stays the command's only line; in
    # the words of model.py (python export), which says the same.
    notes = [unused_columns_note(list(cells.columns), [*used, *roles, *keep])]
    levels = {c.name: list(c.levels) for c in columns if c.kind == CATEGORICAL}
    notes += unseen_levels(X, levels, {}, ()) if levels else []
    for line in notes:
        if line:
            print(line, file=sys.stderr)
    if args.out is None:
        # A reader that stops early (`| head`) ends the command quietly (cli.main).
        out.to_csv(sys.stdout, index=False)
        sys.stdout.flush()
    else:
        try:
            out.to_csv(args.out, index=False)
        except OSError as exc:  # a missing folder, no permission, a full disk
            raise SettingsError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    note = _score_note(model, X, cells, target, info, predicted)
    where = f" -> {args.out}" if args.out is not None else ""
    message = f"predicted {len(out)} rows of {data}{where}" + (f"; {note}" if note else "")
    print(message, file=sys.stderr if args.out is None else sys.stdout)
    return 0


def _kept(keep: list[str], header: list[str], names: list[str], data: str) -> list[str]:
    """The columns ``--keep`` names (each once), refused in one line where the table has no
    such column or the predictions have a column of that name."""
    from evosearch.deploy._python_runtime import quoted

    keep = list(dict.fromkeys(keep))
    absent = [name for name in keep if name not in header]
    if absent:
        raise DataError(
            f"--keep names no column {quoted(absent)} of {data} (columns: {quoted(header)})"
        )
    clash = [name for name in keep if name in names]
    if clash:
        raise SettingsError(f"--keep column {quoted(clash)} has the name of a prediction column")
    return keep


def _applied(method: Any, X: Any, folder: Any) -> Any:
    """``method(X)``. The table was checked against model.json, so a failure here is the
    model's files disagreeing (say, weights.npz of another export): one line, not a traceback."""
    try:
        return method(X)
    except (ValueError, IndexError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SettingsError(f"the model in {folder} cannot predict (damaged?): {reason}") from None


def _score_note(
    model: Any, X: Any, cells: Any, target: str | None, info: dict[str, Any], predicted: Any
) -> str | None:
    """The score on the rows whose target the table holds, if it holds the target column."""
    import numpy as np

    from evosearch.data.table import MISSING_TEXT

    if not target or target not in cells.columns:
        return None
    truth = cells[target].astype(str).to_numpy()
    known = np.array([t.lower() not in MISSING_TEXT for t in truth])
    if not known.any():
        return None
    weighted = _scored_note(model, X, cells, target, info, truth, known)
    if weighted is not None:
        return weighted
    if info.get("task") == "classification":
        labels = np.array([str(p) for p in predicted])
        accuracy = float(np.mean(labels[known] == truth[known]))
        return f"accuracy {accuracy:.4f} on the {int(known.sum())} rows with a known '{target}'"
    from sklearn.metrics import r2_score

    r2 = r2_score(truth[known].astype(float), np.asarray(predicted, float)[known])
    return f"R² {r2:.4f} on the {int(known.sum())} rows with a known '{target}'"


def _scored_note(
    model: Any, X: Any, cells: Any, target: str, info: dict[str, Any], truth: Any, known: Any
) -> str | None:
    """The note with the run's scoring and sample weights, where the run had either; None
    where it had neither or they cannot score these rows (e.g. a label the model never saw)."""
    import numpy as np
    import pandas as pd

    from evosearch.evaluation import fold_score
    from evosearch.objectives import scoring_label

    scoring, task = info.get("scoring"), str(info.get("task"))
    column = (info.get("options") or {}).get("sample_weight")
    weights = None
    if column and column in cells.columns:
        values = pd.to_numeric(cells[column], errors="coerce").to_numpy(dtype=np.float64)[known]
        weights = values if np.isfinite(values).all() and (values >= 0).all() else None
    if scoring is None and weights is None:
        return None
    rows = np.flatnonzero(known)
    if task == "classification":
        lookup = {str(c): c for c in model.classes_}
        if not all(t in lookup for t in truth[rows]):
            return None
        y = np.asarray([lookup[t] for t in truth[rows]])
    else:
        y = truth[rows].astype(np.float64)
    part = X.iloc[rows] if hasattr(X, "iloc") else X[rows]
    try:
        value = fold_score(model, part, y, scoring, weights)
    except ValueError:
        return None
    how = f" (weighted by '{column}')" if weights is not None else ""
    label = scoring_label(task, scoring)
    return f"{label} {value:.4f}{how} on the {rows.size} rows with a known '{target}'"
