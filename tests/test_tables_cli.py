"""Tables on the command line: bad tables refused in one line, export and predict on raw rows."""

from __future__ import annotations

import pytest

from clitools import assert_usage_error, evosearch
from evosearch.cli.main import main
from evosearch.testing._tables import mixed_table

BAD_TABLES = [
    # (CSV text, extra arguments, words of the one-line refusal)
    ("a,b,y\n1,,p\n2,,q\n3,,p\n4,,q\n", [], ["column 'b'", "entirely empty"]),
    (
        "name,a,y\n" + "".join(f"n{i},{i},{'pq'[i % 2]}\n" for i in range(8)),
        [],
        ["'name'", "looks like an ID", "8 distinct values in 8 rows"],
    ),
    ("a,y\n1,p\n2,\n3,p\n4,NA\n", [], ["single class ('p') after dropped 2 rows", "line"]),
    (
        "a,g,y\n" + "".join(f"{i},{i % 2},{'pq'[i % 2]}\n" for i in range(12)),
        ["--groups", "g"],
        ["groups has 2 distinct groups", "fewer than the 3 CV folds"],
    ),
    ("a,b,y\n1,?,p\n2,3,q\n3,4,p\n", [], ["non-numeric", "'b'", "'?'", "--na-values"]),
]


@pytest.mark.parametrize(("text", "extra", "words"), BAD_TABLES)
def test_a_bad_table_is_refused_in_one_line(tmp_path, capsys, text, extra, words) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    status = main(["evolve", "--data", str(path), "--quiet", "--out", str(tmp_path / "r"), *extra])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("evosearch: error: ") and err.count("\n") == 1, err
    for word in words:
        assert word in err, f"{word!r} not in {err!r}"
    assert not (tmp_path / "r").exists()


@pytest.mark.slow  # a process of its own: ~1.5 s of imports
def test_the_real_command_refuses_an_empty_column(tmp_path) -> None:
    (tmp_path / "bad.csv").write_text("a,b,y\n1,,p\n2,,q\n3,,p\n", encoding="utf-8")
    result = evosearch("evolve", "--data", "bad.csv", "--quiet", cwd=tmp_path)
    assert_usage_error(result, "column 'b'", "entirely empty")


def test_na_values_and_column_kinds_are_read_as_told(tmp_path) -> None:
    from evosearch.data import load_dataset

    path = tmp_path / "t.csv"
    path.write_text("a,b,code,y\n1,?,1,p\n2,3,2,q\n3,4,1,p\n4,5,2,q\n", encoding="utf-8")
    ds = load_dataset(str(path), na_values=["?"], categorical=["code"])
    kinds = {c.name: (c.kind, c.n_missing) for c in ds.columns or ()}
    assert kinds == {"a": ("numeric", 0), "b": ("numeric", 1), "code": ("categorical", 0)}
    assert ds.options == {"na_values": ["?"], "categorical": ["code"]}


@pytest.mark.slow
def test_evolve_export_predict_on_a_mixed_table(tmp_path) -> None:
    X, y = mixed_table(90)
    table = X.assign(label=y)
    table.iloc[:70].to_csv(tmp_path / "train.csv", index=False)
    table.iloc[70:].to_csv(tmp_path / "new.csv", index=False)
    run = evosearch(
        "evolve", "--data", "train.csv", "--population", "4", "--generations", "1",
        "--n-jobs", "1", "--out", "run", cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "columns: 2 numeric (size, weight); 2 categorical" in run.stdout
    assert evosearch("export", "run", "--out", "model", cwd=tmp_path).returncode == 0
    done = evosearch("predict", "model", "new.csv", "--out", "p.csv", "--proba", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "accuracy" in done.stdout
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0] == "label,proba_no,proba_yes" and len(lines) == 21
    table.iloc[70:].drop(columns=["size"]).assign(extra=1).to_csv(tmp_path / "bad.csv")
    refused = evosearch("predict", "model", "bad.csv", cwd=tmp_path)
    # A missing column is refused; the extra ones ('' and 'extra') alone would be ignored.
    line = assert_usage_error(refused, "missing column 'size'")
    assert "extra" not in line


def test_the_run_header_hints_at_balanced_accuracy_for_rare_classes() -> None:
    import numpy as np

    from evosearch.cli._output import data_notes
    from evosearch.data import check_dataset

    X, y = mixed_table(60)
    notes = data_notes(check_dataset(X, y))
    assert notes[0].startswith("columns: 2 numeric (size, weight); 2 categorical")
    assert not any("balanced_accuracy" in n for n in notes)
    rare = np.where(np.arange(60) < 5, "rare", "common")
    hint = [n for n in data_notes(check_dataset(X, rare)) if "balanced_accuracy" in n]
    assert len(hint) == 1 and "8.3%" in hint[0]
    # Eleven balanced classes are each under 10 % of the rows (9.1 %): no hint for those.
    labels = np.tile(np.arange(11), 10)
    balanced = check_dataset(labels[::-1, None].astype(float), labels)
    assert not any("balanced_accuracy" in n for n in data_notes(balanced))
    assert not [n for n in data_notes(check_dataset(X, rare), "f1") if "balanced" in n]
