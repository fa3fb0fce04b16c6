"""Search quality at equal wall-clock budgets: evosearch, random genomes, scikit-learn defaults.

Issue 16's yardstick (issue 8's table, tougher). For each dataset x budget x method x seed, one
run with the same wall-clock budget on this machine; the table gives medians over the seeds
with [min-max]. Methods (``--methods``):

* ``evosearch``: ``evosearch evolve --max-time BUDGET`` with its defaults, through the CLI of
  any checkout (``--python`` / ``--evosearch-cmd``, so main's code can be measured against a
  branch); ``evosearch:KEY=VALUE,...`` passes settings as CLI flags (``halving=true`` ->
  ``--halving``, ``population_size=32`` -> ``--population 32``, ``inherit_weights=false`` ->
  ``--no-inherit-weights``, ``some_option=x`` -> ``--some-option x``; a value with commas in
  double quotes: ``'evosearch:fidelity="rows=0.1,factor=4"'``);
* ``random``: the same with ``--strategy random`` (random genomes of the same space);
* ``rf``, ``hgb``, ``svc``: ``RandomForestClassifier()``, ``HistGradientBoostingClassifier()``,
  ``SVC()`` on standardised features (regressors for a regression target), cross-validated on
  evosearch's own folds (``evosearch.evaluation.make_folds``: stratified k-fold shuffled with the
  run seed), killed and reported as a timeout if they need more than the budget;
* ``sklearn-random``, ``optuna-nsga2``: issue 8's MLPClassifier searches (numeric data only).

Figures: best mean CV score (accuracy, R² for regression); for the evosearch methods also the
hypervolume of the full-fidelity evaluations (issue 8: the (1 - score, log10(params) / 6) front
against (1, 1)), the run's own hypervolume (``generations.jsonl``), full-fidelity evaluations
and generations, read from the run folder; wall seconds (the CLI's includes start-up, data
loading and the final refit, which ``--max-time`` does not cover) and the CPU seconds the run's
processes got (on a shared machine, how much of a core the run really had). ``--jobs``
(default 1) is evosearch's ``--n-jobs`` and the baselines' own ``n_jobs`` / thread limit.

Every run is appended to a JSON file (``--json``) as it finishes; ``--from-json A.json B.json``
prints the table of earlier runs. Datasets: see ``_bench_data.py`` (diamonds needs the
``bench`` extra). Examples::

    python benchmarks/search_quality.py --quick
    nice -n 10 python benchmarks/search_quality.py --budgets 60 --methods evosearch random rf
    python benchmarks/search_quality.py --datasets diamonds --budgets 90 \\
        --methods evosearch evosearch:population_size=32 --python /path/to/checkout/.venv/bin/python
"""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import _bench_data
from _common import load_average, machine_line
from _mlp_baselines import MLP_METHODS
from _yardstick import BASELINES, hypervolume, run_baseline, run_cli

DEFAULT_METHODS = ["evosearch", "random", *BASELINES]


def check_method(name: str) -> str:
    base, _, settings = name.partition(":")
    if base not in ("evosearch", "random", *BASELINES, *MLP_METHODS):
        raise argparse.ArgumentTypeError(f"unknown method {name!r}")
    if settings and base not in ("evosearch", "random"):
        raise argparse.ArgumentTypeError(f"{base} takes no settings")
    return name


def run_one(args: argparse.Namespace, data: Any, dataset: Any, method: str, seed: int,
            budget: float) -> dict[str, Any]:  # fmt: skip
    base = method.partition(":")[0]
    if base in ("evosearch", "random"):
        grace = args.grace if args.grace is not None else budget + 60
        return run_cli(args.evosearch_cmd, data, method, seed, budget, args.jobs, grace)
    if base in BASELINES:
        return run_baseline(base, dataset, seed, budget, args.jobs, args.cv)
    if dataset.columns is not None or dataset.task != "classification":
        return {"status": "skipped", "error": "numeric classification data only", "score": None}
    started = time.perf_counter()
    points = MLP_METHODS[base](dataset.X, dataset.y, seed, budget, args.jobs)
    if points is None:
        return {"status": "skipped", "error": "optuna is not installed", "score": None}
    return {
        "status": "ok",
        "score": max((s for s, _ in points), default=None),
        "hypervolume": hypervolume(points),
        "full_evaluations": len(points),
        "wall_s": time.perf_counter() - started,
    }


def _spread(values: list[float], digits: int, seeds: int) -> str:
    """Median [min-max]; "(k of n seeds)" where only k runs have the figure."""
    if not values:
        return "—"
    text = f"{statistics.median(values):.{digits}f}"
    if len(values) > 1 and min(values) != max(values):
        text += f" [{min(values):.{digits}f}-{max(values):.{digits}f}]"
    return text + (f" ({len(values)} of {seeds} seeds)" if len(values) < seeds else "")


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.1f}" if values else "—"


def _why(run: dict[str, Any]) -> str:
    """A short reason for a run that did not end normally."""
    error = run.get("error") or ""
    if "before the initial population" in error:
        return "no model: generation 0 unfinished"
    if error.startswith("killed after") and run.get("full_evaluations"):
        return "killed after the search (in the refit)"
    return run["status"] + (f" ({error[:60]})" if error and run["status"] != "timeout" else "")


def table(runs: list[dict[str, Any]]) -> str:
    """Markdown table: one row per dataset x budget x method, medians over seeds [min-max]."""
    lines = [
        "| dataset | rows | budget s | method | seeds | best CV score | hypervolume | "
        "run HV | full evals | gens | wall s | cpu s | not ok |",
        "|---|---:|---:|---|---:|---|---|---|---|---:|---:|---:|---|",
    ]
    keys: list[tuple[str, float, str]] = []
    for run in runs:
        key = (run["dataset"], run["budget"], run["method"])
        if key not in keys:
            keys.append(key)
    for dataset, budget, method in keys:
        group = [
            r for r in runs if (r["dataset"], r["budget"], r["method"]) == (dataset, budget, method)
        ]

        def column(field: str, rows: list[dict[str, Any]] = group) -> list[float]:
            return [r[field] for r in rows if r.get(field) is not None]

        reasons = {r["seed"]: _why(r) for r in group if r["status"] != "ok"}
        if len(reasons) == len(group) > 1 and len(set(reasons.values())) == 1:
            problems = [f"every seed: {next(iter(reasons.values()))}"]
        else:
            problems = [f"seed {seed}: {why}" for seed, why in reasons.items()]
        evals, n = column("full_evaluations"), len(group)
        gens = column("generations")
        lines.append(
            f"| {dataset} | {group[0].get('rows', '')} | {budget:g} | {method} | {len(group)} | "
            f"{_spread(column('score'), 4, n)} | {_spread(column('hypervolume'), 4, n)} | "
            f"{_spread(column('run_hypervolume'), 4, n)} | {_spread(evals, 0, n)} | "
            f"{statistics.median(gens) if gens else '—'} | "
            f"{statistics.median(column('wall_s')):.1f} | {_median(column('cpu_s'))} | "
            f"{'; '.join(problems)} |"
        )
    return "\n".join(lines)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=_bench_data.NAMES,
                        choices=_bench_data.NAMES)  # fmt: skip
    parser.add_argument("--budgets", nargs="+", type=float, default=[60.0, 300.0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (3)")
    parser.add_argument("--methods", nargs="+", type=check_method, default=DEFAULT_METHODS,
                        help="evosearch, evosearch:KEY=VALUE,..., random, rf, hgb, svc, "
                        "sklearn-random, optuna-nsga2")  # fmt: skip
    parser.add_argument("--jobs", type=int, default=1, help="cores per method run (1)")
    parser.add_argument("--cv", type=int, default=3, help="folds, as evosearch's --cv (3)")
    parser.add_argument("--python", help="run evosearch as PYTHON -m evosearch.cli")
    parser.add_argument("--evosearch-cmd", help="the evosearch command (default: this Python's)")
    parser.add_argument("--grace", type=float, default=None,
                        help="seconds a CLI run may take past its budget (start-up, loading, "
                        "refit) before it is killed (default: budget + 60)")  # fmt: skip
    parser.add_argument("--json", help="append the raw runs here (default: a timestamped file)")
    parser.add_argument("--data-dir", type=Path, default=_bench_data.DEFAULT_CACHE)
    parser.add_argument("--quick", action="store_true",
                        help="breast_cancer, one seed, a 10 s budget")  # fmt: skip
    parser.add_argument("--from-json", nargs="+", metavar="FILE",
                        help="only print the table of these earlier result files")  # fmt: skip
    args = parser.parse_args(argv)
    if args.quick:
        args.datasets, args.seeds, args.budgets = ["breast_cancer"], 1, [10.0]
    if args.evosearch_cmd is None:
        python = args.python or sys.executable
        args.evosearch_cmd = f"{shlex.quote(python)} -m evosearch.cli"
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    args = parse(argv)
    if args.from_json:
        runs = [r for f in args.from_json for r in json.loads(Path(f).read_text())["runs"]]
        print(table(runs))
        return runs
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = Path(args.json or f"search_quality-{stamp}.json")
    record: dict[str, Any] = {
        "machine": machine_line(),
        "started": stamp,
        "argv": sys.argv if argv is None else ["search_quality.py", *argv],
        "evosearch_cmd": args.evosearch_cmd,
        "jobs": args.jobs,
        "cv": args.cv,
        "runs": [],
    }
    if out.exists():  # append to an earlier record of the same file
        record["runs"] = json.loads(out.read_text())["runs"]
    print(record["machine"], flush=True)
    print(f"evosearch: {args.evosearch_cmd}; --jobs {args.jobs}; results -> {out}", flush=True)
    for name in args.datasets:
        data = _bench_data.get(name, args.data_dir)
        dataset = data.load()
        for budget in args.budgets:
            for method in args.methods:
                for seed in range(args.seeds):
                    load_before = load_average()
                    result = run_one(args, data, dataset, method, seed, budget)
                    run = {"dataset": name, "rows": dataset.n_samples, "budget": budget,
                           "method": method, "seed": seed, **result,
                           "load_before": load_before, "load_after": load_average(),
                           "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(
                               timespec="seconds")}  # fmt: skip
                    record["runs"].append(run)
                    out.write_text(json.dumps(record, indent=1) + "\n")
                    score = "—" if run["score"] is None else f"{run['score']:.4f}"
                    print(f"{name} {budget:g}s {method} seed {seed}: {run['status']} "
                          f"score {score} evals {run.get('full_evaluations', '—')} "
                          f"wall {run.get('wall_s', 0):.1f}s load {load_before}"
                          + (f" ({run['error']})" if run.get("error") else ""),
                          flush=True)  # fmt: skip
    print()
    print(table(record["runs"]))
    return record["runs"]


if __name__ == "__main__":
    main()
