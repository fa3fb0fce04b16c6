"""Contract suite for export formats, parametrised over the format registry.

Use it from a test module (after importing any plug-in that registers a format)::

    from evosearch.testing.export_formats import *  # noqa: F403

For every registered format (skipped, naming the extra, where its libraries are missing): a
tiny trained classifier (plain matrix, and one with a point-mass column and its indicator),
regressor and table model (a date column and a point-mass column included) are
written with :func:`evosearch.deploy.write_model` and read back with
:func:`evosearch.deploy.read_model`;
the loaded predictor gives the estimator's classes, its probabilities within 1e-5 and its
regression outputs within 1e-5 relative, and ``model.json`` names the format, the files it
wrote (all present, with the same permissions as ``model.json``) and the package versions; each
model file cut to half its bytes is refused by :func:`~evosearch.deploy.read_model` with one
line (``evosearch predict``'s exit 2), never a traceback. A bare network (no pipeline) exports
too, a regressor's predictions keeping the shape of its ``y`` (``y_ndim`` in ``model.json``).
A :class:`~evosearch.deploy.WeightedEnsemble` of two such models (``export --ensemble``) is
written and read back predicting as the ensemble does, tables included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from evosearch.data import check_dataset
from evosearch.deploy import EXPORT_FORMATS, WeightedEnsemble, read_model, write_model
from evosearch.errors import SettingsError
from evosearch.nn import GraphNetClassifier, GraphNetRegressor
from evosearch.preprocess import DataProfile, build_preprocessor, make_scaler
from evosearch.testing._tables import mixed_table
from evosearch.testing._tiny import iris

__all__ = [
    "fitted_models",
    "test_format_exports_an_ensemble_that_predicts_as_it_does",
    "test_format_predicts_a_table_as_the_pipeline_does",
    "test_format_predicts_as_the_estimator_does",
    "test_format_records_itself_in_model_json",
    "test_format_refuses_a_damaged_file_in_one_line",
    "test_format_takes_a_bare_network_and_keeps_the_target_shape",
    "test_scikit_learn_scorers_take_the_loaded_model",
]

_ARCH = {
    "layers": [{"id": 2, "units": 8, "activation": "tanh"}, {"id": 3, "units": 4}],
    "edges": [[0, 2], [2, 3], [3, 1], [0, 3]],
}
_FIT: dict[str, Any] = {"max_epochs": 5, "random_state": 0, "learning_rate": 0.01}


@pytest.fixture(scope="module")
def fitted_models() -> dict[str, tuple[Any, Any]]:
    """Tiny fitted pipelines and the rows to predict: a classifier and a two-target regressor
    on iris, and a classifier on a mixed table (missing cells, text, an unseen level, a
    datetime column with a missing cell)."""
    import pandas as pd

    X, y = iris()
    clf = Pipeline([("scale", make_scaler("standard")), ("net", GraphNetClassifier(_ARCH, **_FIT))])
    targets = np.column_stack([X[:, 0] * 10.0, X[:, 1] - 3.0])
    reg = Pipeline([("scale", make_scaler("standard")), ("net", GraphNetRegressor(_ARCH, **_FIT))])
    table, label = mixed_table(60)
    table["when"] = pd.date_range("2023-12-30", periods=60, freq="29h")
    table.loc[7, "when"] = pd.NaT
    # A point mass (0.0 in every third row, 40 other values, one missing cell): its indicator.
    table["rain"] = np.where(np.arange(60) % 3 == 0, 0.0, np.arange(60) / 7.0 + 0.25)
    table.loc[5, "rain"] = np.nan
    dataset = check_dataset(table, label)
    genes = {"impute": "median_indicator", "point_mass": "indicator"}
    prep = build_preprocessor(DataProfile.of(dataset), genes)
    tab = Pipeline([("prep", prep), ("net", GraphNetClassifier(_ARCH, **_FIT))])
    new_rows = dataset.X.copy()
    new_rows.loc[0, "color"] = "purple"  # a level never seen
    rain = np.where(np.arange(len(y)) % 4 == 0, 0.0, np.arange(len(y)) / 10.0 + 0.5)
    X_mass = np.column_stack([X, rain])
    plain = check_dataset(X_mass, y)
    masses = build_preprocessor(DataProfile.of(plain), {"point_mass": "indicator"})
    clf_mass = Pipeline([("prep", masses), ("net", GraphNetClassifier(_ARCH, **_FIT))])
    return {
        "classifier": (clf.fit(X, y), X),
        "point_mass": (clf_mass.fit(X_mass, y), X_mass),
        "regressor": (reg.fit(X, targets), X),
        "table": (tab.fit(dataset.X, dataset.y), new_rows),
    }


def _round_trip(name: str, model: Any, folder: Path, task: str) -> tuple[Any, dict[str, Any]]:
    try:
        EXPORT_FORMATS.get(name).check_available()
    except SettingsError as exc:
        pytest.skip(str(exc))
    folder.mkdir(parents=True, exist_ok=True)
    write_model(model, folder, {"task": task}, name)
    return read_model(folder)


def _check_same(model: Any, loaded: Any, X: Any) -> None:
    expected = model.predict(X)
    got = loaded.predict(X)
    if hasattr(model, "classes_"):
        assert list(loaded.classes_) == list(model.classes_)
        assert list(got) == list(expected)
        np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X), atol=1e-5)
    else:
        assert np.shape(got) == np.shape(expected)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", EXPORT_FORMATS.names())
@pytest.mark.parametrize("which", ["classifier", "regressor", "point_mass"])
def test_format_predicts_as_the_estimator_does(
    name: str, which: str, fitted_models: dict[str, Any], tmp_path: Path
) -> None:
    model, X = fitted_models[which]
    if which != "regressor":  # the point masses became indicator columns
        prep = model[0]
        assert not isinstance(prep, Pipeline) or prep.transform(X).shape[1] == X.shape[1] + 1
    task = "regression" if which == "regressor" else "classification"
    loaded, _ = _round_trip(name, model, tmp_path, task)
    _check_same(model, loaded, X)


@pytest.mark.parametrize("name", EXPORT_FORMATS.names())
def test_format_predicts_a_table_as_the_pipeline_does(
    name: str, fitted_models: dict[str, Any], tmp_path: Path
) -> None:
    model, X = fitted_models["table"]
    loaded, _ = _round_trip(name, model, tmp_path, "classification")
    _check_same(model, loaded, X)


@pytest.mark.parametrize("name", EXPORT_FORMATS.names())
def test_format_records_itself_in_model_json(
    name: str, fitted_models: dict[str, Any], tmp_path: Path
) -> None:
    model, _ = fitted_models["classifier"]
    _, info = _round_trip(name, model, tmp_path, "classification")
    assert info["format"] == name
    assert info["files"] and all((tmp_path / f).is_file() for f in info["files"])
    assert {"python", "numpy", "scikit-learn"} <= set(info["versions"])
    assert set(EXPORT_FORMATS.get(name).packages) <= set(info["versions"])
    # Every file of one export is readable by the same people (the umask's mode).
    modes = {f: (tmp_path / f).stat().st_mode & 0o777 for f in [*info["files"], "model.json"]}
    assert len(set(modes.values())) == 1, modes


@pytest.mark.parametrize("name", EXPORT_FORMATS.names())
def test_format_takes_a_bare_network_and_keeps_the_target_shape(name: str, tmp_path: Path) -> None:
    X, _ = iris()
    for ndim, y in ((1, X[:, 0]), (2, X[:, :2])):
        net = GraphNetRegressor(_ARCH, **_FIT).fit(X, y)
        loaded, info = _round_trip(name, net, tmp_path / str(ndim), "regression")
        assert info["y_ndim"] == ndim
        _check_same(net, loaded, X)


@pytest.mark.parametrize("name", EXPORT_FORMATS.names())
def test_format_refuses_a_damaged_file_in_one_line(
    name: str, fitted_models: dict[str, Any], tmp_path: Path
) -> None:
    model, _ = fitted_models["classifier"]
    _, info = _round_trip(name, model, tmp_path, "classification")
    for file in info["files"]:
        path = tmp_path / file
        whole = path.read_bytes()
        path.write_bytes(whole[: len(whole) // 2])
        with pytest.raises(SettingsError) as refused:
            read_model(tmp_path)
        assert file in str(refused.value) and "\n" not in str(refused.value)
        path.write_bytes(whole)


@pytest.mark.parametrize("name", EXPORT_FORMATS.names())
@pytest.mark.parametrize("which", ["classifier", "regressor"])
def test_scikit_learn_scorers_take_the_loaded_model(
    name: str, which: str, fitted_models: dict[str, Any], tmp_path: Path
) -> None:
    """`evosearch predict` scores with the run's scorer: the loaded model must be a classifier
    or regressor to scikit-learn, scoring as the estimator does."""
    from sklearn.metrics import get_scorer

    model, X = fitted_models[which]
    task = "regression" if which == "regressor" else "classification"
    loaded, _ = _round_trip(name, model, tmp_path, task)
    _, y = iris()
    scorers = ["roc_auc_ovr", "neg_log_loss", "f1_macro"] if which == "classifier" else ["r2"]
    y_true = y if which == "classifier" else model.predict(X) + 0.1
    for scoring in scorers:
        scorer = get_scorer(scoring)
        assert scorer(loaded, X, y_true) == pytest.approx(scorer(model, X, y_true), abs=1e-5)


@pytest.mark.parametrize("name", EXPORT_FORMATS.names())
@pytest.mark.parametrize("which", ["classifier", "regressor", "table"])
def test_format_exports_an_ensemble_that_predicts_as_it_does(
    name: str, which: str, fitted_models: dict[str, Any], tmp_path: Path
) -> None:
    model, X = fitted_models[which]
    # A second member of other weights (and, for the table, other preprocessing).
    other = clone(model).set_params(net__random_state=1, net__learning_rate=0.05)
    if which == "table":
        table, label = mixed_table(60)
        dataset = check_dataset(_dated(table), label)
        prep = build_preprocessor(DataProfile.of(dataset), {"impute": "median"})
        other = Pipeline([("prep", prep), ("net", GraphNetClassifier(_ARCH, **_FIT))])
        other.set_params(net__random_state=1).fit(dataset.X, dataset.y)
    else:
        X_fit, y = iris()
        y_fit = y if which == "classifier" else np.column_stack([X_fit[:, 0] * 10, X_fit[:, 1] - 3])
        other.fit(X_fit, y_fit)
    ensemble = WeightedEnsemble([model, other], [2.0, 1.0])
    task = "regression" if which == "regressor" else "classification"
    loaded, info = _round_trip(name, ensemble, tmp_path, task)
    assert info["ensemble"]["weights"] == [2.0, 1.0]
    assert all((tmp_path / f).is_file() for f in info["files"])
    _check_same(ensemble, loaded, X)


def _dated(table: Any) -> Any:
    """The fixture's table: ``table`` with its date column (one cell missing)."""
    import pandas as pd

    table["when"] = pd.date_range("2023-12-30", periods=len(table), freq="29h")
    table.loc[7, "when"] = pd.NaT
    return table
