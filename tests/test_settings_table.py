"""The settings table is the one home of every setting: the Evolver's signature, validation, the
command line's options, run.json, resume and ``replay --continue-to`` are all derived from it."""

from __future__ import annotations

import inspect
import json

import pytest

from clitools import evosearch
from evosearch import Evolver
from evosearch.errors import SettingsError
from evosearch.search import SETTINGS, check_settings, recorded_params

RECORDED = [row for row in SETTINGS if row.recorded]

#: A value other than the default for every recorded setting, for a quick iris run. A new
#: recorded setting fails test_every_recorded_setting_has_a_test_value until it is added here,
#: and is then covered by the replay and resume tests below.
NON_DEFAULT = {
    "genome": "mlp-compressed",
    "population_size": 4,
    "generations": 1,
    "cv": 2,
    "n_jobs": 2,
    "random_state": 3,
    "crossover_rate": 0.3,
    "task": "classification",
    "eval_timeout": 77.0,
    "max_memory": 3000.0,
    "max_params": 5000,
    "max_bytes": 40000,
    "holdout": 0.2,
    "strategy": "aging",
    "halving": True,
    "inherit_weights": False,
    "objectives": ("score", "params", "bytes"),
    "scoring": "balanced_accuracy",
    "input_shape": "2x2",
    "fidelity": {"rows": 0.5, "factor": 2, "min_rows": 50},
    "focus": "accuracy",
    "scale_target": False,
    "ensemble": True,
}
#: The steady-state search's settings, which do not go with halving or screening, and
#: bag_folds, which does not go with ensemble: varied in a run of their own (steady_run).
NON_DEFAULT_STEADY = {"steady_state": True, "in_flight": 3, "bag_folds": True}
#: Settings whose non-default values need what a test machine lacks (a Dask cluster).
NOT_VARIED = {"backend", "scheduler"}


def test_evolver_signature_is_the_table():
    parameters = inspect.signature(Evolver.__init__).parameters
    names = [name for name in parameters if name != "self"]
    assert names == [row.name for row in SETTINGS]
    for row in SETTINGS:
        assert parameters[row.name].default == row.default, row.name


def test_resume_takes_every_setting_a_resume_may_change():
    keywords = set(inspect.signature(Evolver.resume).parameters)
    assert {row.name for row in SETTINGS if row.resume} <= keywords


def test_every_recorded_setting_has_a_test_value():
    assert {row.name for row in RECORDED} - NOT_VARIED == set(NON_DEFAULT) | set(NON_DEFAULT_STEADY)
    for name, value in {**NON_DEFAULT, **NON_DEFAULT_STEADY}.items():
        row = next(r for r in SETTINGS if r.name == name)
        assert value != row.default, name


def test_check_settings_refuses_each_bad_value_naming_it():
    bad = {"population_size": 1, "cv": "3", "n_jobs": 0, "crossover_rate": 2.0, "task": "x",
           "holdout": 0.9, "halving": "yes", "strategy": "nsga3", "fidelity": "rows=7",
           "focus": 3}  # fmt: skip
    for name, value in bad.items():
        with pytest.raises(SettingsError, match=name.split("_")[0]):
            check_settings({name: value})


def test_every_option_comes_from_the_table(tmp_path):
    evolve = evosearch("evolve", "--help", cwd=tmp_path).stdout
    resume = evosearch("resume", "--help", cwd=tmp_path).stdout
    replay = evosearch("replay", "--help", cwd=tmp_path).stdout
    for row in SETTINGS:
        if row.flag is None:
            continue
        assert row.flag in evolve
        assert (row.flag in resume) == row.resume, row.name
        assert (row.flag in replay) == row.replay, row.name


def test_a_bad_option_is_one_line_naming_the_setting(tmp_path):
    result = evosearch("evolve", "--population", "1", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "population_size must be an integer >= 2" in result.stderr


def _options(values):
    options = []
    for name, value in values.items():
        row = next(r for r in SETTINGS if r.name == name)
        if row.switch:
            options.append(row.flag if value else f"--no-{row.flag[2:]}")
        elif isinstance(value, dict):
            options += [row.flag, ",".join(f"{k}={v}" for k, v in value.items())]
        elif isinstance(value, tuple):
            options += [row.flag, ",".join(value)]
        else:
            options += [row.flag, str(value)]
    return options


@pytest.fixture(scope="module")
def varied_run(tmp_path_factory):
    """A finished quick run with every recorded setting off its default."""
    folder = tmp_path_factory.mktemp("settings") / "varied"
    options = _options(NON_DEFAULT)
    result = evosearch(
        "evolve", "--data", "iris", "--quiet", "--out", str(folder), *options, cwd=folder.parent
    )
    assert result.returncode == 0, result.stderr
    return folder


def test_the_steady_state_settings_are_recorded_and_kept_by_a_resume(tmp_path):
    import shutil

    folder = tmp_path / "steady"
    quick = {"population_size": 4, "generations": 1, "cv": 2, "n_jobs": 1}
    result = evosearch(
        "evolve", "--data", "iris", "--quiet", "--out", str(folder),
        *_options({**quick, **NON_DEFAULT_STEADY}), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    params = recorded_params(_recorded(folder), "run.json")
    for name, value in NON_DEFAULT_STEADY.items():
        assert params[name] == value, name
    copy = shutil.copytree(folder, tmp_path / "copy")
    extended = Evolver.resume(copy, generations=2)
    for name, value in NON_DEFAULT_STEADY.items():
        assert extended.get_params()[name] == value, name
    assert len(extended.history_) == 3


def _recorded(folder):
    return json.loads((folder / "run.json").read_text())


def test_run_json_records_every_setting_as_given(varied_run):
    info = _recorded(varied_run)
    # The steady-state settings and bag_folds are left out at their defaults (omit_default).
    assert set(info["settings"]) == {row.name for row in RECORDED} - set(NON_DEFAULT_STEADY)
    params = recorded_params(info, "run.json")
    for name, value in NON_DEFAULT.items():
        if name != "genome":  # the recorded space itself
            assert params[name] == value, name
    assert params["genome"].name == "mlp-compressed"


@pytest.mark.slow
def test_replay_continue_keeps_every_recorded_setting_not_overridden(varied_run, tmp_path):
    new = tmp_path / "continued"
    overridden = {"random_state": "9", "generations": "1"}
    result = evosearch(
        "replay", str(varied_run), "--generation", "0", "--continue-to", str(new), "--quiet",
        "--seed", overridden["random_state"], "--generations", overridden["generations"],
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    before, after = _recorded(varied_run)["settings"], _recorded(new)["settings"]
    for row in RECORDED:
        if row.name in overridden:
            assert str(after[row.name]) == overridden[row.name]
        else:
            assert after.get(row.name) == before.get(row.name), row.name
    assert _recorded(new)["parent"]["generation"] == 0


@pytest.mark.slow
def test_replay_evaluate_reproduces_a_holdout_and_fidelity_run(varied_run):
    # The run held out a fifth of the rows and screened children on half the rows: the
    # re-evaluation trains on the rows and at the fidelity the run did.
    # Generation 1: children screened, halved and bred, beside generation 0's survivors.
    for generation in (1,):
        result = evosearch(
            "replay", str(varied_run), "--generation", str(generation), "--evaluate",
            cwd=varied_run.parent,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "4 of 4 members reproduce their recorded score exactly" in result.stdout


def test_resume_overrides_only_what_a_resume_may_change(varied_run, tmp_path):
    import shutil

    copy = shutil.copytree(varied_run, tmp_path / "copy")
    extended = Evolver.resume(copy, generations=2, n_jobs=1)
    info = _recorded(copy)["settings"]
    assert info["generations"] == 2
    for name, value in NON_DEFAULT.items():
        if name not in ("generations", "n_jobs", "genome"):
            assert extended.get_params()[name] == value, name
    assert len(extended.history_) == 3


def test_the_docs_explain_every_option():
    """docs/cli.md's table of options (the README's manual moved there) has a row per flag."""
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs/cli.md").read_text(encoding="utf-8")
    missing = [row.flag for row in SETTINGS if row.flag and f"| `{row.flag}`" not in page]
    assert missing == []
