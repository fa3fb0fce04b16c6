"""Search quality per CPU-minute: evosearch against baselines under one wall-clock budget.

For each dataset and seed, every method gets the same wall-clock budget on this machine (both
cores), and we record every model it evaluated. Figures, as defined in the project's issue 8:

* best CV accuracy (3-fold stratified, standardised features);
* hypervolume of the (error = 1 - accuracy, log10(parameter count) / 6) front of all evaluated
  models against the reference point (1, 1) (both coordinates minimised);
* evaluations made and wall time used.

Methods:

* ``evosearch``: the Evolver with its defaults (population 16), stopped at the budget;
* ``random-genomes``: random genomes of the same search space, same trainer and evaluator (the
  honest baseline for the engine: same models, no evolution);
* ``sklearn-random``: random search over scikit-learn's MLPClassifier (1-3 hidden layers of
  16-256 units, relu/tanh/logistic, alpha and learning rate log-uniform, 200 iterations);
* ``optuna-nsga2``: Optuna's NSGA-II over the same MLPClassifier space on (accuracy,
  parameter count), when optuna is installed (``pip install optuna``).

Run: ``python benchmarks/search_quality.py`` (3 datasets x 3 seeds x 60 s per method), or
``--quick`` (digits only, one seed, 20 s).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import math
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from _common import machine_line
from joblib import Parallel, delayed
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from evosearch import Evolver, Genome, SearchSpace
from evosearch.evaluation import DeadlineReached, Evaluator
from evosearch.search.archive import hypervolume_2d

LOADERS = {"digits": load_digits, "wine": load_wine, "breast_cancer": load_breast_cancer}
Points = list[tuple[float, int]]  # (mean CV accuracy, parameter count) of every evaluated model


def hypervolume(points: Points) -> float:
    """Issue 8's definition, computed as maximisation of (accuracy, 1 - log10(params) / 6)."""
    mapped = np.array(
        [
            (min(max(acc, 0.0), 1.0), min(max(1.0 - math.log10(max(p, 1)) / 6.0, 0.0), 1.0))
            for acc, p in points
        ]
    )
    return float(hypervolume_2d(mapped, (0.0, 0.0))) if len(mapped) else 0.0


def run_evosearch(X, y, seed: int, budget: float, **settings) -> Points:
    """The Evolver stopped by its own ``max_time`` at the budget (mid-generation if need be)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "run"
        Evolver(
            generations=10_000, random_state=seed, n_jobs=-1, max_time=budget, out=out, **settings
        ).fit(X, y)
        journal = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    # Successive halving's first-fold scores are not cross-validated models: left out.
    return [
        (e["score"], e["n_params"])
        for e in journal
        if e["error"] is None and e.get("folds") is None
    ]


def run_random_genomes(X, y, seed: int, budget: float) -> Points:
    space = SearchSpace.load("mlp")
    rng = np.random.default_rng(seed)
    evaluator = Evaluator(X, y, "classification", cv=3, n_jobs=-1, seed=seed)
    n_classes = len(np.unique(y))
    points: Points = []

    def keep(genome: Genome, result) -> None:
        if result.ok:
            points.append((result.score, result.n_params))

    deadline = time.monotonic() + budget
    try:
        while True:
            batch = [Genome.random(space, X.shape[1], n_classes, rng) for _ in range(16)]
            evaluator.evaluate(batch, on_result=keep, deadline=deadline)
    except DeadlineReached:
        return points


def _sample_mlp(rng: np.random.Generator) -> dict:
    layers = tuple(int(rng.choice([16, 32, 64, 128, 256])) for _ in range(rng.integers(1, 4)))
    return {
        "hidden_layer_sizes": layers,
        "activation": str(rng.choice(["relu", "tanh", "logistic"])),
        "alpha": float(10 ** rng.uniform(-6, -1)),
        "learning_rate_init": float(10 ** rng.uniform(-4, -1)),
    }


def _mlp_params(layers: tuple[int, ...], n_in: int, n_out: int) -> int:
    widths = [n_in, *layers, n_out if n_out > 2 else 1]
    return sum((a + 1) * b for a, b in itertools.pairwise(widths))


def _score_mlp(params: dict, X, y, seed: int) -> float:
    # MLPClassifier warns whenever 200 iterations do not converge: noise in a benchmark table.
    warnings.simplefilter("ignore", ConvergenceWarning)
    with threadpool_limits(1):
        model = make_pipeline(
            StandardScaler(), MLPClassifier(max_iter=200, random_state=seed, **params)
        )
        cv = StratifiedKFold(3, shuffle=True, random_state=seed)
        return float(cross_val_score(model, X, y, cv=cv).mean())


def run_sklearn_random(X, y, seed: int, budget: float) -> Points:
    rng = np.random.default_rng(seed)
    n_out = len(np.unique(y))
    points: Points = []
    deadline = time.perf_counter() + budget
    with Parallel(n_jobs=-1) as parallel:
        while time.perf_counter() < deadline:
            batch = [_sample_mlp(rng) for _ in range(4)]
            scores = parallel(delayed(_score_mlp)(p, X, y, seed) for p in batch)
            points += [
                (s, _mlp_params(p["hidden_layer_sizes"], X.shape[1], n_out))
                for p, s in zip(batch, scores, strict=True)
            ]
    return points


def run_optuna_nsga2(X, y, seed: int, budget: float) -> Points | None:
    try:
        import optuna
    except ImportError:
        return None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    n_out = len(np.unique(y))
    points: Points = []

    def objective(trial):
        depth = trial.suggest_int("depth", 1, 3)
        layers = tuple(
            trial.suggest_categorical(f"units{i}", [16, 32, 64, 128, 256]) for i in range(depth)
        )
        params = {
            "hidden_layer_sizes": layers,
            "activation": trial.suggest_categorical("activation", ["relu", "tanh", "logistic"]),
            "alpha": trial.suggest_float("alpha", 1e-6, 1e-1, log=True),
            "learning_rate_init": trial.suggest_float("lr", 1e-4, 1e-1, log=True),
        }
        accuracy = _score_mlp(params, X, y, seed)
        size = _mlp_params(layers, X.shape[1], n_out)
        points.append((accuracy, size))
        return accuracy, size

    study = optuna.create_study(
        directions=["maximize", "minimize"], sampler=optuna.samplers.NSGAIISampler(seed=seed)
    )
    study.optimize(objective, timeout=budget, n_jobs=2)
    return points


METHODS: dict[str, Callable] = {
    "evosearch": run_evosearch,
    "random-genomes": run_random_genomes,
    "sklearn-random": run_sklearn_random,
    "optuna-nsga2": run_optuna_nsga2,
}


def _setting(text: str) -> object:
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def method_runner(name: str) -> Callable:
    """A method by name; ``evosearch:key=value,...`` is evosearch with other settings."""
    base, _, options = name.partition(":")
    if base not in METHODS:
        raise argparse.ArgumentTypeError(f"unknown method {name!r}")
    if not options:
        return METHODS[base]
    if base != "evosearch":
        raise argparse.ArgumentTypeError("only evosearch takes settings")
    settings = dict(item.split("=", 1) for item in options.split(","))
    return functools.partial(
        run_evosearch, **{key: _setting(value) for key, value in settings.items()}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="digits, one seed, 20 s budget")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per method run")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--datasets", nargs="+", default=list(LOADERS), choices=list(LOADERS))
    parser.add_argument(
        "--methods",
        nargs="+",
        default=list(METHODS),
        help=f"any of {', '.join(METHODS)}; evosearch:key=value,... runs evosearch with other "
        "Evolver settings, e.g. evosearch:halving=true,strategy=aging",
    )
    args = parser.parse_args()
    if args.quick:
        args.budget, args.seeds, args.datasets = 20.0, 1, ["digits"]
    for method in args.methods:
        try:
            method_runner(method)
        except (argparse.ArgumentTypeError, ValueError) as exc:
            parser.error(str(exc))
    width = max(16, *(len(m) + 2 for m in args.methods))
    print(machine_line())
    print(f"budget {args.budget:g} s per run, seeds 0..{args.seeds - 1}; medians over seeds\n")
    header = f"{'dataset':<14}{'method':<{width}}"
    header += f"{'best acc':>9}{'hypervol':>10}{'evals':>7}{'wall s':>8}"
    print(header)
    print("-" * len(header))
    for name in args.datasets:
        X, y = LOADERS[name](return_X_y=True)
        for method in args.methods:
            rows = []
            for seed in range(args.seeds):
                started = time.perf_counter()
                points = method_runner(method)(X, y, seed, args.budget)
                if points is None:
                    break
                wall = time.perf_counter() - started
                best = max((acc for acc, _ in points), default=float("nan"))
                rows.append((best, hypervolume(points), len(points), wall))
            if not rows:
                print(f"{name:<14}{method:<{width}}  (skipped: optuna is not installed)")
                continue
            best, hv, n, wall = (statistics.median(column) for column in zip(*rows, strict=True))
            print(
                f"{name:<14}{method:<{width}}{best:>9.4f}{hv:>10.4f}{n:>7.0f}{wall:>8.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
