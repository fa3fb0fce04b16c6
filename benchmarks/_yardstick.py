"""The yardstick's methods: evosearch's CLI runs and scikit-learn's default models.

Every method gets one wall-clock budget and returns a :data:`Result` (a JSON-ready dict):

* ``evosearch`` / ``evosearch:KEY=VALUE,...`` / ``random``: ``evosearch evolve`` in a
  subprocess (any checkout's CLI: ``cmd``), ``--max-time BUDGET``, read back from its run
  folder: best CV score and hypervolume of the full-fidelity evaluations in ``journal.jsonl``,
  the run's own hypervolume (last line of ``generations.jsonl``), evaluation and generation
  counts. ``random`` is ``--strategy random`` (random genomes of the same space).
* ``rf`` / ``hgb`` / ``svc``: ``RandomForestClassifier()``, ``HistGradientBoostingClassifier()``
  and ``SVC()`` (regressors for a regression target) with their defaults, behind the same
  preprocessing (median imputation and standardisation of numeric columns, one-hot text
  columns), cross-validated on evosearch's own folds (:func:`evosearch.evaluation.make_folds`,
  the run's cv and seed) in a forked process that is killed when the budget runs out. The clock
  starts after the data are loaded, as evosearch's ``--max-time`` does.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import resource
import shlex
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from evosearch.search.archive import hypervolume_2d

Result = dict[str, Any]
BASELINES = ("rf", "hgb", "svc")
# Evolver names whose CLI flag differs; anything else is --key-with-dashes.
_CLI_NAMES = {"population_size": "population", "random_state": "seed", "genome": "genome"}


def _children_cpu() -> float:
    """CPU seconds of this process's finished children (and the children they waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def hypervolume(points: list[tuple[float, int]]) -> float:
    """Issue 8's definition: the (1 - score, log10(params) / 6) front against (1, 1)."""
    mapped = np.array(
        [
            (min(max(s, 0.0), 1.0), min(max(1.0 - math.log10(max(p, 1)) / 6.0, 0.0), 1.0))
            for s, p in points
        ]
    )
    return float(hypervolume_2d(mapped, (0.0, 0.0))) if len(mapped) else 0.0


def cli_flags(settings: str) -> list[str]:
    """``halving=true,population_size=32`` -> ``--halving --population 32``.

    A value with commas goes in double quotes: ``fidelity="rows=0.1,factor=4"``.
    """
    flags: list[str] = []
    items, quoted, current = [], False, ""
    for char in settings + ",":
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            items.append(current)
            current = ""
        else:
            current += char
    for item in filter(None, items):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"setting {item!r} is not KEY=VALUE")
        flag = "--" + _CLI_NAMES.get(key, key).replace("_", "-")
        if value.lower() in ("true", "false"):
            flags.append(flag if value.lower() == "true" else "--no-" + flag[2:])
        else:
            flags += [flag, value]
    return flags


def _full_fidelity(entry: dict) -> bool:
    """A journal line of a full-fidelity evaluation: not successive halving's first folds, not
    a multi-fidelity screening (``"fidelity": 1``, the rung, since issue 16's plan)."""
    return entry.get("folds") is None and entry.get("fidelity") is None


def read_run(folder: Path) -> Result:
    """Figures of one run folder (missing files: a run stopped before writing them)."""
    journal_path, generations_path = folder / "journal.jsonl", folder / "generations.jsonl"
    journal = [
        json.loads(line)
        for line in (journal_path.read_text().splitlines() if journal_path.exists() else [])
        if line.strip()
    ]
    full = [e for e in journal if _full_fidelity(e)]
    points = [(e["score"], e["n_params"]) for e in full if e.get("error") is None]
    generations = [
        json.loads(line)
        for line in (generations_path.read_text().splitlines() if generations_path.exists() else [])
        if line.strip()
    ]
    return {
        "score": max((s for s, _ in points), default=None),
        "hypervolume": hypervolume(points) if points else None,
        "run_hypervolume": generations[-1].get("hypervolume") if generations else None,
        "full_evaluations": len(full),
        "failed_evaluations": len(full) - len(points),
        "partial_evaluations": len(journal) - len(full),
        "generations": len(generations),
    }


def run_cli(
    cmd: str, data: Any, method: str, seed: int, budget: float, jobs: int, grace: float
) -> Result:
    """One ``evosearch evolve`` run of ``method`` (``evosearch[:settings]`` or ``random``)."""
    base, _, settings = method.partition(":")
    flags = cli_flags(settings) + (["--strategy", "random"] if base == "random" else [])
    with tempfile.TemporaryDirectory(prefix="yardstick-") as tmp:
        out = Path(tmp) / "run"
        argv = [*shlex.split(cmd), "evolve", *data.cli_args(), "--seed", str(seed)]
        argv += ["--max-time", f"{budget:g}", "--generations", "1000000", "--n-jobs", str(jobs)]
        argv += ["--out", str(out), "--quiet", *flags]
        started, cpu = time.perf_counter(), _children_cpu()
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=budget + grace)
            status, tail = done.returncode, (done.stderr or done.stdout).strip()
        except subprocess.TimeoutExpired:
            status, tail = None, f"killed after {budget + grace:g} s"
        result = read_run(out)
        result["wall_s"] = time.perf_counter() - started
        result["cpu_s"] = _children_cpu() - cpu  # of a core: the share of the machine it had
        result["status"] = "ok" if status == 0 else "error"
        result["exit_status"] = status  # None: killed at budget + grace
        if status != 0:
            result["error"] = tail.splitlines()[-1] if tail else f"exit status {status}"
    return result


def _preprocess(dataset: Any, scale: bool):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [SimpleImputer(strategy="median")] + ([StandardScaler()] if scale else [])
    if dataset.columns is None:
        return make_pipeline(*numeric[1:]) if scale else "passthrough"
    kinds = {c.name: c.kind for c in dataset.columns}
    text = [n for n in dataset.feature_names if kinds.get(n) != "numeric"]
    numbers = [n for n in dataset.feature_names if kinds.get(n) == "numeric"]
    categorical = make_pipeline(
        SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
    )
    return ColumnTransformer(
        [("numeric", make_pipeline(*numeric), numbers), ("text", categorical, text)]
    )


def baseline_model(name: str, dataset: Any, seed: int, jobs: int):
    """scikit-learn's default model ``name`` behind the shared preprocessing."""
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.pipeline import Pipeline
    from sklearn.svm import SVC, SVR

    classify = dataset.task == "classification"
    model: Any
    if name == "rf":
        forest = RandomForestClassifier if classify else RandomForestRegressor
        model = forest(n_jobs=jobs, random_state=seed)
    elif name == "hgb":
        boost = HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor
        model = boost(random_state=seed)
    elif name == "svc":
        model = SVC() if classify else SVR()
    else:
        raise ValueError(f"unknown baseline {name!r}")
    steps = [("preprocess", _preprocess(dataset, scale=name == "svc")), ("model", model)]
    return Pipeline(steps)


def _cross_validate(name: str, dataset: Any, seed: int, jobs: int, cv: int, pipe: Any) -> None:
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    from evosearch.data.table import take_rows
    from evosearch.evaluation import make_folds

    # HistGradientBoosting's OpenMP threads and BLAS obey the same --jobs as everything else.
    with threadpool_limits(jobs):
        folds = make_folds(dataset.X, dataset.y, dataset.task, cv, seed, dataset.groups)
        scores = []
        for train, test in folds:
            model = clone(baseline_model(name, dataset, seed, jobs))
            model.fit(take_rows(dataset.X, train), dataset.y[train])
            scores.append(float(model.score(take_rows(dataset.X, test), dataset.y[test])))
    pipe.send(scores)


def run_baseline(name: str, dataset: Any, seed: int, budget: float, jobs: int, cv: int) -> Result:
    """Mean CV score of one default model, or a timeout if it needs more than ``budget``."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_cross_validate, args=(name, dataset, seed, jobs, cv, send))
    started, cpu = time.perf_counter(), _children_cpu()
    process.start()
    send.close()
    scores = None
    if receive.poll(budget):
        try:
            scores = receive.recv()
        except EOFError:  # the child died without an answer
            scores = None
    wall = time.perf_counter() - started
    if process.is_alive():
        process.kill()
    process.join()
    cpu = _children_cpu() - cpu
    if scores is None:
        timed_out = wall >= budget
        return {
            "status": "timeout" if timed_out else "error",
            "error": f"no result within {budget:g} s" if timed_out else "the process died",
            "score": None,
            "wall_s": wall,
            "cpu_s": cpu,
        }
    return {
        "status": "ok",
        "score": float(np.mean(scores)),
        "fold_scores": scores,
        "wall_s": wall,
        "cpu_s": cpu,
    }
