"""Columns as tables bring them (issue 32, part 2): date and datetime columns expanded into
calendar features in every export format, ``--drop``, the row-ID warning, and the data options
of the Evolver (``categorical=``, ``numeric=``, ``drop=``, ``na_values=``)."""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from evosearch import Evolver
from evosearch.cli._output import data_notes
from evosearch.cli.main import main
from evosearch.data import DATE, Column, check_dataset, conform_table, load_dataset
from evosearch.data.dates import series_seconds
from evosearch.deploy import read_model, write_model
from evosearch.deploy._python_dates import date_seconds
from evosearch.errors import DataError, SettingsError
from evosearch.preprocess import DataProfile, build_preprocessor, date_features, encoded_width
from evosearch.search import check_settings
from evosearch.testing._tables import fitted_table_model
from evosearch.testing._tiny import TINY_TOML

FORMATS = ("joblib", "python", "onnx")


def date_table(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """A table whose class depends on the day of the week: an ID, an ISO date (one cell
    missing), a datetime with hours, a number and the label."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2019-12-20", periods=n, freq="D")
    when = days + pd.to_timedelta(rng.integers(0, 24, n), unit="h")
    x = rng.normal(size=n)
    label = np.where((days.day_of_week >= 5) | (x > 1.0), "hi", "lo")
    table = pd.DataFrame({
        "id": np.arange(1, n + 1), "day": days.strftime("%Y-%m-%d"),
        "when": when.strftime("%Y-%m-%d %H:%M"), "x": x, "label": label,
    })  # fmt: skip
    table.loc[3, "day"] = ""
    return table


def write_csv(text: str, path: Path) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


# ---- the calendar -------------------------------------------------------------------------


def test_date_features_are_the_calendar_pandas_knows() -> None:
    rng = np.random.default_rng(1)
    stamps = pd.DatetimeIndex(
        pd.to_datetime(rng.integers(-6_000_000_000, 9_000_000_000, 20_000), unit="s").append(
            pd.to_datetime(["1600-02-29 23:59:59", "1900-03-01 00:00:00", "1970-01-01 00:00:00"])
        )
    )
    seconds, bad = series_seconds(pd.Series(stamps))
    assert not bad.any()
    features = date_features(seconds[:, None], [True])
    expected = [stamps.year, stamps.month, stamps.day_of_week, stamps.day_of_year, stamps.hour]
    for j, values in enumerate(expected):
        np.testing.assert_array_equal(features[:, j], np.asarray(values, dtype=np.float64))
    np.testing.assert_allclose(features[:, 5], seconds / 86400.0)
    # A missing date gives missing features (imputed after), no hour without times.
    assert np.isnan(date_features(np.array([[np.nan]]), [False])).all()
    assert date_features(np.zeros((2, 1)), [False]).shape == (2, 5)


def test_the_python_exports_reading_computes_the_same_seconds() -> None:
    cells = {
        "d": ["2021-03-04 13:05:06.250000", "  2021-03-04 00:00:00.5 ", None, "", float("nan")],
        "e": [
            datetime.datetime(2021, 3, 4, 13, 5, tzinfo=datetime.timezone.utc),
            datetime.date(1969, 12, 31),
            np.datetime64("2000-02-29T23:59:59"),
            pd.Timestamp("2024-12-31 06:00"),
            86400.5,
        ],
    }
    got = date_seconds(cells, ["d", "e"], ["%Y-%m-%d %H:%M:%S.%f", ""], ())
    d = series_seconds(pd.Series(["2021-03-04 13:05:06.250000", "2021-03-04 00:00:00.5"]),
                       "%Y-%m-%d %H:%M:%S.%f")[0]  # fmt: skip
    np.testing.assert_array_equal(got[:2, 0], d)
    assert np.isnan(got[2:, 0]).all()
    e, bad = series_seconds(pd.Series(cells["e"], dtype=object))
    assert not bad.any()
    np.testing.assert_array_equal(got[:, 1], e)
    with pytest.raises(ValueError, match="row 0 of date column 'd' holds '04/03/2021'"):
        date_seconds({"d": ["04/03/2021"]}, ["d"], ["%Y-%m-%d"], ())


# ---- reading dates ------------------------------------------------------------------------


def test_date_texts_become_date_columns_and_numbers_stay_numbers(tmp_path) -> None:
    rows = [
        f"{2000 + i},2021-{1 + i % 12:02d}-{1 + i:02d},2021-03-{1 + i:02d} {i % 24:02d}:30,"
        f"{1 + i:02d}.03.2021,03/{13 + i % 15}/2021,{i % 2}-{i % 3}-1,{i % 3},{'ab'[i % 2]}"
        for i in range(20)
    ]
    header = "year,iso,stamp,eu,us,code,x,y\n"
    path = write_csv(header + "\n".join(rows) + "\n", tmp_path / "d.csv")
    ds = load_dataset(path)
    kinds = {c.name: (c.kind, c.format, c.times) for c in ds.columns or ()}
    assert kinds == {
        "year": ("numeric", "", False),  # plain integers: a number, whatever it means
        "iso": (DATE, "%Y-%m-%d", False),
        "stamp": (DATE, "%Y-%m-%d %H:%M", True),
        "eu": (DATE, "%d.%m.%Y", False),
        "us": (DATE, "%m/%d/%Y", False),  # a day past 12 tells month first
        "code": ("categorical", "", False),  # no four-digit year: a code, not a date
        "x": ("numeric", "", False),
    }
    assert ds.X["iso"].iloc[0] == pd.Timestamp("2021-01-01").timestamp()
    line = data_notes(ds)[0]
    assert "4 dates (iso, stamp with hours, eu, us) read as year, month, day of week" in line
    # As text levels when declared so; a date column declared numeric is still read as dates.
    assert load_dataset(path, categorical=["iso"]).columns[1].kind == "categorical"
    assert load_dataset(path, numeric=["iso"]).columns[1].kind == DATE


def test_one_date_per_row_is_not_an_id_and_bad_date_columns_are_one_line(tmp_path) -> None:
    dates = "".join(f"2020-01-{1 + i:02d},{'ab'[i % 2]}\n" for i in range(20))
    assert load_dataset(write_csv("d,y\n" + dates, tmp_path / "a.csv")).columns[0].kind == DATE
    bad = {
        "b.csv": ("d,y\n" + dates + "unknown,a\n", ["holds dates and other text", "line 22",
                                                    "--na-values unknown", "--categorical d"]),
        "c.csv": ("d,y\n" + "".join(f"0{1 + i % 9}/0{1 + i % 5}/2020,{'ab'[i % 2]}\n"
                                    for i in range(12)),
                  ["read both day first and month first", "year first", "--categorical d"]),
    }  # fmt: skip
    for name, (text, words) in bad.items():
        with pytest.raises(DataError) as info:
            load_dataset(write_csv(text, tmp_path / name))
        assert "\n" not in str(info.value)
        for word in words:
            assert word in str(info.value), (word, str(info.value))
    assert load_dataset(str(tmp_path / "b.csv"), na_values=["unknown"]).columns[0].n_missing == 1
    assert load_dataset(str(tmp_path / "c.csv"), categorical=["d"]).columns[0].kind != DATE


def test_a_dataframes_datetimes_are_dates() -> None:
    n = 12
    stamps = pd.date_range("2021-01-01 06:00", periods=n, freq="7h")
    frame = pd.DataFrame({
        "naive": stamps, "zoned": stamps.tz_localize("Europe/Paris"),
        "objects": [s.to_pydatetime() for s in stamps], "days": [s.date() for s in stamps],
        "texts": stamps.strftime("%d.%m.%Y"), "x": np.arange(n) % 3,
    })  # fmt: skip
    frame.loc[2, "naive"] = pd.NaT
    ds = check_dataset(frame, np.arange(n) % 2)
    kinds = {c.name: (c.kind, c.times, c.n_missing) for c in ds.columns or ()}
    assert kinds == {
        "naive": (DATE, True, 1), "zoned": (DATE, True, 0), "objects": (DATE, True, 0),
        "days": (DATE, False, 0), "texts": (DATE, False, 0), "x": ("numeric", False, 0),
    }  # fmt: skip
    # The wall-clock time, a zone dropped: every reading of the same stamps agrees.
    for name in ("zoned", "objects"):
        np.testing.assert_array_equal(ds.X[name], ds.X["naive"].fillna(ds.X[name]))
    # New rows read alike, whether texts, datetimes or the table's own seconds.
    columns = list(ds.columns or ())
    texts = frame.astype({"naive": str, "zoned": object}).assign(
        naive=stamps.strftime("%Y-%m-%d %H:%M:%S")
    )
    for new in (frame, texts, ds.X):
        np.testing.assert_array_equal(
            conform_table(new, columns, "new")["objects"], ds.X["objects"]
        )
    with pytest.raises(DataError, match=r"no dates in date column 'texts' of new \(row 1: 'x'\)"):
        conform_table(frame.assign(texts=["01.01.2021", "x"] * 6), columns, "new")


# ---- IDs and --drop ------------------------------------------------------------------------


def test_a_row_number_column_is_named_in_a_warning(tmp_path) -> None:
    text = "id,a,y\n" + "".join(f"{1000 + i},{i % 4},{'pq'[i % 2]}\n" for i in range(12))
    ds = load_dataset(write_csv(text, tmp_path / "t.csv"))
    (warning,) = [line for line in data_notes(ds) if "row ID" in line]
    assert (
        warning.startswith("warning: column 'id' looks like a row ID") and "1000 to 1011" in warning
    )
    assert "--drop id leaves it out" in warning
    assert not [n for n in load_dataset(str(tmp_path / "t.csv"), drop=["id"]).notes if "ID" in n]
    for name in ("digits", "iris", "wine", "breast_cancer", "diabetes"):
        assert not load_dataset(name).notes, name
    assert not check_dataset(np.arange(9.0)[:, None], np.arange(9) % 2).notes  # too few rows
    frame = pd.DataFrame({"n": np.arange(20), "c": ["u", "v"] * 10})
    (python,) = check_dataset(frame, np.arange(20) % 2).notes
    assert "drop=['n'] leaves it out" in python


def test_drop_leaves_columns_out_and_refuses_unknown_names(tmp_path) -> None:
    text = "name,id,a,g,y\n" + "".join(
        f"n{i},{i},{i % 3},{i % 4},{'pq'[i % 2]}\n" for i in range(12)
    )
    path = write_csv(text, tmp_path / "t.csv")
    ds = load_dataset(path, drop=["name", "id"], groups="g")
    assert ds.feature_names == ["a"] and ds.options["drop"] == ["name", "id"]
    for drop, words in (
        (["nope"], "--drop column 'nope' not in"),
        (["y"], "--drop 'y': the target, --groups and --sample-weight columns are not features"),
    ):
        with pytest.raises(DataError, match=words):
            load_dataset(path, drop=drop)
    with pytest.raises(DataError, match="--drop applies to tables"):
        load_dataset("iris", drop=["x"])


# ---- the Evolver's data options -----------------------------------------------------------


def test_the_evolvers_data_options_are_parameters_read_as_the_flags() -> None:
    evolver = Evolver(categorical=["zip"], numeric=("n",), drop="id", na_values=["?"])
    assert clone(evolver).get_params()["drop"] == "id"  # stored as given
    settings = check_settings(evolver.get_params(deep=False))
    assert (settings.categorical, settings.numeric, settings.drop) == (("zip",), ("n",), ("id",))
    with pytest.raises(SettingsError, match="categorical must hold strings"):
        check_settings({"categorical": [1]})
    n = 24
    frame = pd.DataFrame({
        "id": np.arange(n), "name": [f"n{i}" for i in range(n)], "zip": ["1", "2", "3"] * 8,
        "price": [f"{i}.5" if i % 5 else "?" for i in range(n)],
    })  # fmt: skip
    y = np.arange(n) % 2
    messages = {
        "leave it out with drop=['name'] (or keep it with categorical=['name'])": {},
        "name missing-value markers with na_values=['?'], or declare the column "
        "categorical=['price']": {"drop": ["name"], "numeric": ["price"]},
        "('?' among numbers): a column of numbers with text in it; name missing-value markers "
        "with na_values=['?']": {"drop": ["name"]},
        "drop=['nope']: no such column in X": {"drop": ["nope"]},
        "categorical=['nope']: no such feature column": {"categorical": ["nope"]},
        "categorical=['zip'] applies to the columns of a pandas DataFrame": {
            "categorical": ["zip"]
        },
    }
    for words, options in messages.items():
        X = frame[["id"]].to_numpy(dtype=float) if "applies" in words else frame
        with pytest.raises(DataError, match=re.escape(words)):
            check_dataset(X, y, **options)
    ds = check_dataset(frame, y, drop=["name"], na_values=["?"], categorical=["zip"])
    kinds = {c.name: (c.kind, c.n_missing) for c in ds.columns or ()}
    assert kinds == {"id": ("numeric", 0), "zip": ("categorical", 0), "price": ("numeric", 5)}
    assert ds.options == {"na_values": ["?"], "categorical": ["zip"], "drop": ["name"]}


# ---- preprocessing and exports ------------------------------------------------------------


def _date_model(table: pd.DataFrame, genes: dict[str, str]) -> tuple[Any, Any, dict[str, Any]]:
    dataset = load_dataset_frame(table)
    model, info = fitted_table_model(dataset, genes)
    return model, dataset, info


def load_dataset_frame(table: pd.DataFrame) -> Any:
    return check_dataset(table.drop(columns=["label", "id"]), table["label"].to_numpy())


@pytest.mark.parametrize("impute", ["mean", "median_indicator"])
def test_date_features_are_imputed_scaled_and_exported_alike(tmp_path, impute) -> None:
    genes = {"impute": impute, "scale": "quantile" if impute == "mean" else "robust"}
    model, dataset, info = _date_model(date_table(), genes)
    profile = DataProfile.of(dataset)
    transformer = build_preprocessor(profile, genes).fit(dataset.X)
    width = encoded_width(profile, genes)
    assert transformer.transform(dataset.X).shape[1] == width == 1 + 5 + 6
    # New rows as texts (a day missing), predicted by every format as by the pipeline.
    new = date_table(25, seed=1).drop(columns=["label", "id"]).astype(object)
    columns = [Column.from_json(c) for c in info["columns"]]
    conformed = conform_table(new, columns, "new")
    expected = model.predict_proba(conformed)
    for fmt in FORMATS:
        if fmt == "onnx":
            pytest.importorskip("onnxruntime")
        folder = tmp_path / fmt
        folder.mkdir()
        write_model(model, folder, info, fmt)
        loaded = read_model(folder)[0]
        np.testing.assert_allclose(loaded.predict_proba(conformed), expected, atol=1e-5)
        if fmt != "joblib":  # the texts themselves
            np.testing.assert_allclose(loaded.predict_proba(new), expected, atol=1e-5)
    onnx = json.loads((tmp_path / "onnx" / "model.json").read_text())["onnx"]["inputs"]
    # float32 inputs count seconds from an origin near the training dates (model.json says it)
    origin = onnx[0].pop("origin")
    assert onnx[0] == {"name": "day", "kind": "date", "format": "%Y-%m-%d"}
    assert "2019-01-01" <= origin <= "2021-12-31", origin


# ---- the command line ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def date_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dates")
    (folder / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    table = date_table(60)
    table.to_csv(folder / "train.csv", index=False)
    date_table(20, seed=2).to_csv(folder / "new.csv", index=False)
    said = io.StringIO()
    with contextlib.redirect_stdout(said):  # the header, for the test that reads it
        assert main([
            "evolve", "--data", str(folder / "train.csv"), "--genome", str(folder / "tiny.toml"),
            "--population", "2", "--generations", "1", "--cv", "2", "--n-jobs", "1",
            "--out", str(folder / "run"),
        ]) == 0  # fmt: skip
    (folder / "evolve.out").write_text(said.getvalue(), encoding="utf-8")
    return folder


@pytest.mark.slow  # an evolve run and three refits: ~6 s
def test_a_date_table_is_searched_exported_and_predicted_alike_in_every_format(
    date_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    said = (date_run / "evolve.out").read_text(encoding="utf-8")
    assert "2 dates (day, when with hours) read as year, month, day of week" in said
    assert "warning: column 'id' looks like a row ID" in said and "--drop id" in said
    predictions = {}
    for fmt in FORMATS:
        if fmt == "onnx":
            pytest.importorskip("onnxruntime")
        model = str(date_run / f"model-{fmt}")
        assert main(["export", str(date_run / "run"), "--format", fmt, "--out", model]) == 0
        out = date_run / f"{fmt}.csv"
        assert (
            main(["predict", model, str(date_run / "new.csv"), "--proba", "--out", str(out)]) == 0
        )
        predictions[fmt] = pd.read_csv(out)
    for fmt, rows in predictions.items():
        assert list(rows["label"]) == list(predictions["joblib"]["label"]), fmt
        np.testing.assert_allclose(rows.iloc[:, 1:], predictions["joblib"].iloc[:, 1:], atol=1e-5)
    columns = json.loads((date_run / "run" / "run.json").read_text())["dataset"]["columns"]
    assert columns[1] == {"name": "day", "kind": "date", "n_missing": 1, "times": False,
                          "format": "%Y-%m-%d"}  # fmt: skip


@pytest.mark.slow  # two evolve runs, a resume, an export: ~5 s
def test_drop_is_recorded_for_resume_and_predict(
    date_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run, data = str(date_run / "dropped"), str(date_run / "train.csv")
    evolve = ["evolve", "--data", data, "--genome", str(date_run / "tiny.toml"), "--population",
              "2", "--generations", "1", "--cv", "2", "--n-jobs", "1", "--quiet"]  # fmt: skip
    assert main([*evolve, "--drop", "id", "--out", run]) == 0
    info = json.loads((Path(run) / "run.json").read_text())["dataset"]
    assert info["options"] == {"drop": ["id"]} and "id" not in [c["name"] for c in info["columns"]]
    assert main(["resume", run, "--generations", "2", "--quiet"]) == 0
    assert main(["export", run, "--out", f"{run}/model"]) == 0
    capsys.readouterr()
    assert main(["predict", f"{run}/model", str(date_run / "new.csv")]) == 0  # it has 'id'
    done = capsys.readouterr()
    assert "predicted 20 rows" in done.err and "note" not in done.err


def test_the_command_line_refuses_unknown_drops_and_bad_dates_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    date_table(20).to_csv(tmp_path / "t.csv", index=False)
    (tmp_path / "bad.csv").write_text(
        "d,y\n" + "".join(f"2020-01-{1 + i:02d},{'ab'[i % 2]}\n" for i in range(12)) + "?,a\n"
    )
    for data, extra, words in (
        ("t.csv", ["--drop", "id,nope"], "--drop column 'nope' not in"),
        ("bad.csv", [], "holds dates and other text (line 14: '?'): name missing-value markers "
                        "with --na-values '?'"),
    ):  # fmt: skip
        out = tmp_path / "run"
        assert main(["evolve", "--data", str(tmp_path / data), "--out", str(out), *extra]) == 2
        err = capsys.readouterr().err
        assert err.startswith("evosearch: error: ") and err.count("\n") == 1 and words in err
        assert not out.exists()


@pytest.mark.slow  # a fit, a resume and an export from Python: ~5 s alone
def test_an_evolver_with_data_options_fits_resumes_and_exports_a_datetime_frame(tmp_path) -> None:
    from evosearch.testing._tiny import tiny_space

    table = date_table(60)
    frame = table.drop(columns="label").assign(
        when=pd.to_datetime(table["when"]), code=["a", "b", "?"] * 20
    )
    y = table["label"].to_numpy()
    evolver = Evolver(genome=tiny_space(tmp_path), population_size=2, generations=1, cv=2,
                      n_jobs=1, out=tmp_path / "run", categorical=["code"], drop=["id"],
                      na_values=["?"])  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no row-ID warning: 'id' is dropped
        evolver.fit(frame, y)
    kinds = {c.name: (c.kind, c.n_missing) for c in evolver.dataset_.columns or ()}
    assert kinds == {"day": (DATE, 1), "when": (DATE, 0), "x": ("numeric", 0),
                     "code": ("categorical", 20)}  # fmt: skip
    np.testing.assert_array_equal(evolver.predict(frame), evolver.predict(frame.drop(columns="id")))
    resumed = Evolver.resume(tmp_path / "run", X=frame, y=y)
    assert resumed.get_params()["drop"] == ("id",) and resumed.get_params()["na_values"] == ("?",)
    np.testing.assert_array_equal(resumed.predict(frame), evolver.predict(frame))
    info = resumed.export(tmp_path / "model", format="python")
    assert info["options"] == {"na_values": ["?"], "categorical": ["code"], "drop": ["id"]}
    exported = read_model(tmp_path / "model")[0]
    np.testing.assert_array_equal(exported.predict(frame), evolver.predict(frame))
