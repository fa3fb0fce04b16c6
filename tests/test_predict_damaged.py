"""`evosearch predict` refuses a damaged or hand-edited export with one line and exit status 2,
never a traceback, whatever the format (in-process commands on a tiny model: fast)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from evosearch.cli.main import main
from evosearch.deploy import get_format, write_model
from evosearch.errors import SettingsError
from evosearch.nn import GraphNetClassifier, GraphNetRegressor
from evosearch.testing._tiny import iris

_ARCH = {"layers": [{"id": 2, "units": 4, "activation": "tanh"}], "edges": [[0, 2], [2, 1]]}
_FIT = {"max_epochs": 2, "random_state": 0}
_FEATURES = ["a", "b", "c", "d"]


def _usable(name: str) -> bool:
    try:
        get_format(name).check_available()
    except SettingsError:
        return False
    return True


FORMATS = [name for name in ("joblib", "onnx", "python") if _usable(name)]


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A classifier and a regressor on iris in each format, and the table they predict."""
    root = tmp_path_factory.mktemp("exports")
    X, y = iris()
    models = {
        "classification": Pipeline([("net", GraphNetClassifier(_ARCH, **_FIT))]).fit(X, y),
        "regression": Pipeline([("net", GraphNetRegressor(_ARCH, **_FIT))]).fit(X, X[:, 0]),
    }
    folders = {}
    for task, model in models.items():
        for name in FORMATS:
            folder = root / f"{task}-{name}"
            folder.mkdir()
            info = {"task": task, "features": _FEATURES, "target": "t", "columns": None}
            write_model(model, folder, info, name)
            folders[f"{task}-{name}"] = folder
    table = pd.DataFrame(X, columns=_FEATURES).assign(t=y)
    table.to_csv(root / "rows.csv", index=False)
    folders["csv"] = root / "rows.csv"
    return folders


def _one_line_refusal(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("evosearch: error: ") and err.count("\n") == 1, err
    return err


def _json(edit: Callable[[dict], object]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        info = json.loads((folder / "model.json").read_text())
        (folder / "model.json").write_text(json.dumps(edit(info)))

    return damage


def _del(key: str) -> Callable[[dict], dict]:
    return lambda info: {k: v for k, v in info.items() if k != key}


def _truncate(name: str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[: len(data) // 3])

    return damage


def _swap_weights(path: Path) -> None:
    """The same arrays, each one row or value longer: another model's weights."""
    with np.load(path) as stored:
        arrays = {key: np.concatenate([stored[key], stored[key][:1]]) for key in stored.files}
    np.savez(path, **arrays)


# Damage, the formats it applies to, and what the line must say.
DAMAGES: dict[str, tuple[Callable[[Path], None], tuple[str, ...], str]] = {
    "model.json missing": (lambda f: (f / "model.json").unlink(), (), "model.json is missing"),
    "model.json broken": (lambda f: (f / "model.json").write_text("{"), (), "cannot read"),
    "model.json a list": (lambda f: (f / "model.json").write_text("[]"), (), "not a JSON object"),
    "unknown format": (_json(lambda i: {**i, "format": "tflite"}), (), "'tflite'"),
    "no features": (_json(_del("features")), (), "'features'"),
    "files not a list": (_json(lambda i: {**i, "files": "model.py"}), (), "'files'"),
    "joblib truncated": (_truncate("model.joblib"), ("joblib",), "model.joblib"),
    "onnx truncated": (_truncate("model.onnx"), ("onnx",), "model.onnx"),
    "onnx empty": (lambda f: (f / "model.onnx").write_bytes(b""), ("onnx",), "model.onnx"),
    "model.py syntax": (
        lambda f: (f / "model.py").write_text("def broken(:\n"),
        ("python",),
        "model.py",
    ),
    "weights.npz missing": (
        lambda f: (f / "weights.npz").unlink(),
        ("python",),
        "weights.npz is missing",
    ),
    "weights.npz truncated": (_truncate("weights.npz"), ("python",), "weights.npz"),
    "weights.npz of another model": (
        lambda f: _swap_weights(f / "weights.npz"),
        ("python",),
        "cannot predict",
    ),
}


CASES = [
    (name, damage)
    for damage, (_, formats, _) in DAMAGES.items()
    for name in FORMATS
    if not formats or name in formats
]


@pytest.mark.parametrize(("name", "damage"), CASES)
def test_a_damaged_export_is_refused_in_one_line(
    name: str,
    damage: str,
    exports: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    how, _, says = DAMAGES[damage]
    folder = tmp_path / "model"
    shutil.copytree(exports[f"classification-{name}"], folder)
    how(folder)
    err = _one_line_refusal(["predict", str(folder), str(exports["csv"])], capsys)
    assert says in err


@pytest.mark.parametrize("name", FORMATS)
def test_proba_of_a_regressor_is_one_line_and_predictions_agree(
    name: str, exports: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, csv = exports[f"regression-{name}"], str(exports["csv"])
    err = _one_line_refusal(["predict", str(folder), csv, "--proba"], capsys)
    assert "--proba needs a classifier" in err
    out = tmp_path / "p.csv"
    assert main(["predict", str(folder), csv, "--out", str(out)]) == 0
    reference = tmp_path / "ref.csv"
    assert main(["predict", str(exports["regression-joblib"]), csv, "--out", str(reference)]) == 0
    got, expected = pd.read_csv(out)["t"], pd.read_csv(reference)["t"]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_predictions_to_a_folder_that_does_not_exist_are_refused_in_one_line(
    exports: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "missing" / "p.csv"
    args = ["predict", str(exports["classification-joblib"]), str(exports["csv"]), "--out"]
    err = _one_line_refusal([*args, str(out)], capsys)
    assert f"cannot write {out}" in err


def test_the_model_file_command_refuses_a_bad_csv_in_one_line(
    exports: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python model.py data.csv`: a missing, empty or ragged file is one line and status 2."""
    from evosearch.deploy import read_model

    loaded, _ = read_model(exports["classification-python"])
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "ragged.csv").write_text("a,b,c,d\n1,2\n")
    for name, says in (("none.csv", "No such file"), ("empty.csv", "not a CSV table"),
                       ("ragged.csv", "not a CSV table")):  # fmt: skip
        assert loaded.module.main([str(tmp_path / name)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and says in err, err
