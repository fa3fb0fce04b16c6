"""Issue 8's MLPClassifier baselines of ``search_quality.py``: random search and Optuna NSGA-II.

* ``sklearn-random``: random search over scikit-learn's MLPClassifier (1-3 hidden layers of
  16-256 units, relu/tanh/logistic, alpha and learning rate log-uniform, 200 iterations);
* ``optuna-nsga2``: Optuna's NSGA-II over the same space on (accuracy, parameter count), when
  optuna is installed (the ``bench`` extra).

Both score on 3-fold stratified CV shuffled with the seed (evosearch's folds for a numeric
matrix) and run on plain numeric classification data only.
"""

from __future__ import annotations

import itertools
import time
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

Points = list[tuple[float, int]]  # (mean CV accuracy, parameter count) of every evaluated model


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


def run_sklearn_random(X, y, seed: int, budget: float, jobs: int = 1) -> Points:
    rng = np.random.default_rng(seed)
    n_out = len(np.unique(y))
    points: Points = []
    deadline = time.perf_counter() + budget
    with Parallel(n_jobs=jobs) as parallel:
        while time.perf_counter() < deadline:
            batch = [_sample_mlp(rng) for _ in range(4)]
            scores = parallel(delayed(_score_mlp)(p, X, y, seed) for p in batch)
            points += [
                (s, _mlp_params(p["hidden_layer_sizes"], X.shape[1], n_out))
                for p, s in zip(batch, scores, strict=True)
            ]
    return points


def run_optuna_nsga2(X, y, seed: int, budget: float, jobs: int = 1) -> Points | None:
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
    study.optimize(objective, timeout=budget, n_jobs=jobs)
    return points


MLP_METHODS = {"sklearn-random": run_sklearn_random, "optuna-nsga2": run_optuna_nsga2}
