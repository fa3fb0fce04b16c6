"""Table files as users have them (issue 32, part 3): the separator and decimal mark of CSV text
sniffed or given (--sep, --decimal), TSV, compressed text, Parquet and Excel files, each read to
the dataset (and the run) the plain CSV gives; an existing path is never called an unknown
bundled dataset; every refusal one line."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from clitools import TINY_TOML, assert_usage_error, evosearch, outcome
from evosearch.cli.main import main
from evosearch.data import load_dataset, read_csv_cells
from evosearch.errors import DataError
from evosearch.testing._tables import mixed_table


def _evolve(workdir: Path, data: Path, out: Path, *extra: str, generations: int = 1) -> int:
    """``evosearch evolve`` of a tiny run, in this process (the genome found in ``workdir``)."""
    return main([
        "evolve", "--data", str(data), "--genome", str(workdir / "tiny.toml"), "--population",
        "4", "--n-jobs", "1", "--generations", str(generations), "--quiet", "--out", str(out),
        *extra,
    ])  # fmt: skip


def _iris() -> Any:
    from sklearn.datasets import load_iris

    bunch = load_iris(as_frame=True)
    frame = bunch.frame.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
    frame["target"] = bunch.target_names[bunch.target]
    return frame


def _writers() -> dict[str, Callable[[Any, Path], None]]:
    """How each kind of file is written from a DataFrame (the name gives the file's type)."""
    return {
        "plain.csv": lambda f, p: f.to_csv(p, index=False),
        "european.csv": lambda f, p: f.to_csv(p, index=False, sep=";", decimal=","),
        "tabs.csv": lambda f, p: f.to_csv(p, index=False, sep="\t"),
        "pipes.csv": lambda f, p: f.to_csv(p, index=False, sep="|"),
        "data.tsv": lambda f, p: f.to_csv(p, index=False, sep="\t"),
        "european.tsv": lambda f, p: f.to_csv(p, index=False, sep="\t", decimal=","),
        "data.csv.gz": lambda f, p: f.to_csv(p, index=False),
        "data.csv.zip": lambda f, p: f.to_csv(p, index=False),
        "data.tsv.gz": lambda f, p: f.to_csv(p, index=False, sep="\t"),
        "european.csv.bz2": lambda f, p: f.to_csv(p, index=False, sep=";", decimal=","),
        "data.parquet": lambda f, p: f.to_parquet(p),
        "data.xlsx": lambda f, p: f.to_excel(p, index=False),
    }


NEEDS = {"data.parquet": "pyarrow", "data.xlsx": "openpyxl"}
FILES = [name for name in _writers() if name != "plain.csv"]


def _write(frame: Any, folder: Path, name: str) -> Path:
    if name in NEEDS:
        pytest.importorskip(NEEDS[name])
    path = folder / name
    _writers()[name](frame, path)
    return path


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("table-files")
    (folder / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    _write(_iris(), folder, "plain.csv")
    return folder


# ------------------------------------------------------------------------------------ Python


@pytest.mark.parametrize("name", FILES)
def test_each_file_type_gives_the_plain_csvs_dataset(tmp_path: Path, name: str) -> None:
    frame = _iris()
    plain = load_dataset(str(_write(frame, tmp_path, "plain.csv")))
    ds = load_dataset(str(_write(frame, tmp_path, name)))
    assert ds.fingerprint() == plain.fingerprint()
    np.testing.assert_array_equal(ds.X, plain.X)
    assert ds.y.tolist() == plain.y.tolist()
    assert (ds.feature_names, ds.target_name) == (plain.feature_names, plain.target_name)


@pytest.mark.parametrize("name", ["european.csv", "data.tsv.gz", "data.parquet", "data.xlsx"])
def test_a_mixed_table_reads_alike_from_every_file_type(tmp_path: Path, name: str) -> None:
    X, y = mixed_table(40)
    # Excel keeps 15 significant digits: numbers it holds exactly, as users' tables have.
    frame = X.round(6).assign(label=y)
    plain = load_dataset(str(_write(frame, tmp_path, "plain.csv")), na_values=["?"])
    ds = load_dataset(str(_write(frame, tmp_path, name)), na_values=["?"])
    assert ds.columns == plain.columns and ds.columns is not None
    assert ds.fingerprint() == plain.fingerprint()


def test_the_way_text_was_read_is_recorded_and_said(tmp_path: Path) -> None:
    frame = _iris()
    european = load_dataset(str(_write(frame, tmp_path, "european.csv")))
    assert european.options == {"sep": ";", "decimal": ","}
    assert european.notes == (
        f"read {tmp_path / 'european.csv'} as ';'-separated text with decimal commas "
        "(--sep and --decimal say otherwise)",
    )
    assert load_dataset(str(_write(frame, tmp_path, "tabs.csv"))).options == {"sep": "\t"}
    # The type's own separator and the decimal point are not options: nothing is recorded.
    for name in ("plain.csv", "data.tsv", "data.csv.gz"):
        ds = load_dataset(str(_write(frame, tmp_path, name)))
        assert ds.options == {} and ds.notes == ()
    given = load_dataset(str(tmp_path / "european.csv"), sep=";", decimal=",")
    assert given.options == {"sep": ";", "decimal": ","} and given.notes == ()
    assert given.fingerprint() == european.fingerprint()


def test_sep_and_decimal_given_override_the_sniffing(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    # ',' and '|' both split every line in two: ',' comes first; given, '|' splits "a|b".
    path.write_text("a|b,y\n1|2,p\n3|4,q\n5|6,p\n", encoding="utf-8")
    assert list(read_csv_cells(str(path)).columns) == ["a|b", "y"]
    assert list(read_csv_cells(str(path), sep="|").columns) == ["a", "b,y"]
    # A comma-separated file with quoted decimal commas: read as numbers only when told.
    quoted = tmp_path / "quoted.csv"
    quoted.write_text('a,y\n"1,5",p\n"2,5",q\n"3,0",p\n', encoding="utf-8")
    assert load_dataset(str(quoted), decimal=",").X.ravel().tolist() == [1.5, 2.5, 3.0]
    # Else they are refused, naming --decimal (never silently categories), unless declared so.
    with pytest.raises(DataError, match=r"column 'a' .*'1,5'.*--decimal ','"):
        load_dataset(str(quoted))
    assert load_dataset(str(quoted), categorical=["a"]).X["a"].tolist() == ["1,5", "2,5", "3,0"]
    tabs = tmp_path / "t.tsv"
    tabs.write_text("a;b\ty\n1;2\tp\n3;4\tq\n", encoding="utf-8")
    assert load_dataset(str(tabs)).feature_names == ["a;b"]  # .tsv: tab, never sniffed
    assert load_dataset(str(tabs), sep="tab").feature_names == ["a;b"]


def test_read_csv_cells_sniffs_like_load_dataset(tmp_path: Path) -> None:
    path = _write(_iris().head(3), tmp_path, "european.csv")
    cells = read_csv_cells(str(path))
    assert list(cells.columns)[:2] == ["sepal_length", "sepal_width"]
    assert cells["sepal_length"].tolist() == ["5.1", "4.9", "4.7"]


@pytest.mark.parametrize(
    ("text", "kwargs", "words"),
    [
        ("a;y\n1,5;p\n2.5;q\n", {}, ["column 'a'", "mixes decimal marks", "'1,5'", "'2.5'"]),
        ("a;b;y\n1;2;p\n3;4;5;q\n", {}, ["line 3 has 4 fields, expected 3", "separator ';'"]),
        ("a,b,y\n1,2,p\n", {"sep": "ab"}, ["--sep must be one character", "'ab'"]),
        ("a,b,y\n1,2,p\n", {"decimal": ";"}, ["--decimal must be '.' or ','"]),
        ("y\n1\n2\n", {}, ["no feature columns", "--sep names the separator"]),
    ],
)
def test_bad_text_is_refused_in_one_line(tmp_path: Path, text, kwargs, words) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_dataset(str(path), **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


def test_sep_and_table_options_are_refused_where_they_do_not_apply(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="--sep applies to CSV and TSV text only, not the bundled"):
        load_dataset("iris", sep=";")
    npz = tmp_path / "d.npz"
    np.savez(npz, X=np.eye(4), y=np.array([0, 1, 0, 1]))
    with pytest.raises(DataError, match=r"--na-values applies to tables .* not .*d\.npz"):
        load_dataset(str(npz), na_values=["?"])
    pytest.importorskip("pyarrow")
    parquet = _write(_iris(), tmp_path, "data.parquet")
    with pytest.raises(DataError, match="--decimal applies to CSV and TSV text only"):
        load_dataset(str(parquet), decimal=",")
    # The table options apply to Parquet (and Excel) files as to CSV text.
    ds = load_dataset(str(parquet), target="sepal_length", na_values=["?"])
    assert ds.target_name == "sepal_length" and ds.task == "regression"


@pytest.mark.parametrize(
    ("name", "module", "extra"),
    [("d.parquet", "pyarrow", "parquet"), ("d.xlsx", "openpyxl", "excel")],
)
def test_a_missing_library_is_named_with_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, name, module, extra
) -> None:
    (tmp_path / name).write_bytes(b"not read")
    monkeypatch.setitem(sys.modules, module, None)  # importing it raises ImportError
    with pytest.raises(DataError, match=rf"pip install 'evosearch\[{extra}\]'"):
        load_dataset(str(tmp_path / name))
    assert main(["evolve", "--data", str(tmp_path / name), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"need {module}" in err, err
    assert err.startswith(f"evosearch: error: cannot read {tmp_path / name}: ") and extra in err


def test_existing_paths_are_never_unknown_bundled_datasets(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("cars.foo").write_text("a,y\n1,2\n", encoding="utf-8")
    Path("cars").write_text("a,y\n1,2\n", encoding="utf-8")
    Path("iris").mkdir()  # a bundled name stays the bundled set
    cases = {
        "cars.foo": "cannot read cars.foo: unknown file type '.foo' (evosearch reads .csv, .tsv",
        "cars": "cannot read cars: unknown file type (no suffix)",
        "cars.gz": "data file not found: cars.gz",
        "sub/cars": "data file not found: sub/cars",
        "nosuch": "unknown dataset 'nosuch': expected one of digits, iris",
        "old.xls": "data file not found: old.xls",
    }
    for source, start in cases.items():
        with pytest.raises(DataError) as caught:
            load_dataset(source)
        assert str(caught.value).startswith(start), str(caught.value)
    Path("old.xls").write_bytes(b"")
    with pytest.raises(DataError, match=r"\(\.xls\): save it as \.xlsx or \.csv"):
        load_dataset("old.xls")
    assert load_dataset("iris").name == "iris"


# ------------------------------------------------------------------------------------ CLI


def test_the_command_refuses_unknown_types_and_missing_files_in_one_line(workdir, capsys) -> None:
    (workdir / "cars.foo").write_text("a,y\n1,2\n", encoding="utf-8")
    assert_usage_error(
        evosearch("evolve", "--data", "cars.foo", cwd=workdir),
        "cannot read cars.foo: unknown file type '.foo' (evosearch reads .csv, .tsv",
        ".parquet, .xlsx",
    )
    for args, words in [
        (["--data", str(workdir / "cars.xlsx")], ["data file not found:", "cars.xlsx"]),
        (["--data", "iris", "--sep", ";"], ["--sep applies to CSV and TSV text only"]),
        (["--sep", "::"], ["argument --sep: --sep must be one character"]),
        (["--decimal", "x"], ["argument --decimal: --decimal must be '.' or ','"]),
    ]:
        assert main(["evolve", *args, "--out", str(workdir / "never")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("evosearch: error: ") and err.count("\n") == 1, err
        assert all(word in err for word in words) and "unknown dataset" not in err, err
    assert not (workdir / "never").exists()


@pytest.fixture(scope="module")
def reference(workdir: Path) -> Path:
    """A tiny run on the plain CSV."""
    out = workdir / "plain-run"
    assert _evolve(workdir, workdir / "plain.csv", out) == 0
    return out


# Every type's dataset equals the plain CSV's (fast tests above); a whole run on each is slow.
@pytest.mark.parametrize(
    "name",
    ["european.csv", "data.parquet"]
    + [pytest.param(n, marks=pytest.mark.slow) for n in ("data.tsv", "data.csv.gz",
                                                          "data.csv.zip", "data.xlsx")],
)  # fmt: skip
def test_each_file_type_gives_the_plain_csvs_run(workdir, reference, capsys, name) -> None:
    path = _write(_iris(), workdir, name)
    out = workdir / f"run-{name}"
    assert _evolve(workdir, path, out) == 0
    said = capsys.readouterr().out
    assert ("as ';'-separated text with decimal commas" in said) == (name == "european.csv")
    assert outcome(out) == outcome(reference)
    recorded = json.loads((out / "run.json").read_text())["dataset"]
    expected = json.loads((reference / "run.json").read_text())["dataset"]
    assert recorded["fingerprint"] == expected["fingerprint"]


def test_a_semicolon_run_resumes_exports_and_predicts(workdir: Path, capsys) -> None:
    frame = _iris()
    _write(frame, workdir, "european.csv")
    assert _evolve(workdir, workdir / "european.csv", workdir / "eu") == 0
    dataset = json.loads((workdir / "eu" / "run.json").read_text())["dataset"]
    assert dataset["options"] == {"sep": ";", "decimal": ","}
    # resume reads the file as run.json records (sep, decimal) and extends the run to what
    # the longer run on the plain CSV reaches
    assert main(["resume", str(workdir / "eu"), "--generations", "2", "--quiet"]) == 0
    longer = workdir / "plain-2"
    assert _evolve(workdir, workdir / "plain.csv", longer, generations=2) == 0
    assert outcome(workdir / "eu") == outcome(longer)
    # export refits on the data read the run's way; predict sniffs a new ';' file alike
    assert main(["export", str(workdir / "eu"), "--out", str(workdir / "eu-model")]) == 0
    frame.iloc[::10].to_csv(workdir / "new.csv", index=False, sep=";", decimal=",")
    capsys.readouterr()
    out = workdir / "p.csv"
    assert (
        main(["predict", str(workdir / "eu-model"), str(workdir / "new.csv"), "--out", str(out)])
        == 0
    )
    assert "accuracy" in capsys.readouterr().out
    assert len(out.read_text().splitlines()) == 16


@pytest.mark.parametrize(
    "name", ["data.tsv.gz", pytest.param("data.parquet", marks=pytest.mark.slow)]
)
def test_a_run_on_another_file_type_resumes_exports_and_predicts(workdir, capsys, name) -> None:
    if name.endswith(".parquet"):
        pytest.importorskip("pyarrow")
    frame = _iris()
    path = _write(frame, workdir, name)
    run = workdir / f"other-{name}"
    assert _evolve(workdir, path, run) == 0
    assert json.loads((run / "run.json").read_text())["dataset"]["source"] == str(path.resolve())
    assert main(["resume", str(run), "--generations", "2", "--quiet"]) == 0
    assert main(["export", str(run), "--out", str(workdir / f"model-{name}")]) == 0
    (workdir / "new").mkdir(exist_ok=True)
    new = _write(frame.iloc[::10].reset_index(drop=True), workdir / "new", name)
    capsys.readouterr()
    out = workdir / f"pred-{name}.csv"
    assert main(["predict", str(workdir / f"model-{name}"), str(new), "--out", str(out)]) == 0
    assert "accuracy" in capsys.readouterr().out
    assert len(out.read_text().splitlines()) == 16


def test_sep_and_decimal_options_reach_the_reading(workdir: Path, capsys) -> None:
    path = workdir / "pipes-eu.txt.csv"
    _iris().to_csv(path, index=False, sep="|", decimal=",")
    out = workdir / "pipes-run"
    assert _evolve(workdir, path, out, "--sep", "|", "--decimal", ",") == 0
    assert json.loads((out / "run.json").read_text())["dataset"]["options"] == {
        "sep": "|",
        "decimal": ",",
    }
    # Told '.', the decimal commas are not numbers: one line naming --decimal.
    assert _evolve(workdir, path, workdir / "pipes-run-2", "--decimal", ".") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--decimal ','" in err, err
