"""ONNX input dtypes: float32 inputs by default (what most runtimes feed), float64 on request.

Each table is exported both ways and fed the declared type; predictions are compared with the
joblib export of the same fitted pipeline:

* float64: preprocessing as scikit-learn's to the last bit, so probabilities within 1e-5
  (the float32 network under onnxruntime) and classes equal;
* float32: probabilities within ``PROBA_TOL`` (2e-5) and regression outputs within
  ``REGRESSION_RTOL`` (1e-4 relative, against the target's spread); labels equal except on rows
  whose two best probabilities are within ``PROBA_TOL`` of each other (none in these tables).
  One case is coarse on purpose: a column around 100,000 that varies by 400, fed as float32
  (1/128 steps there) to the quantile scaler, whose quantiles lie closer than that resolves:
  within 10 x ``PROBA_TOL``, and model.json names the column (``onnx.float32_coarse``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.pipeline import Pipeline

pytest.importorskip("onnxruntime")

import onnx
import onnxruntime as ort

from evosearch.data import check_dataset
from evosearch.deploy import get_format, read_model, write_model
from evosearch.errors import SettingsError
from evosearch.nn import GraphNetClassifier, GraphNetRegressor
from evosearch.preprocess import DataProfile, build_preprocessor, make_scaler
from evosearch.testing._tables import mixed_table

PROBA_TOL = 2e-5
BIG_QUANTILE = ("numeric", "quantile", "float32")
REGRESSION_RTOL = 1e-4
FIT: dict[str, Any] = {"max_epochs": 3, "random_state": 0, "learning_rate": 0.01}
MLP = {
    "layers": [{"id": 2, "units": 16, "activation": "tanh"}, {"id": 3, "units": 8}],
    "edges": [[0, 2], [2, 3], [3, 1], [0, 3]],
}
CNN = {
    "input_shape": [8, 8, 1],
    "layers": [
        {"id": 2, "kind": "conv2d", "filters": 4, "kernel": 3, "activation": "relu"},
        {"id": 3, "kind": "pool", "mode": "max"},
        {"id": 4, "units": 8, "activation": "tanh"},
    ],
    "edges": [[0, 2], [2, 3], [3, 4], [4, 1]],
}


def _table(kind: str) -> tuple[Any, Any, str]:
    """Rows, target and task of each table."""
    import pandas as pd

    rng = np.random.default_rng(1)
    if kind == "mixed":  # text columns, blank cells, a level never seen in the new rows
        table, label = mixed_table(120)
        return table, label, "classification"
    n = 150
    if kind == "numeric":  # a large-magnitude column beside ordinary ones
        table = pd.DataFrame({"a": rng.normal(0, 1, n), "b": rng.normal(50, 10, n),
                              "big": 1e5 + rng.normal(0, 400, n)})  # fmt: skip
        return (
            table,
            pd.Series(np.where(table["a"] + table["b"] / 10 > 5, "y", "n")),
            ("classification"),
        )
    if kind == "dates":  # dates with times, a missing one, around 2024
        when = pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(0, 400 * 86400, n), "s")
        table = pd.DataFrame({"when": pd.Series(when), "x": rng.normal(0, 1, n)})
        table.loc[5, "when"] = pd.NaT
        hour = table["when"].dt.hour.fillna(0)
        return (
            table,
            pd.Series(np.where(hour + 3 * table["x"] > 12, "pm", "am")),
            ("classification"),
        )
    # regression on a target around 35,000 (the network learns it standardised)
    table = pd.DataFrame({"a": rng.normal(0, 1, n), "b": rng.normal(7, 3, n)})
    table.loc[3, "a"] = np.nan
    return table, 35000 + 900 * table["b"] + rng.normal(0, 50, n), "regression"


def _fitted(kind: str, scale: str) -> tuple[Any, Any, str]:
    X, y, task = _table(kind)
    dataset = check_dataset(X, y, task=task)
    prep = build_preprocessor(DataProfile.of(dataset), {"impute": "median_indicator",
                                                        "scale": scale})  # fmt: skip
    net = (
        GraphNetClassifier(MLP, **FIT)
        if task == "classification"
        else GraphNetRegressor(MLP, **FIT)
    )
    model = Pipeline([("prep", prep), ("net", net)]).fit(dataset.X, dataset.y)
    return model, dataset.X, task


def _export(model: Any, folder: Path, task: str, dtype: str) -> tuple[Any, dict[str, Any]]:
    folder.mkdir(parents=True)
    write_model(model, folder, {"task": task}, get_format("onnx").configure({"input_dtype": dtype}))
    return read_model(folder)


def _compare(joblib_model: Any, loaded: Any, X: Any, dtype: str, coarse: bool = False) -> None:
    if hasattr(joblib_model, "classes_"):
        expected = joblib_model.predict_proba(X)
        got = loaded.predict_proba(X)
        tol = 1e-5 if dtype == "float64" else PROBA_TOL
        np.testing.assert_allclose(got, expected, atol=tol * (10 if coarse else 1))
        top2 = np.sort(expected, axis=1)[:, -2:]
        clear = top2[:, 1] - top2[:, 0] > tol
        assert list(loaded.predict(X)[clear]) == list(joblib_model.predict(X)[clear])
    else:
        expected = joblib_model.predict(X)
        spread = float(np.std(expected)) or 1.0
        tol = 1e-5 if dtype == "float64" else REGRESSION_RTOL
        np.testing.assert_allclose(loaded.predict(X), expected, atol=tol * spread)


def _declared(folder: Path) -> set[int]:
    graph = onnx.load(folder / "model.onnx").graph
    return {i.type.tensor_type.elem_type for i in graph.input} - {onnx.TensorProto.STRING}


@pytest.mark.parametrize(
    ("kind", "scale"),
    [("numeric", "standard"), ("numeric", "quantile"), ("mixed", "quantile"), ("dates", "robust"),
     ("dates", "quantile"), ("regression", "standard")],
)  # fmt: skip
def test_both_dtypes_predict_as_the_joblib_export(kind: str, scale: str, tmp_path: Path) -> None:
    model, X, task = _fitted(kind, scale)
    (tmp_path / "joblib").mkdir()
    write_model(model, tmp_path / "joblib", {"task": task}, "joblib")
    joblib_model, _ = read_model(tmp_path / "joblib")
    for dtype, elem in (("float32", onnx.TensorProto.FLOAT), ("float64", onnx.TensorProto.DOUBLE)):
        loaded, info = _export(model, tmp_path / dtype, task, dtype)
        assert info["onnx"]["input_dtype"] == dtype
        assert _declared(tmp_path / dtype) == {elem}
        _compare(joblib_model, loaded, X, dtype, (kind, scale, dtype) == BIG_QUANTILE)
        # Only the column around 100,000 that varies by 400, through the quantile scaler,
        # is coarse in float32 (model.json names it, a plain matrix's by index; float64: none).
        coarse = info["onnx"].get("float32_coarse", {})
        assert list(coarse) == (["2"] if (kind, scale, dtype) == BIG_QUANTILE else [])


def test_a_float32_date_input_counts_seconds_from_a_day_near_the_dates(tmp_path: Path) -> None:
    model, X, task = _fitted("dates", "standard")
    _, info = _export(model, tmp_path / "f32", task, "float32")
    (when,) = [i for i in info["onnx"]["inputs"] if i["kind"] == "date"]
    assert "2024-03-01" <= when["origin"] <= "2025-04-05"
    _, info64 = _export(model, tmp_path / "f64", task, "float64")
    assert [i["origin"] for i in info64["onnx"]["inputs"] if i["kind"] == "date"] == ["1970-01-01"]
    # Fed by hand, as another runtime would: float32 seconds since the origin.
    session = ort.InferenceSession(str(tmp_path / "f32" / "model.onnx"))
    origin = np.datetime64(when["origin"], "s")
    seconds = (X["when"].to_numpy("datetime64[s]") - origin).astype("float64")
    seconds[X["when"].isna().to_numpy()] = np.nan
    feeds = {"when": seconds.astype(np.float32).reshape(-1, 1),
             "x": X["x"].to_numpy(np.float32).reshape(-1, 1)}  # fmt: skip
    proba = session.run(["probabilities"], feeds)[0]
    np.testing.assert_allclose(proba, model.predict_proba(X), atol=PROBA_TOL)


def test_digits_images_through_a_cnn_in_both_dtypes(tmp_path: Path) -> None:
    X, y = load_digits(return_X_y=True)
    X, y = X[:300], y[:300]
    model = Pipeline([("scale", make_scaler("standard")), ("net", GraphNetClassifier(CNN, **FIT))])
    model.fit(X, y)
    for dtype in ("float32", "float64"):
        loaded, _ = _export(model, tmp_path / dtype, "classification", dtype)
        _compare(model, loaded, X, dtype)
        assert list(loaded.predict(X.reshape(-1, 8, 8))) == list(loaded.predict(X))
        session = ort.InferenceSession(str(tmp_path / dtype / "model.onnx"))
        session.run(None, {"X": X.astype(dtype)})  # the declared type is taken as it is


def test_an_unknown_dtype_or_a_dtype_for_another_format_is_refused_in_one_line() -> None:
    with pytest.raises(SettingsError, match=r"^input_dtype 'float16': choose from float32, "):
        get_format("onnx").configure({"input_dtype": "float16"})
    with pytest.raises(SettingsError, match=r"^the joblib format takes no --input-dtype option$"):
        get_format("joblib").configure({"input_dtype": "float64"})
    assert get_format("joblib").configure({"input_dtype": None}).name == "joblib"


def test_the_preprocessing_graph_is_vectorised_over_columns(tmp_path: Path) -> None:
    # Twenty columns (12 numbers, 6 texts, 2 booleans) cost a few dozen nodes, not a chain of
    # nodes per column; the file is the weights plus about 2.6 KB.
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = {f"n{j}": rng.normal(j, 1, 200) for j in range(12)}
    frame |= {f"t{j}": rng.choice(["a", "b", "c", None], 200) for j in range(6)}
    frame |= {f"f{j}": rng.random(200) < 0.5 for j in range(2)}
    table = pd.DataFrame(frame)
    dataset = check_dataset(table, pd.Series(np.where(table["n0"] > 0, "y", "n")))
    prep = build_preprocessor(DataProfile.of(dataset), {"encode": "onehot"})
    model = Pipeline([("prep", prep), ("net", GraphNetClassifier(MLP, **FIT))])
    model.fit(dataset.X, dataset.y)
    loaded, info = _export(model, tmp_path / "f32", "classification", "float32")
    nodes = onnx.load(tmp_path / "f32" / "model.onnx").graph.node
    assert len(nodes) < 30
    assert sum(n.op_type == "LabelEncoder" for n in nodes) == 1
    _compare(model, loaded, dataset.X, "float32")
    assert info["onnx"]["bytes"] < len(model[-1].payload()) + 3000


def test_date_origins_given_in_the_info_are_used(tmp_path: Path) -> None:
    # Graphs sharing their inputs (an ensemble's members) count a date from the same day.
    model, X, task = _fitted("dates", "quantile")
    info = {"task": task, "date_origins": {"when": "2024-06-01"}}
    (tmp_path / "m").mkdir()
    written = write_model(model, tmp_path / "m", info, "onnx")
    (when,) = [i for i in written["onnx"]["inputs"] if i["kind"] == "date"]
    assert when["origin"] == "2024-06-01"
    _compare(model, read_model(tmp_path / "m")[0], X, "float32")


def test_an_ensembles_members_count_a_shared_date_input_from_one_origin(tmp_path: Path) -> None:
    from evosearch.deploy.ensemble import WeightedEnsemble

    # Mean and median imputation learn different centres: different origins alone.
    members = []
    X, y, task = _table("dates")
    dataset = check_dataset(X, y, task=task)
    for impute in ("mean", "median"):
        genes = {"impute": impute, "scale": "standard"}
        prep = build_preprocessor(DataProfile.of(dataset), genes)
        model = Pipeline([("prep", prep), ("net", GraphNetClassifier(MLP, **FIT))])
        members.append(model.fit(dataset.X, dataset.y))
    ensemble = WeightedEnsemble(members, [0.5, 0.5])
    (tmp_path / "e").mkdir()
    info = write_model(ensemble, tmp_path / "e", {"task": task}, "onnx")
    assert "date_origins" not in info
    loaded, _ = read_model(tmp_path / "e")
    np.testing.assert_allclose(loaded.predict_proba(X), ensemble.predict_proba(X), atol=PROBA_TOL)
