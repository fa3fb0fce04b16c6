"""The Python caller's path: the target's name from pandas, progress with ``verbose``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.exceptions import DataConversionWarning

from evosearch import Evolver
from evosearch.errors import SettingsError


def iris_frame() -> tuple[pd.DataFrame, pd.Series]:
    data = load_iris(as_frame=True)
    return data.data, data.target.rename("species")


def quick(**params: object) -> Evolver:
    return Evolver(population_size=4, generations=2, cv=2, n_jobs=1, **params)  # type: ignore[arg-type]


def test_a_named_series_names_the_target_in_the_run_and_the_export(tmp_path: Path) -> None:
    X, y = iris_frame()
    evolver = quick(out=tmp_path / "run").fit(X, y)
    assert evolver.dataset_.target_name == "species"
    info = evolver.export(tmp_path / "model", format="python")
    assert info["target"] == "species"
    assert json.loads((tmp_path / "model" / "model.json").read_text())["target"] == "species"
    # A one-column frame names it too; a bare array stays "y".
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        assert quick().fit(X, y.to_frame()).dataset_.target_name == "species"
    assert quick().fit(X.to_numpy(), y.to_numpy()).dataset_.target_name == "y"


def test_verbose_prints_a_row_per_generation_and_is_silent_by_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    X, y = load_iris(return_X_y=True)
    quick().fit(X, y)
    assert capsys.readouterr().out == ""
    evolver = quick(verbose=1)
    assert clone(evolver).get_params()["verbose"] == 1
    evolver.fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["gen", "best", "archive"]
    assert [line.split()[0] for line in lines[1:]] == ["0", "1", "2"]
    assert not any("\\x1b" in line for line in lines)  # no bar or control characters off a tty


def test_verbose_on_resume_and_its_bad_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    X, y = load_iris(return_X_y=True)
    quick(out=tmp_path / "run").fit(X, y)
    capsys.readouterr()
    Evolver.resume(tmp_path / "run", generations=3, X=X, y=y, verbose=1)
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [row.split()[0] for row in rows] == ["3"]
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert "verbose" not in run["settings"]  # a session's, like callbacks: never recorded
    for bad in (3, -1, "loud", 1.5):
        with pytest.raises(SettingsError, match="verbose must be 0, 1 or 2"):
            quick(verbose=bad).fit(X, y)
    np.testing.assert_array_equal(quick(verbose=True).fit(X, y).predict(X[:3]).shape, (3,))
