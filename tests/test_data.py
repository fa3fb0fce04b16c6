"""Tests for evosearch.data.dataset: bundled sets, CSV/NPZ files and their error messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evosearch.data import BUNDLED, Dataset, check_dataset, infer_task, load_dataset
from evosearch.errors import DataError

EXPECTED_TASKS = {
    "digits": ("classification", (1797, 64)),
    "iris": ("classification", (150, 4)),
    "wine": ("classification", (178, 13)),
    "breast_cancer": ("classification", (569, 30)),
    "diabetes": ("regression", (442, 10)),
}


def write(tmp_path: Path, text: str, name: str = "data.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def assert_data_error(fn, *words: str) -> str:
    with pytest.raises(DataError) as info:
        fn()
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    return message


# ------------------------------------------------------------------------------------ bundled


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_dataset_loads_with_the_right_task(name: str) -> None:
    task, shape = EXPECTED_TASKS[name]
    ds = load_dataset(name, n_splits=5)
    assert ds.task == task
    assert ds.X.shape == shape
    assert ds.X.dtype == np.float64
    assert ds.y.shape == (shape[0],)
    assert len(ds.feature_names) == shape[1]
    assert ds.name == name


def test_bundled_name_is_case_insensitive_and_fingerprint_is_stable() -> None:
    a, b = load_dataset("Iris"), load_dataset("iris")
    assert a.name == "iris"
    assert a.fingerprint() == b.fingerprint()
    assert len(a.fingerprint()) == 64
    assert a.fingerprint() != load_dataset("wine").fingerprint()


def test_task_can_be_forced_and_is_part_of_the_fingerprint() -> None:
    ds = load_dataset("iris", task="regression")
    assert ds.task == "regression"
    assert ds.y.dtype == np.float64
    assert ds.fingerprint() != load_dataset("iris").fingerprint()


def test_unknown_source_lists_the_choices() -> None:
    assert_data_error(
        lambda: load_dataset("foo"),
        "unknown dataset 'foo'",
        "digits, iris, wine, breast_cancer, diabetes",
        ".csv/.npz",
    )


def test_missing_file(tmp_path: Path) -> None:
    path = str(tmp_path / "nope.csv")
    assert_data_error(lambda: load_dataset(path), f"data file not found: {path}")


def test_bad_task_and_target_for_bundled() -> None:
    assert_data_error(lambda: load_dataset("iris", task="clustering"), "unknown task")
    assert_data_error(lambda: load_dataset("iris", target="species"), "CSV")


# ------------------------------------------------------------------------------------ infer_task


@pytest.mark.parametrize(
    ("y", "task"),
    [
        (np.array(["a", "b"]), "classification"),
        (np.array(["a", 1], dtype=object), "classification"),
        (np.array([True, False]), "classification"),
        (np.array([3, 1, 2]), "classification"),
        (np.array([0.0, 1.0, 2.0]), "classification"),
        (np.arange(21, dtype=float), "regression"),
        (np.array([0.5, 1.0]), "regression"),
        (np.array([0.0, np.nan]), "regression"),
    ],
)
def test_infer_task(y: np.ndarray, task: str) -> None:
    assert infer_task(y) == task


# ------------------------------------------------------------------------------------ CSV


def test_csv_with_string_labels(tmp_path: Path) -> None:
    path = write(tmp_path, "width,height,kind\n1,2,cat\n3,4.5,dog\n5,6,cat\n7,8,dog\n")
    ds = load_dataset(path)
    assert isinstance(ds, Dataset)
    assert ds.task == "classification"
    assert ds.feature_names == ["width", "height"]
    assert ds.target_name == "kind"
    assert ds.name == path
    np.testing.assert_array_equal(ds.X, [[1, 2], [3, 4.5], [5, 6], [7, 8]])
    assert ds.y.tolist() == ["cat", "dog", "cat", "dog"]


def test_csv_target_column_by_name_numeric_regression(tmp_path: Path) -> None:
    path = write(tmp_path, "price,a,b\n1.5,1,2\n2.25,3,4\n\n3.75,5,7\n")  # a blank line is skipped
    ds = load_dataset(path, target="price")
    assert ds.task == "regression"
    assert ds.feature_names == ["a", "b"]
    np.testing.assert_array_equal(ds.y, [1.5, 2.25, 3.75])


def test_csv_integer_labels_stay_integers(tmp_path: Path) -> None:
    ds = load_dataset(write(tmp_path, "a,y\n1,0\n2,1\n3,1\n"))
    assert ds.task == "classification"
    assert ds.y.dtype == np.int64


def test_csv_same_content_as_npz_has_same_fingerprint(tmp_path: Path) -> None:
    csv_path = write(tmp_path, "a,b,y\n1,2,0\n3,4,1\n")
    npz_path = tmp_path / "data.npz"
    np.savez(npz_path, X=np.array([[1.0, 2.0], [3.0, 4.0]]), y=np.array([0, 1]))
    assert load_dataset(csv_path).fingerprint() == load_dataset(str(npz_path)).fingerprint()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", ["empty"]),
        ("\n\n", ["empty"]),
        ("a,b,y\n", ["header but no data rows"]),
        ("1,2,3\n4,5,6\n", ["header row", "required"]),
        ("a,b,y\n1,2,0\n3,4\n", ["line 3", "2 fields", "expected 3"]),
        ("a,a,y\n1,2,0\n", ["duplicate column", "'a'"]),
        ("y\n1\n2\n", ["no feature columns"]),
        (
            "a,color,y\n1,2,x\n2,3,y\n3,red,x\n",
            ["non-numeric", "column 'color'", "line 4", "'red'"],
        ),
        (
            "a,color,size,y\n1,blue,big,x\n2,3,4,y\n",
            ["non-numeric", "'color'", "'size'", "'blue'", "'big'"],
        ),
        ("a,b,y\n1,,x\n2,nan,y\n3,inf,x\n", ["3 missing or non-finite", "line 2", "column 'b'"]),
        ("a,b,y\n1,2,x\n2,3,\n", ["missing values in target", "'y'", "line 3"]),
        ("a,y\n1,x\n2,x\n", ["single class", "'x'", "nothing to learn"]),
        ("a,y\n1,3\n2,3\n", ["single class (3)"]),
    ],
)
def test_csv_bad_input(tmp_path: Path, text: str, words: list[str]) -> None:
    path = write(tmp_path, text)
    assert_data_error(lambda: load_dataset(path), *words)


def test_csv_unknown_target_lists_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "a,b,y\n1,2,0\n3,4,1\n")
    assert_data_error(
        lambda: load_dataset(path, target="label"), "'label'", "columns: 'a', 'b', 'y'"
    )


def test_csv_class_too_small_for_folds(tmp_path: Path) -> None:
    path = write(tmp_path, "a,y\n1,x\n2,x\n3,y\n4,y\n5,y\n")
    assert_data_error(
        lambda: load_dataset(path, n_splits=3), "class 'x' has 2 rows, fewer than the 3 CV folds"
    )
    assert load_dataset(path, n_splits=2).task == "classification"


def test_csv_regression_on_labels_and_constant_target(tmp_path: Path) -> None:
    labels = write(tmp_path, "a,y\n1,1.5\n2,oops\n", "labels.csv")
    assert_data_error(lambda: load_dataset(labels, task="regression"), "numeric", "'oops'")
    constant = write(tmp_path, "a,y\n1,2.5\n2,2.5\n", "constant.csv")
    assert_data_error(lambda: load_dataset(constant, task="regression"), "constant")


def test_csv_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("a,y\n1,caf\xe9\n".encode("latin-1"))
    assert_data_error(lambda: load_dataset(str(path)), "UTF-8")


def test_csv_utf8_bom_and_quoted_fields(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes('\ufeffa,"b, c",y\n1,2,"x, 1"\n3,4,z\n'.encode())
    ds = load_dataset(str(path))
    assert ds.feature_names == ["a", "b, c"]
    assert ds.y.tolist() == ["x, 1", "z"]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(alphabet=list("ab1.0,;\n\r\"' -e\x00né")) | st.text())
def test_csv_reader_returns_dataset_or_data_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_text(text, encoding="utf-8", newline="")
    try:
        result = load_dataset(str(path))
    except DataError:
        return
    assert isinstance(result, Dataset)


# ------------------------------------------------------------------------------------ NPZ


def test_npz_happy_path(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    X = np.arange(12, dtype=np.int32).reshape(6, 2)
    y = np.array(["a", "b"] * 3)
    np.savez(path, X=X, y=y, feature_names=np.array(["p", "q"]))
    ds = load_dataset(str(path), n_splits=3)
    assert ds.task == "classification"
    assert ds.X.dtype == np.float64
    assert ds.feature_names == ["p", "q"]
    assert ds.y.tolist() == y.tolist()


@pytest.mark.parametrize(
    ("arrays", "words"),
    [
        ({"X": np.ones((3, 2))}, ["no array 'y'", "arrays present: X"]),
        ({"data": np.ones((3, 2)), "y": np.ones(3)}, ["no array 'X'", "data, y"]),
        ({"X": np.ones(3), "y": np.ones(3)}, ["'X'", "2-D"]),
        ({"X": np.array([["a", "b"]]), "y": np.ones(1)}, ["'X'", "numeric"]),
        ({"X": np.ones((3, 2)), "y": np.arange(4)}, ["X has 3 rows", "y 4"]),
        ({"X": np.array([[1.0, np.nan], [2.0, 3.0]]), "y": np.arange(2)}, ["1 missing", "(0, 1)"]),
        ({"X": np.ones((3, 2)), "y": np.ones((3, 2))}, ["'y'", "1-D"]),
        ({"X": np.ones((2, 2)), "y": np.array(["a", None], dtype=object)}, ["object arrays"]),
    ],
)
def test_npz_bad_input(tmp_path: Path, arrays: dict[str, np.ndarray], words: list[str]) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, **arrays)  # type: ignore[arg-type]
    assert_data_error(lambda: load_dataset(str(path)), *words)


def test_npz_not_a_zip(tmp_path: Path) -> None:
    path = write(tmp_path, "not a zip", "d.npz")
    assert_data_error(lambda: load_dataset(path), "cannot read NPZ file")


def test_npz_rejects_target_argument(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, X=np.ones((2, 1)), y=np.arange(2))
    assert_data_error(lambda: load_dataset(str(path), target="y"), "CSV")


# ------------------------------------------------------------------------------------ arrays


def test_regression_target_given_as_numeric_text() -> None:
    ds = check_dataset(np.ones((3, 1)), np.array(["1.5", "2", "3.25"]), task="regression")
    assert ds.y.dtype == np.float64
    np.testing.assert_array_equal(ds.y, [1.5, 2.0, 3.25])


def test_check_dataset_in_memory() -> None:
    X = [[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]]
    ds = check_dataset(X, [1.5, 2.5, 0.5, 4.0], name="mine")
    assert ds.task == "regression"
    assert ds.feature_names == ["x0", "x1"]
    assert ds.target_name == "y"
    assert ds.name == "mine"
    assert ds.n_samples == 4 and ds.n_features == 2


@pytest.mark.parametrize(
    ("X", "y", "kwargs", "words"),
    [
        (np.ones(3), np.arange(3), {}, ["2-D"]),
        (np.ones((0, 2)), np.arange(0), {}, ["no rows"]),
        (np.ones((3, 0)), np.arange(3), {}, ["no feature columns"]),
        (np.ones((3, 2)), np.arange(2), {}, ["3 rows", "2 values"]),
        (np.array([[np.inf, 1.0], [1.0, np.nan]]), np.arange(2), {}, ["2 missing", "(0, 0)"]),
        (np.ones((3, 1)), np.array([3, 3, 3]), {}, ["target 'y' has a single class (3)"]),
        (np.ones((3, 1)), np.array([1.0, 1.0, 1.0]), {"task": "regression"}, ["constant"]),
        (np.ones((4, 1)), np.array([0, 0, 1, 1]), {"n_splits": 3}, ["class 0 has 2 rows"]),
        (np.ones((2, 1)), np.array([0.5, 1.5]), {"n_splits": 3}, ["fewer than the 3 CV folds"]),
        (np.ones((2, 1)), np.array([0, 1]), {"n_splits": 1}, ["at least 2"]),
        (np.ones((2, 1)), np.array([0.5, np.nan]), {}, ["non-finite"]),
        (np.ones((2, 1)), np.array(["a", "b"]), {"task": "regression"}, ["numeric", "'a'"]),
        (np.ones((2, 1)), np.array(["a", 1], dtype=object), {}, ["mixes label types"]),
    ],
)
def test_check_dataset_rejects(
    X: np.ndarray, y: np.ndarray, kwargs: dict, words: list[str]
) -> None:
    assert_data_error(lambda: check_dataset(X, y, **kwargs), *words)
