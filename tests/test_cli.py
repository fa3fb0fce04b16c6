"""Tests for the ``evosearch`` command line, run as a real subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.datasets import load_iris

from clitools import (
    DIVERGING_TOML,
    REPO,
    RUN_FILES,
    TINY_TOML,
    Result,
    assert_clean,
    assert_usage_error,
    evosearch,
    snapshot,
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a tiny genome and a few CSV files, some of them broken."""
    folder = tmp_path_factory.mktemp("cli")
    (folder / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    (folder / "diverging.toml").write_text(DIVERGING_TOML, encoding="utf-8")
    (folder / "broken.toml").write_text('name = "x"\n[architecture\n', encoding="utf-8")
    (folder / "unknown_key.toml").write_text('name = "x"\nbogus = 1\n', encoding="utf-8")

    iris = load_iris()
    names = ["setosa", "versicolor", "virginica"]
    rows = ["species,sepal_length,sepal_width,petal_length,petal_width"]
    rows += [
        ",".join([names[t], *(f"{v:g}" for v in x)])
        for x, t in zip(iris.data, iris.target, strict=True)
    ]
    (folder / "species.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")

    def csv(name: str, body: str) -> None:
        (folder / name).write_text("a,b,label\n" + body, encoding="utf-8")

    good = "".join(f"{i},{i % 3},{i % 2}\n" for i in range(8))
    csv("good.csv", good)
    csv("text_feature.csv", good.replace("4,1,0", "4,high,0"))
    # An empty or NaN cell is a missing value now (imputed); an infinite number is refused.
    csv("nan.csv", good.replace("5,2,1", "5,inf,1"))
    csv("one_class.csv", "".join(f"{i},{i % 3},7\n" for i in range(8)))
    return folder


TINY_RUN = ("--population", "4", "--generations", "1", "--n-jobs", "1", "--cv", "2")


# ------------------------------------------------------------------------------------ success


@pytest.fixture(scope="module")
def iris_run(workdir: Path) -> tuple[Result, Path]:
    out = workdir / "iris-run"
    result = evosearch(
        "evolve", "--genome", "tiny.toml", "--data", "iris", *TINY_RUN, "--out", str(out),
        cwd=workdir,
    )  # fmt: skip
    return result, out


def test_genomes_lists_the_presets(tmp_path):
    result = evosearch("genomes", cwd=tmp_path)
    assert result.returncode == 0, result
    assert_clean(result)
    assert re.search(r"^mlp\t\S", result.stdout, re.MULTILINE), result.stdout
    assert result.stderr == ""


def test_version(tmp_path):
    result = evosearch("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert re.fullmatch(r"evosearch \d+\.\d+\.\d+\S*\n", result.stdout)


def test_evolve_prints_generations_and_the_archive(iris_run):
    result, out = iris_run
    assert result.returncode == 0, result
    assert result.stderr == ""
    text = result.stdout
    assert "iris" in text and "tiny" in text
    assert re.search(r"^\s*gen\s+best\s+archive\s+hypervol\s+evals\s+hits\s+fails\s+seconds$",
                     text, re.MULTILINE)  # fmt: skip
    for generation in (0, 1):
        row = rf"^\s+{generation}\s+0\.\d{{4}}\s+\d+\s+0\.\d{{4}}\s+\d+\s+\d+\s+\d+\s+[\d.]+$"
        assert re.search(row, text, re.MULTILINE), text
    archive = json.loads((out / "archive.json").read_text())
    assert f"Pareto archive ({len(archive['members'])} members)" in text
    assert re.search(r"best accuracy 0\.\d{4} with [\d,]+ parameters", text)


def test_evolve_output_to_a_pipe_has_no_control_characters(iris_run):
    result, _ = iris_run
    assert_clean(result)


def test_evolve_writes_the_run_folder(iris_run):
    result, out = iris_run
    assert result.returncode == 0, result
    assert {p.name for p in out.iterdir()} == RUN_FILES
    for name in ("run.json", "archive.json", "checkpoint.json"):
        assert json.loads((out / name).read_text())["format_version"] == 4
    generations = (out / "generations.jsonl").read_text().splitlines()
    assert [json.loads(line)["generation"] for line in generations] == [0, 1]
    run = json.loads((out / "run.json").read_text())
    assert run["dataset"]["name"] == "iris"
    assert run["settings"]["population_size"] == 4


@pytest.mark.slow
def test_evolve_on_a_csv_with_string_labels(workdir):
    out = workdir / "species-run"
    result = evosearch(
        "evolve", "--genome", "tiny.toml", "--data", "species.csv", "--target", "species",
        *TINY_RUN, "--seed", "2", "--out", str(out), cwd=workdir,
    )  # fmt: skip
    assert result.returncode == 0, result
    assert_clean(result)
    assert "Pareto archive" in result.stdout
    run = json.loads((out / "run.json").read_text())
    assert run["dataset"]["task"] == "classification"
    assert run["dataset"]["target"] == "species"
    assert run["dataset"]["n_features"] == 4


# ------------------------------------------------------------------------------------ bad input

BAD_INPUT = {
    "unknown genome": (("--genome", "nope"), ("unknown genome", "nope")),
    "broken toml": (("--genome", "broken.toml"), ("broken.toml", "not valid TOML")),
    "unknown toml key": (("--genome", "unknown_key.toml"), ("bogus", "unknown key")),
    "missing genome file": (("--genome", "absent.toml"), ("absent.toml", "not found")),
    "missing data file": (("--data", "absent.csv"), ("absent.csv", "not found")),
    "unknown dataset": (("--data", "nosuch"), ("unknown dataset", "nosuch")),
    "unknown target": (("--data", "good.csv", "--target", "nope"), ("target column 'nope'",)),
    "text feature": (("--data", "text_feature.csv"), ("non-numeric", "'b'", "high")),
    "inf in csv": (("--data", "nan.csv"), ("non-finite", "nan.csv", "'b'")),
    "one class": (("--data", "one_class.csv"), ("single class", "label")),
    "zero generations": (("--generations", "0"), ("--generations", "0")),
    "negative population": (("--population", "-1"), ("--population", "-1")),
    "zero jobs": (("--n-jobs", "0"), ("--n-jobs", "0")),
    "one fold": (("--cv", "1"), ("--cv",)),
    "text seed": (("--seed", "abc"), ("--seed", "abc")),
    "unknown option": (("--bogus",), ("unrecognized arguments", "--bogus")),
    "unknown task": (("--task", "clustering"), ("--task", "clustering")),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_is_one_line_and_exit_2(workdir, tmp_path, case):
    extra, words = BAD_INPUT[case]
    out = tmp_path / "run"
    base = ("evolve", "--genome", "tiny.toml", "--data", "iris", *TINY_RUN, "--out", str(out))
    result = evosearch(*base, *extra, cwd=workdir)
    assert_usage_error(result, *words)
    assert result.stdout == ""  # refused before the run's header
    assert not out.exists(), "a failed start must not leave a run folder"


def test_missing_command_is_a_usage_error(tmp_path):
    assert_usage_error(evosearch(cwd=tmp_path), "command")


def test_existing_run_folder_is_refused_and_left_alone(iris_run, workdir):
    first, out = iris_run
    assert first.returncode == 0, first
    before = snapshot(out)
    result = evosearch(
        "evolve", "--genome", "tiny.toml", "--data", "iris", *TINY_RUN, "--seed", "1",
        "--out", str(out), cwd=workdir,
    )  # fmt: skip
    assert_usage_error(result, str(out), "already exists")
    assert result.stdout == ""  # refused before the run's header
    assert snapshot(out) == before


def test_search_where_every_genome_fails_is_one_line(workdir, tmp_path):
    out = tmp_path / "run"
    result = evosearch(
        "evolve", "--genome", "diverging.toml", "--data", "iris", *TINY_RUN, "--out", str(out),
        cwd=workdir,
    )  # fmt: skip
    message = assert_usage_error(result, "failed", "DivergenceError", "learning_rate")
    assert "divergences (non-finite loss)" in message and "a smaller learning_rate" in message
    for line in (out / "generations.jsonl").read_text().splitlines():
        json.loads(line)  # valid JSON, no NaN


@pytest.mark.slow
def test_default_run_folder_is_under_runs(workdir, tmp_path):
    (tmp_path / "tiny.toml").write_bytes((workdir / "tiny.toml").read_bytes())
    result = evosearch("evolve", "--genome", "tiny.toml", "--data", "iris", *TINY_RUN, "--quiet",
                       cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result
    assert_clean(result)
    (folder,) = (tmp_path / "runs").iterdir()
    assert re.fullmatch(r"\d{8}-\d{6}-tiny-s0", folder.name)
    assert RUN_FILES <= {p.name for p in folder.iterdir()}
    assert "Pareto archive" in result.stdout
    assert not re.search(r"^\s+gen\s+best", result.stdout, re.MULTILINE)  # --quiet: no rows


def test_evolve_on_a_terminal_shows_progress_and_restores_the_cursor(workdir, tmp_path):
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    args = ("evolve", "--genome", "tiny.toml", "--data", "iris", *TINY_RUN)
    process = subprocess.Popen(
        [sys.executable, "-m", "evosearch.cli", *args, "--out", str(tmp_path / "run")],
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.PIPE,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    stderr = process.stderr.read().decode() if process.stderr else ""
    assert process.wait(timeout=120) == 0, stderr
    output = b"".join(chunks).decode("utf-8", errors="replace")
    assert "Traceback" not in output + stderr
    assert "Pareto archive" in output
    hidden, shown = output.rfind("\x1b[?25l"), output.rfind("\x1b[?25h")
    assert hidden != -1, "no live progress display on a terminal"
    assert shown > hidden, "the cursor stays hidden after the run"
