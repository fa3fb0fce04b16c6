"""Tests for evosearch.space.space: presets, TOML parsing, clear errors, Choice/Range behaviour."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from evosearch.errors import SearchSpaceError
from evosearch.nn import ACTIVATIONS, OPTIMIZERS
from evosearch.space.genome import Genome
from evosearch.space.space import Choice, Range, SearchSpace, list_presets

LAYER_KEYS = {"units", "activation", "dropout"}
TRAINING_KEYS = {"optimizer", "learning_rate", "l1", "l2", "batch_size", "max_epochs"}
TRAINING_KEYS |= {"lr_schedule", "clip_norm", "shift", "warmup_epochs", "early_stopping"}
TRAINING_KEYS |= {"prune", "precision", "finetune_epochs"}  # optional
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def write_toml(directory: Path, text: str, name: str = "space.toml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- presets
def test_list_presets_includes_mlp() -> None:
    presets = list_presets()
    assert "mlp" in presets
    assert presets["mlp"].is_file()
    assert presets["mlp"].suffix == ".toml"


def test_mlp_preset_loads_by_name_and_by_path() -> None:
    by_name = SearchSpace.load("mlp")
    path = list_presets()["mlp"]
    assert SearchSpace.load(path) == by_name
    assert SearchSpace.load(str(path)) == by_name
    assert SearchSpace.from_toml(path) == by_name

    assert by_name.name == "mlp"
    assert (by_name.min_layers, by_name.max_layers) == (0, 4)
    assert by_name.initial_layers == (1, 2)
    assert by_name.skip_connections is True
    assert set(by_name.layers["dense"]) == LAYER_KEYS
    assert set(by_name.training_params) == TRAINING_KEYS
    assert by_name.layers["dense"]["units"] == Choice((1, 2, 4, 8, 16, 32, 64, 128, 256, 512))
    assert by_name.layers["dense"]["activation"] == Choice(ACTIVATIONS)
    assert by_name.training_params["learning_rate"] == Range(1e-4, 1e-1, log=True)


def test_mlp_preset_round_trips_through_dict_and_json() -> None:
    space = SearchSpace.load("mlp")
    data = json.loads(json.dumps(space.to_dict()))
    again = SearchSpace.from_dict(data)
    assert again == space
    assert again.to_dict() == space.to_dict()


def test_custom_space_round_trips(tmp_path: Path) -> None:
    text = """
name = "custom"
description = "ranges, fixed values and no skips"
[architecture]
min_layers = 0
max_layers = 3
initial_layers = [0, 3]
skip_connections = false
[layers.dense]
units = { low = 4, high = 64, log = true }
activation = "tanh"
dropout = { low = 0.0, high = 0.5 }
[training]
optimizer = ["adam", "sgd"]
batch_size = { low = 8, high = 64 }
max_epochs = 20
"""
    space = SearchSpace.from_toml(write_toml(tmp_path, text))
    assert space.skip_connections is False
    assert space.initial_layers == (0, 3)
    assert space.layers["dense"]["units"] == Range(4.0, 64.0, log=True, integer=True)
    assert space.layers["dense"]["activation"] == Choice(("tanh",))
    assert space.training_params["max_epochs"] == Choice((20,))
    assert SearchSpace.from_dict(json.loads(json.dumps(space.to_dict()))) == space


def test_minimal_file_takes_mlp_defaults(tmp_path: Path) -> None:
    mlp = SearchSpace.load("mlp")
    space = SearchSpace.load(write_toml(tmp_path, "", name="tiny.toml"))
    assert space.name == "tiny"  # the file name when the file has no name
    assert (space.min_layers, space.max_layers) == (mlp.min_layers, mlp.max_layers)
    assert space.initial_layers == mlp.initial_layers
    assert space.skip_connections == mlp.skip_connections
    assert space.layers == mlp.layers
    assert space.training_params == mlp.training_params


def test_partial_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    mlp = SearchSpace.load("mlp")
    text = 'name = "short"\n[training]\nmax_epochs = 20\n[layers.dense]\nunits = [64, 8]\n'
    space = SearchSpace.load(write_toml(tmp_path, text))
    assert space.name == "short"
    assert space.training_params["max_epochs"] == Choice((20,))
    assert space.layers["dense"]["units"] == Choice((8, 64))  # numeric choices are sorted
    for key in TRAINING_KEYS - {"max_epochs"}:
        assert space.training_params[key] == mlp.training_params[key]
    for key in LAYER_KEYS - {"units"}:
        assert space.layers["dense"][key] == mlp.layers["dense"][key]


# --------------------------------------------------------------------------- bad files
BAD_FILES = [
    ('colour = "red"', "colour", "unknown key"),
    ("[architecture]\ndepth = 3", "architecture.depth", "unknown key"),
    ("[layers.dense]\nkernel = 3", "layers.dense.kernel", "unknown key"),
    ("[layers.conv]\nunits = [3]", "layers.conv", "unknown key"),
    ("[training]\nmomentum = 0.9", "training.momentum", "unknown key"),
    ("[training]\nlearning_rate = { low = 1e-4, high = 0.1, scale = 2 }",
     "training.learning_rate.scale", "unknown key"),
    ("layers = 3", "layers", "expected a table"),
    ("training = [1, 2]", "training", "expected a table"),
    ("name = 3", "name", "expected a string"),
    ('[layers.dense]\nunits = ["64"]', "layers.dense.units", "expected a number"),
    ('[training]\nlearning_rate = "fast"', "training.learning_rate", "expected a number"),
    ("[training]\nbatch_size = true", "training.batch_size", "expected a number"),
    ("[training]\nbatch_size = [32, false]", "training.batch_size", "expected a number"),
    ("[architecture]\nmin_layers = true", "architecture.min_layers", "expected an integer"),
    ('[architecture]\nmax_layers = "4"', "architecture.max_layers", "expected an integer"),
    ("[architecture]\nmin_layers = 1.5", "architecture.min_layers", "expected an integer"),
    ("[architecture]\nskip_connections = 1", "architecture.skip_connections", "true or false"),
    ("[layers.dense]\nunits = [32, 64.5]", "layers.dense.units", "expected an integer"),
    ("[layers.dense]\nunits = 12.5", "layers.dense.units", "expected an integer"),
    ("[layers.dense]\nunits = { low = 8, high = 64, integer = false }",
     "layers.dense.units.integer", "only takes integers"),
    ("[layers.dense]\nunits = []", "layers.dense.units", "empty list"),
    ("[training]\noptimizer = []", "training.optimizer", "empty list"),
    ("[layers.dense]\nunits = [32, 32]", "layers.dense.units", "duplicate"),
    ("[training]\nlearning_rate = { low = 0.1, high = 0.01 }", "training.learning_rate",
     "empty range"),
    ("[training]\nlearning_rate = { low = 0.01, high = 0.01 }", "training.learning_rate",
     "empty range"),
    ("[layers.dense]\nunits = { low = 64, high = 8 }", "layers.dense.units", "empty range"),
    ("[training]\nl1 = { low = 0.0, high = 0.001, log = true }", "training.l1", "log range"),
    ("[training]\nl2 = { low = 0, high = 0.1, log = true }", "training.l2", "log range"),
    ("[training]\nlearning_rate = { low = 0.001 }", "training.learning_rate", "missing 'high'"),
    ('[training]\nlearning_rate = { low = 1e-4, high = 0.1, log = "yes" }',
     "training.learning_rate.log", "true or false"),
    ("[training]\nl1 = { low = 0.2, high = 0.8, integer = true }", "training.l1",
     "no integer"),
    ('[layers.dense]\nactivation = ["relu", "swish"]', "layers.dense.activation", "swish"),
    ("[layers.dense]\nactivation = 3", "layers.dense.activation", "expected a string"),
    ("[layers.dense]\nactivation = { low = 1, high = 2 }", "layers.dense.activation",
     "not a range"),
    ('[training]\noptimizer = "lbfgs"', "training.optimizer", "lbfgs"),
    ("[layers.dense]\ndropout = 0.99", "layers.dense.dropout", "outside the allowed"),
    ("[layers.dense]\nunits = 0", "layers.dense.units", "outside the allowed"),
    ("[training]\nlearning_rate = nan", "training.learning_rate", "expected a number"),
    ("[training]\nl2 = inf", "training.l2", "expected a number"),
    ("[architecture]\nmin_layers = 3\nmax_layers = 2", "architecture.max_layers",
     "no genome fits"),
    ("[architecture]\nmin_layers = -1", "architecture.min_layers", ">= 0"),
    ("[architecture]\nmax_layers = 65", "architecture.max_layers", "<= 64"),
    ("[architecture]\nmin_layers = 1\nmax_layers = 3\ninitial_layers = [0, 2]",
     "architecture.initial_layers", "inside"),
    ("[architecture]\nmin_layers = 1\nmax_layers = 3\ninitial_layers = [2, 4]",
     "architecture.initial_layers", "inside"),
    ("[architecture]\ninitial_layers = [3, 2]", "architecture.initial_layers", "ordered"),
    ("[architecture]\ninitial_layers = 2", "architecture.initial_layers", "expected [low, high]"),
    ("[architecture]\ninitial_layers = [1, 2, 3]", "architecture.initial_layers",
     "expected [low, high]"),
    ("[layers.dense]\nunits = 100000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "layers.dense.units", "outside the allowed"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "key", "problem"), BAD_FILES)
def test_bad_file_raises_error_naming_the_key(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    path = write_toml(tmp_path, text + "\n")
    with pytest.raises(SearchSpaceError, match=re.escape(f"key '{key}'")) as info:
        SearchSpace.load(path)
    message = str(info.value)
    assert problem in message
    assert "\n" not in message
    assert str(path) in message  # the source is named too


def test_broken_toml_syntax(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "[layers.dense]\nunits = [32, 64\n")
    with pytest.raises(SearchSpaceError, match="not valid TOML"):
        SearchSpace.load(path)


def test_duplicate_toml_key(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "name = 'a'\nname = 'b'\n")
    with pytest.raises(SearchSpaceError, match="not valid TOML"):
        SearchSpace.from_toml(path)


def test_undecodable_file(tmp_path: Path) -> None:
    path = tmp_path / "binary.toml"
    path.write_bytes(b'name = "\xff\xfe"\n')
    with pytest.raises(SearchSpaceError):
        SearchSpace.load(path)


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(SearchSpaceError, match="not found"):
        SearchSpace.load(missing)
    with pytest.raises(SearchSpaceError, match="not found"):
        SearchSpace.from_toml(missing)


def test_directory_is_not_a_genome_file(tmp_path: Path) -> None:
    with pytest.raises(SearchSpaceError):
        SearchSpace.load(tmp_path)


def test_unknown_preset_name() -> None:
    with pytest.raises(SearchSpaceError, match="nosuchpreset") as info:
        SearchSpace.load("nosuchpreset")
    assert "mlp" in str(info.value)  # the message lists the presets that exist


def test_from_dict_rejects_non_tables() -> None:
    data: Any
    for data in (None, [], "mlp", 3):
        with pytest.raises(SearchSpaceError):
            SearchSpace.from_dict(data)


# --------------------------------------------------------------------------- Choice / Range
@st.composite
def choices(draw: st.DrawFn) -> Choice:
    kind = draw(st.sampled_from(["int", "float", "str"]))
    if kind == "int":
        values = draw(st.lists(st.integers(-1000, 1000), min_size=1, max_size=6, unique=True))
        return Choice(tuple(sorted(values)))
    if kind == "float":
        floats = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
        reals = draw(st.lists(floats, min_size=1, max_size=6, unique=True))
        return Choice(tuple(sorted(reals)))
    values = draw(st.lists(st.sampled_from(ACTIVATIONS), min_size=1, max_size=5, unique=True))
    return Choice(tuple(values))


@st.composite
def ranges(draw: st.DrawFn) -> Range:
    log = draw(st.booleans())
    integer = draw(st.booleans())
    if log:
        bounds = st.floats(1e-9, 1e6, allow_nan=False, allow_infinity=False)
    else:
        bounds = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
    low, high = sorted(draw(st.lists(bounds, min_size=2, max_size=2, unique=True)))
    if integer:
        assume(math.ceil(low) <= math.floor(high))
    return Range(low, high, log=log, integer=integer)


@settings(max_examples=60, deadline=None)
@given(choice=choices(), seed=st.integers(0, 2**32 - 1))
def test_choice_sample_and_perturb_stay_inside(choice: Choice, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(10):
        value = choice.sample(rng)
        assert choice.contains(value)
        other = choice.perturb(value, rng)
        assert choice.contains(other)
        assert type(other) is type(value)
        if len(choice.values) > 1:
            assert other != value  # a perturbation always moves when it can
        else:
            assert other == value


@settings(max_examples=80, deadline=None)
@given(param=ranges(), seed=st.integers(0, 2**32 - 1))
def test_range_sample_and_perturb_stay_inside(param: Range, seed: int) -> None:
    rng = np.random.default_rng(seed)
    expected_type = int if param.integer else float
    starts = [param.sample(rng) for _ in range(8)]
    starts += [param.perturb(param.low, rng), param.perturb(param.high, rng)]
    for value in starts:
        assert param.contains(value), value
        assert type(value) is expected_type
        for scale in (0.15, 1.0, 5.0):
            moved = param.perturb(value, rng, scale=scale)
            assert param.contains(moved), (value, moved)
            assert type(moved) is expected_type


def test_contains_rejects_wrong_types() -> None:
    numbers = Choice((0, 1, 2))
    assert numbers.contains(1) and numbers.contains(1.0)
    assert not numbers.contains(True)
    assert not numbers.contains("1")
    assert not numbers.contains(None)
    words = Choice(("relu", "tanh"))
    assert words.contains("relu") and not words.contains("elu") and not words.contains(0)
    interval = Range(0.0, 2.0)
    assert interval.contains(1) and interval.contains(2.0)
    assert not interval.contains(True) and not interval.contains("1") and not interval.contains(3)
    integers = Range(1.0, 10.0, integer=True)
    assert integers.contains(3) and not integers.contains(3.5) and not integers.contains(11)


def test_integer_range_with_fractional_bounds_samples_integers_inside() -> None:
    param = Range(0.4, 2.6, integer=True)
    rng = np.random.default_rng(0)
    seen = {param.sample(rng) for _ in range(200)}
    seen |= {param.perturb(v, rng, scale=3.0) for v in (1, 2) for _ in range(100)}
    assert seen == {1, 2}


# --------------------------------------------------------------------------- fuzzing
KNOWN_KEYS = [
    "name", "description", "architecture", "layers", "training", "dense", "conv",
    "min_layers", "max_layers", "initial_layers", "skip_connections",
    "units", "activation", "dropout",
    "optimizer", "learning_rate", "l1", "l2", "batch_size", "max_epochs",
    "low", "high", "log", "integer",
]  # fmt: skip
keys = st.sampled_from(KNOWN_KEYS) | st.text(max_size=6)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-3, 70)
    | st.sampled_from([10**400, -(10**400), 2**63, 1e308, -0.0])
    | st.floats()
    | st.floats(0, 1)
    | st.text(max_size=8)
    | st.sampled_from(ACTIVATIONS + OPTIMIZERS)
)
trees = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=16,
)


def _check_outcome(make: Any) -> None:
    """``make()`` returns a usable SearchSpace or raises SearchSpaceError, nothing else."""
    try:
        space = make()
    except SearchSpaceError as exc:
        assert str(exc)
        return
    assert isinstance(space, SearchSpace)
    # An accepted space is usable: it round-trips and its random genomes are valid in it.
    assert SearchSpace.from_dict(json.loads(json.dumps(space.to_dict()))) == space
    rng = np.random.default_rng(0)
    for _ in range(3):
        Genome.random(space, 3, 2, rng).validate(space)


@FUZZ
@given(data=trees)
def test_from_dict_fuzz_arbitrary_structures(data: Any) -> None:
    _check_outcome(lambda: SearchSpace.from_dict(data))


@FUZZ
@given(
    where=st.sampled_from(
        [
            ("architecture", "min_layers"),
            ("architecture", "max_layers"),
            ("architecture", "initial_layers"),
            ("architecture", "skip_connections"),
            ("layers", "dense", "units"),
            ("layers", "dense", "activation"),
            ("layers", "dense", "dropout"),
            ("training", "optimizer"),
            ("training", "learning_rate"),
            ("training", "l1"),
            ("training", "batch_size"),
            ("training", "max_epochs"),
            ("training",),
            ("name",),
        ]
    ),
    value=trees,
)
def test_from_dict_fuzz_one_value_of_the_preset(where: tuple[str, ...], value: Any) -> None:
    data = SearchSpace.load("mlp").to_dict()
    table = data
    for key in where[:-1]:
        table = table[key]
    table[where[-1]] = value
    _check_outcome(lambda: SearchSpace.from_dict(data))


toml_values = st.recursive(
    st.integers().map(str)
    | st.sampled_from([10**400, 2**64, -(2**63)]).map(str)
    | st.floats().map(repr)
    | st.sampled_from(["true", "false", "1e-4", "0.5", '"relu"', '"adam"', "-3", "64"])
    | st.text(max_size=6).map(json.dumps),
    lambda children: (
        st.lists(children, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]")
        | st.lists(st.tuples(st.sampled_from(["low", "high", "log", "integer", "x"]), children),
                   max_size=4, unique_by=lambda kv: kv[0])
        .map(lambda kvs: "{ " + ", ".join(f"{k} = {v}" for k, v in kvs) + " }")
    ),
    max_leaves=8,
)  # fmt: skip
toml_lines = st.one_of(
    st.sampled_from(
        ["[architecture]", "[layers.dense]", "[training]", "[layers.conv]", "[other]", ""]
    ),
    st.tuples(st.sampled_from(KNOWN_KEYS), toml_values).map(lambda kv: f"{kv[0]} = {kv[1]}"),
)
safe_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=200)


@FUZZ
@given(text=safe_text | st.lists(toml_lines, max_size=12).map("\n".join))
def test_from_toml_fuzz_text(tmp_path: Path, text: str) -> None:
    path = write_toml(tmp_path, text)
    _check_outcome(lambda: SearchSpace.from_toml(path))
