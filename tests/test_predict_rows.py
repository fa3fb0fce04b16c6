"""New rows as users have them, through `evosearch predict` and `python model.py`: an ID column
kept next to the predictions (--keep), columns the model does not use ignored with a note,
categorical levels no training row had counted in a warning, bad cells named by their line in
the file, and a quiet end when the reader of the predictions goes away (`| head`).

`evosearch predict` and the python export's own command line say the same lines."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from clitools import Result, assert_clean, assert_usage_error, evosearch, evosearch_reader_leaves
from evosearch.cli.main import main
from evosearch.data import Column, check_dataset, conform_table
from evosearch.deploy import write_model
from evosearch.errors import DataError
from evosearch.nn import GraphNetClassifier
from evosearch.testing._tables import fitted_table_model, mixed_table
from evosearch.testing._tiny import iris

GENES = {"impute": "mean", "encode": "onehot", "scale": "standard"}
NOTE = "note: column 'remark' is not used by the model; ignored"
WARNING = (
    "warning: column 'color': 3 rows with levels not seen in training ('mauve', 'teal'); "
    "treated as unknown"
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A table classifier exported as joblib and python, and new rows for it (new.csv: an ID
    first, a remark the model does not use, two unseen levels in three rows and the rare
    level 'violet', which training saw)."""
    root = tmp_path_factory.mktemp("predict")
    X, y = mixed_table(80)
    model, info = fitted_table_model(check_dataset(X, y, n_splits=3), GENES)
    for name in ("joblib", "python"):
        (root / name).mkdir()
        write_model(model, root / name, info, name)
    new = X.iloc[:12].assign(label=y.iloc[:12]).reset_index(drop=True)
    new.loc[[1, 4, 7, 2], "color"] = ["mauve", "teal", "mauve", "violet"]
    new.insert(0, "id", [f"r{i:02d}" for i in range(12)])
    new["remark"] = "ok"
    new.to_csv(root / "new.csv", index=False)
    # What the model predicts for these rows, computed here.
    columns = [Column.from_json(c) for c in info["columns"]]
    conformed = conform_table(new, columns, "new", ignore=["id", "label", "remark"])
    pd.DataFrame({"label": model.predict(conformed)}).to_csv(root / "expected.csv", index=False)
    return root


def model_py(folder: Path, *args: str) -> Result:
    """`python model.py ARGS` in its own process."""
    done = subprocess.run(
        [sys.executable, str(folder / "python" / "model.py"), *args],
        cwd=folder, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def predict(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    """`evosearch predict ARGS` in FOLDER, in this process (the real command's code, without
    the second or so of a new process's imports)."""

    def run(folder: Path, *args: str) -> Result:
        monkeypatch.chdir(folder)
        status = main(["predict", *args])
        out, err = capsys.readouterr()
        return Result(status, out, err)

    return run


def test_the_real_command_keeps_ids_notes_extra_columns_and_warns_of_new_levels(folder) -> None:
    """Through the real `evosearch predict` and `python model.py`: the same rows, lines."""
    expected = pd.read_csv(folder / "expected.csv")
    command = evosearch("predict", "joblib", "new.csv", "--keep", "id", cwd=folder)
    by_file = model_py(folder, "new.csv", "--keep", "id")
    for result in (command, by_file):
        assert result.returncode == 0, result.stderr
        assert_clean(result)
        got = pd.read_csv(io.StringIO(result.stdout))
        assert list(got.columns) == ["id", "label"]
        assert list(got["id"]) == [f"r{i:02d}" for i in range(12)]
        assert list(got["label"]) == list(expected["label"])
    # 'violet' is rare but was seen in training: no warning names it.
    assert by_file.stderr.splitlines() == [NOTE, WARNING]
    assert command.stderr.splitlines()[:2] == [NOTE, WARNING]
    assert command.stderr.splitlines()[2].startswith("predicted 12 rows of new.csv; accuracy")
    assert len(command.stderr.splitlines()) == 3


@pytest.mark.parametrize("export", ["joblib", "python"])
def test_keep_takes_feature_columns_and_several_names(folder, predict, export) -> None:
    done = predict(folder, export, "new.csv", "--keep", "id,color", "--proba")
    assert done.returncode == 0, done.stderr
    got = pd.read_csv(io.StringIO(done.stdout))
    assert list(got.columns) == ["id", "color", "label", "proba_no", "proba_yes"]
    assert got["color"].iloc[1] == "mauve"
    # 'color' is kept, and used: the note still names 'remark' alone.
    assert done.stderr.splitlines()[:2] == [NOTE, WARNING]
    again = model_py(folder, "new.csv", "--keep=id,color", "--proba")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0] == "id,color,label,proba_no,proba_yes"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--keep", "ID"), ["--keep names no column 'ID'", "columns: 'id', 'size'"]),
        (("--keep", "id,label"), ["--keep column 'label'", "name of a prediction column"]),
    ],
)
def test_a_bad_keep_is_refused_in_one_line(folder, predict, args, words) -> None:
    done = predict(folder, "joblib", "new.csv", *args)
    assert_usage_error(done, *words)
    assert done.stdout == ""
    by_file = model_py(folder, "new.csv", *args)
    assert by_file.returncode == 2 and by_file.stdout == ""
    assert len(by_file.stderr.splitlines()) == 1
    assert all(word in by_file.stderr for word in words), by_file.stderr


def test_a_missing_column_is_the_only_line_even_with_extra_columns(folder, predict) -> None:
    table = pd.read_csv(folder / "new.csv").drop(columns=["size"])
    table.to_csv(folder / "no_size.csv", index=False)
    done = predict(folder, "joblib", "no_size.csv")
    line = assert_usage_error(done, "missing column 'size'")
    assert "remark" not in line and done.stdout == ""
    by_file = model_py(folder, "no_size.csv")
    assert by_file.returncode == 2 and by_file.stderr.count("\n") == 1
    assert "no column 'size'" in by_file.stderr


def test_bad_cells_are_named_by_their_line_in_the_file(folder, predict) -> None:
    table = pd.read_csv(folder / "new.csv", dtype=str, keep_default_na=False)
    table.loc[3, "size"] = "heavy"
    header, *rows = table.to_csv(index=False).splitlines()
    # A blank line after the header: the fourth data row is the file's line 6.
    (folder / "bad.csv").write_text("\n".join([header, "", *rows]) + "\n")
    for export in ("joblib", "python"):
        done = predict(folder, export, "bad.csv")
        assert_usage_error(done, "numeric column 'size'", "(line 6: 'heavy')")
    by_file = model_py(folder, "bad.csv")
    assert by_file.returncode == 2
    assert by_file.stderr == "bad.csv: line 6 of numeric column 'size' holds 'heavy'\n"
    # A table in memory has no lines: its rows are counted from 0.
    columns = [Column("size", "numeric")]
    with pytest.raises(DataError, match=r"\(row 1: 'heavy'\)"):
        conform_table(pd.DataFrame({"size": ["1", "heavy"]}), columns, "X")


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A classifier of four numeric features (a matrix model), both exports, and rows with an
    ID and a column it does not use."""
    root = tmp_path_factory.mktemp("plain")
    X, y = iris()
    arch = {"layers": [{"id": 2, "units": 4, "activation": "tanh"}], "edges": [[0, 2], [2, 1]]}
    model = Pipeline([("net", GraphNetClassifier(arch, max_epochs=2, random_state=0))]).fit(X, y)
    info = {"task": "classification", "features": ["a", "b", "c", "d"], "target": "t",
            "columns": None}  # fmt: skip
    for name in ("joblib", "python"):
        (root / name).mkdir()
        write_model(model, root / name, info, name)
    table = pd.DataFrame(X[:5], columns=["a", "b", "c", "d"])
    table.insert(0, "id", range(5))
    table.assign(t=y[:5], extra="x").to_csv(root / "rows.csv", index=False)
    return root


def test_a_matrix_model_notes_extra_columns_too(plain, predict) -> None:
    note = "note: columns 'id', 'extra' are not used by the model; ignored"
    for export in ("joblib", "python"):
        done = predict(plain, export, "rows.csv")
        assert done.returncode == 0, done.stderr
        assert done.stderr.splitlines()[0] == note
    by_file = model_py(plain, "rows.csv", "--keep", "id")
    assert by_file.returncode == 0, by_file.stderr
    assert by_file.stderr.splitlines() == ["note: column 'extra' is not used by the model; ignored"]
    assert by_file.stdout.splitlines()[0] == "id,t"


def _big(folder: Path) -> str:
    rows = pd.read_csv(folder / "new.csv").drop(columns=["id", "remark"])
    rows = rows[~rows["color"].isin(["mauve", "teal"])]
    pd.concat([rows] * 3000).to_csv(folder / "big.csv", index=False)
    return "big.csv"


def test_model_py_ends_quietly_when_its_reader_goes_away(folder) -> None:
    big = _big(folder)
    process = subprocess.Popen(
        [sys.executable, str(folder / "python" / "model.py"), big],
        cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline() == "label\n"  # `| head -1`
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 1  # as the evosearch command ends on a closed pipe
    assert stderr == "", stderr


@pytest.mark.slow  # a process of its own, ~2 s of imports
def test_evosearch_predict_ends_quietly_when_its_reader_goes_away(folder) -> None:
    closed = evosearch_reader_leaves("predict", "joblib", _big(folder), cwd=folder, lines=1)
    assert closed.stdout == "label\n"
    assert closed.returncode == 1
    assert closed.stderr == "", closed.stderr


def test_model_py_reads_other_separators_and_decimal_commas(folder) -> None:
    """A ';' file with decimal commas and a tab-separated one, as `evosearch predict` reads
    them: sniffed, or said with --sep / --decimal."""
    new = pd.read_csv(folder / "new.csv")
    assert any("." in str(v) for v in new["size"])  # numbers with fractions to be read
    new.to_csv(folder / "semicolon.csv", sep=";", decimal=",", index=False)
    new.to_csv(folder / "tabs.tsv", sep="\t", index=False)
    expected = list(pd.read_csv(folder / "expected.csv")["label"])
    for args in (
        ("semicolon.csv",),
        ("semicolon.csv", "--sep", ";", "--decimal", ","),
        ("tabs.tsv",),
        ("tabs.tsv", "--sep=tab"),
    ):
        done = model_py(folder, *args)
        assert done.returncode == 0, (args, done.stderr)
        assert list(pd.read_csv(io.StringIO(done.stdout))["label"]) == expected, args
    # A mark said wrongly is a bad cell, named by its line, not a wrong prediction.
    wrong = model_py(folder, "semicolon.csv", "--decimal", ".")
    assert wrong.returncode == 2 and "line 2 of numeric column" in wrong.stderr
    assert model_py(folder, "semicolon.csv", "--sep", ";;").returncode == 2  # usage
