"""One run of ``peers.py``: one system on one data set and seed, in a process of its own.

``peers.py`` starts this file with the peer venv's Python (``--python``), one thread for every
math library (``OMP_NUM_THREADS`` and friends set to 1 in its environment), and kills its
process group at the budget plus a grace period::

    PY benchmarks/_peers_systems.py SYSTEM DATA SEED BUDGET OUT.json [--evosearch-generations N]

It splits the rows into a stratified 75 % (training) and the held-back 25 % (``random_state`` =
the seed), starts the clock, trains the system on the 75 % within the budget, and writes one
JSON object: held-back accuracy, the model's size, wall and fit seconds, and what the search did.

Systems (``SYSTEMS``):

* ``evosearch``: ``Evolver(genome, max_time=BUDGET, n_jobs=1, random_state=SEED,
  generations=N)`` with every other setting at its default; genome ``mlp`` for tables, ``cnn``
  for images (given as flat rows with ``input_shape="28x28"``). ``N``
  (``--evosearch-generations``, default 1,000,000) only makes the budget the stopping rule, as
  for the other searches. Bytes: the ``bytes`` objective of the refit best
  member (its float32 weight payload, what ``export`` writes to ``weights.bin``). After the
  record is written (outside ``fit_s``, ``cpu_s`` and peers.py's ``wall_s``), its front:
  every member of ``archive_`` (smallest first) refit as ``export --member`` refits it (the
  best is ``best_estimator_`` as fitted) and scored on the held-back rows, as the list
  ``front`` of {bytes, accuracy, cv_score, n_params}, rewritten after every member
  (``front_complete``, ``front_s``, ``front_started``, ``front_error`` where it stopped short).
* ``evosearch-ens``: the same with ``ensemble=True`` (out-of-fold predictions kept, ensemble
  selection over them when the search ends, the most accurate ensemble refit and predicting);
  bytes: its distinct members' ``bytes`` summed (``ensemble_members``: how many). Its
  ``front``: the members' front as above, then every ensemble of the run's ensemble front
  (``ensemble``: its distinct members), scored on the held-back rows the same way.
* ``evosearch-bag``: the same with ``bag_folds=True`` (the best member's model averages a refit
  from each of its CV fold networks); bytes: the bag's (the member's ``bytes`` times its
  refits, ``bag_folds``: how many). Its ``front``: the members' front, the best member as that
  bag.
* ``optuna``: Optuna's ``NSGAIISampler(seed=SEED)`` on two objectives, 3-fold CV accuracy
  (maximised) and parameter count (minimised), as evosearch's defaults, over scikit-learn's
  ``MLPClassifier(max_iter=200)`` with 1-3 hidden layers of 16/32/64/128/256 units,
  relu/tanh/logistic, ``alpha`` 1e-6..1e-1 and ``learning_rate_init`` 1e-4..1e-1 (log); the
  folds are stratified, shuffled with the seed. New trials stop once the elapsed time plus the
  refit's estimate (half the best trial's seconds) reaches the budget; the best-CV trial (fewer
  parameters on a tie) is refit on all training rows. Bytes: 4 per weight and bias (float32, as
  evosearch's).
* ``flaml``: ``flaml.AutoML().fit(X, y, task="classification", time_budget=BUDGET, n_jobs=1,
  seed=SEED, verbose=0)``: FLAML's defaults (its metric for more than two classes is log loss),
  on the raw table (it handles text columns and blanks itself). Bytes: the pickle of the best
  estimator it returns (``automl.model.estimator``).
* ``tpot``: ``tpot.TPOTClassifier(max_time_mins=BUDGET / 60, n_jobs=1, random_state=SEED,
  verbose=0)``, its defaults otherwise, behind the shared preprocessing below (TPOT 1.x takes
  numbers only). Bytes: the pickle of ``fitted_pipeline_``.
* ``rf`` / ``hgb``: ``RandomForestClassifier(n_jobs=1, random_state=SEED)`` and
  ``HistGradientBoostingClassifier(random_state=SEED)``, defaults otherwise, behind the shared
  preprocessing: no search, one fit. Bytes: the pickle of the fitted forest / booster.

The shared preprocessing of the scikit-learn systems: numeric columns median-imputed (and
standardised for the MLP), text columns most-frequent-imputed and one-hot encoded (unknown
categories ignored). ``pickle_bytes`` is, for every system, the pickle of the whole fitted
predictor as it was scored (preprocessing included).
"""

from __future__ import annotations

import argparse
import itertools
import json
import pickle
import resource
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

import numpy as np

SYSTEMS = ("evosearch", "optuna", "flaml", "tpot", "rf", "hgb", "evosearch-ens", "evosearch-bag")
# The ones that use the whole budget.
SEARCHES = ("evosearch", "optuna", "flaml", "tpot", "evosearch-ens", "evosearch-bag")


def _preprocess(X: Any, scale: bool):
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric_steps = [SimpleImputer(strategy="median")] + ([StandardScaler()] if scale else [])
    if not isinstance(X, pd.DataFrame):
        return make_pipeline(*numeric_steps)
    text = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    numbers = [c for c in X.columns if c not in text]
    categorical = make_pipeline(
        SimpleImputer(strategy="most_frequent"),
        OneHotEncoder(handle_unknown="ignore", sparse_output=False),
    )
    return ColumnTransformer(
        [("numeric", make_pipeline(*numeric_steps), numbers), ("text", categorical, text)]
    )


def _pickled(obj: Any) -> int:
    return len(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


# ------------------------------------------------------------------ the systems
def make_evolver(data, seed: int, budget: float, generations: int, **settings: Any) -> Any:
    """The record's ``Evolver`` for ``data``: defaults but ``max_time``, one job, the seed;
    ``settings``: any others (e.g. ``ensemble=True``)."""
    from evosearch import Evolver

    # Images go in as flat rows with their shape named (the command line's --input-shape):
    # Evolver.fit takes (n, 28, 28) arrays but its predict (2026-12-06) wants 2-D rows.
    return Evolver(
        genome="cnn" if data.images else "mlp",
        input_shape="x".join(map(str, data.X.shape[1:])) if data.images else None,
        max_time=budget,
        n_jobs=1,
        random_state=seed,
        generations=generations,
        **settings,
    )


def run_evosearch(
    data,
    X,
    y,
    seed: int,
    budget: float,
    generations: int,
    ensemble: bool = False,
    bag_folds: bool = False,
) -> dict[str, Any]:
    from evosearch.objectives.bytes import model_bytes
    from evosearch.space import Genome

    settings = {"bag_folds": True} if bag_folds else {}
    evolver = make_evolver(data, seed, budget, generations, ensemble=ensemble, **settings)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        evolver.fit(X, y)
    results = evolver.cv_results_
    scores = np.asarray(results.get("mean_test_score", []), dtype=float)
    budget_warnings = [str(w.message) for w in caught if "Budget" in type(w.message).__name__]
    record = getattr(evolver, "ensemble_record_", None) if ensemble else None
    bag = len(getattr(evolver.best_estimator_, "estimators", [None]))
    size = int(model_bytes(evolver.best_genome_)) * bag
    if record is not None:  # what predicts is the ensemble: its distinct members' bytes
        size = sum(
            int(model_bytes(Genome.from_json(record["models"][m["genome_hash"]]["genome"])))
            for m in record["members"]
        )
    return {
        "model": evolver,
        "bytes": size,
        "ensemble_members": None if record is None else len(record["members"]),
        "bag_folds": bag if bag_folds else None,
        "pickle_bytes": _pickled(evolver.best_estimator_),
        "n_params": int(evolver.best_genome_.n_params()),
        # Empty where max_time ended generation 0 (the best finished genome is returned).
        "cv_score": float(np.nanmax(scores)) if np.isfinite(scores).any() else None,
        "evaluations": len(scores),
        # Generations after the initial population; None: not even that one was finished.
        "generations": len(evolver.history_) - 1 if evolver.history_ else None,
        "deadline_reached": bool(evolver.deadline_reached_),
        "warnings": budget_warnings,
    }


def evosearch_front(evolver, X_test, y_test, fitted=None):
    """Every member of ``evolver.archive_`` (smallest first), refit on the training rows as
    ``export --member`` refits it and scored on the held-back rows: yields one dict a member,
    ``bytes`` (the same ``model_bytes`` as the record's), held-back ``accuracy``, ``cv_score``
    and ``n_params``. The best member is ``best_estimator_`` as fitted, not refit again;
    ``fitted`` (a dict) gets every member's model by hash."""
    from evosearch.evaluation import Fidelity
    from evosearch.objectives.bytes import model_bytes
    from evosearch.search.refit import refit_member
    from evosearch.space import Genome

    seed, cv = evolver.random_state, evolver.cv
    plan = evolver.fidelity_plan_
    capped = Fidelity(max_epochs=plan.max_epochs) if plan is not None and plan.max_epochs else None
    starts = getattr(evolver, "_refit_starts", {})  # private: set by fit, the CV networks
    score = evolver.archive_.objective("score")
    best = evolver.best_genome_.canonical_hash()
    # What Evolver.predict does to X before its best_estimator_ sees it (columns typed as in
    # training, images as flat rows): the same rows for every member.
    rows = evolver._features(X_test)
    for entry in evolver.archive_:
        genome = Genome.from_json(entry.genome)
        if entry.genome_hash == best:
            model = evolver.best_estimator_
        else:
            start = starts.get(entry.genome_hash)
            model = refit_member(entry, evolver.dataset_, seed, cv, capped, start)
        if fitted is not None:
            fitted[entry.genome_hash] = model
        refits = len(getattr(model, "estimators", [None]))  # bag_folds: the best is a bag
        yield {
            "bytes": int(model_bytes(genome)) * refits,
            "accuracy": _accuracy(model.predict(rows), y_test),
            "cv_score": float(entry.objectives[score]),
            "n_params": int(genome.n_params()),
        }


def evosearch_ensembles(evolver, X_test, y_test, fitted):
    """Every ensemble of the run's ensemble front (``ensemble_record_["front"]``, smallest
    first), scored on the held-back rows as ``export --ensemble`` would predict: one dict an
    ensemble, ``bytes`` and ``n_params`` summed over its distinct members, held-back
    ``accuracy``, its CV ``cv_score`` and ``ensemble`` (its distinct members). Members are the
    models of ``fitted`` (the members' front's refits, by hash) or of ``ensemble_`` as fitted;
    any other is refit from scratch (a run without a folder keeps no CV network of it)."""
    from evosearch.deploy import WeightedEnsemble
    from evosearch.evaluation import Fidelity
    from evosearch.objectives.bytes import model_bytes
    from evosearch.search.refit import refit
    from evosearch.space import Genome

    record = getattr(evolver, "ensemble_record_", None)
    if record is None:
        return
    best = evolver.ensemble_
    for entry, model in zip(record["members"], best.estimators, strict=True):
        fitted.setdefault(entry["genome_hash"], model)
    plan = evolver.fidelity_plan_
    capped = Fidelity(max_epochs=plan.max_epochs) if plan is not None and plan.max_epochs else None
    rows = evolver._features(X_test)
    for ensemble in record["front"]:
        hashes = [m["genome_hash"] for m in ensemble["members"]]
        genomes = [Genome.from_json(record["models"][h]["genome"]) for h in hashes]
        for genome_hash, genome in zip(hashes, genomes, strict=True):
            if genome_hash not in fitted:
                fitted[genome_hash] = refit(genome, genome_hash, evolver.dataset_,
                                            evolver.random_state, evolver.cv, capped)  # fmt: skip
        model = WeightedEnsemble([fitted[h] for h in hashes],
                                 [m["weight"] for m in ensemble["members"]])  # fmt: skip
        yield {
            "bytes": int(sum(model_bytes(g) for g in genomes)),
            "accuracy": _accuracy(model.predict(rows), y_test),
            "cv_score": float(ensemble["score"]),
            "n_params": int(sum(g.n_params() for g in genomes)),
            "ensemble": len(hashes),
        }


def _accuracy(predicted: Any, y_test: Any) -> float:
    predicted = np.asarray(predicted).ravel()
    return float(np.mean(predicted.astype(str) == np.asarray(y_test).astype(str)))


def _mlp_weights(model) -> int:
    mlp = model.steps[-1][1]
    return int(sum(w.size for w in mlp.coefs_) + sum(b.size for b in mlp.intercepts_))


def run_optuna(data, X, y, seed: int, budget: float, started: float) -> dict[str, Any]:
    import optuna
    from sklearn.base import clone
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore", ConvergenceWarning)
    folds = StratifiedKFold(3, shuffle=True, random_state=seed)
    prep = _preprocess(X, scale=True)
    width = clone(prep).fit_transform(X).shape[1]  # inputs after one-hot encoding
    n_out = len(np.unique(y))

    def build(params: dict) -> Pipeline:
        depth = params["depth"]
        layers = tuple(params[f"units{i}"] for i in range(depth))
        mlp = MLPClassifier(
            hidden_layer_sizes=layers,
            activation=params["activation"],
            alpha=params["alpha"],
            learning_rate_init=params["lr"],
            max_iter=200,
            random_state=seed,
        )
        return Pipeline([("preprocess", clone(prep)), ("mlp", mlp)])

    def size(params: dict) -> int:
        widths = [width, *(params[f"units{i}"] for i in range(params["depth"]))]
        widths.append(n_out if n_out > 2 else 1)
        return sum((a + 1) * b for a, b in itertools.pairwise(widths))

    def objective(trial):
        params = {"depth": trial.suggest_int("depth", 1, 3)}
        for i in range(params["depth"]):
            params[f"units{i}"] = trial.suggest_categorical(f"units{i}", [16, 32, 64, 128, 256])
        params["activation"] = trial.suggest_categorical("activation", ["relu", "tanh", "logistic"])
        params["alpha"] = trial.suggest_float("alpha", 1e-6, 1e-1, log=True)
        params["lr"] = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        accuracy = float(cross_val_score(build(params), X, y, cv=folds).mean())
        return accuracy, size(params)

    def best(study):
        done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        return max(done, key=lambda t: (t.values[0], -t.values[1])) if done else None

    def stop_in_time(study, trial) -> None:
        top = best(study)
        refit = 0.5 * top.duration.total_seconds() if top is not None else 0.0
        if time.perf_counter() - started + refit >= budget:
            study.stop()

    study = optuna.create_study(
        directions=["maximize", "minimize"], sampler=optuna.samplers.NSGAIISampler(seed=seed)
    )
    study.optimize(objective, timeout=budget, callbacks=[stop_in_time], n_jobs=1)
    top = best(study)
    if top is None:
        raise RuntimeError("no Optuna trial finished within the budget")
    model = build(top.params).fit(X, y)
    weights = _mlp_weights(model)
    return {
        "model": model,
        "bytes": 4 * weights,
        "pickle_bytes": _pickled(model),
        "n_params": weights,
        "cv_score": float(top.values[0]),
        "evaluations": len(study.trials),
        "best_params": top.params,
    }


def run_flaml(data, X, y, seed: int, budget: float) -> dict[str, Any]:
    from flaml import AutoML

    automl = AutoML()
    automl.fit(X, y, task="classification", time_budget=budget, n_jobs=1, seed=seed, verbose=0)
    return {
        "model": automl,
        "bytes": _pickled(automl.model.estimator),
        "pickle_bytes": _pickled(automl.model),
        # FLAML minimises a loss of its own metric (log loss for several classes, 1 - AUC for
        # two): a CV accuracy only where that metric is accuracy.
        "cv_loss": None if automl.best_loss is None else float(automl.best_loss),
        "metric": str(getattr(getattr(automl, "_state", None), "metric", None)),
        "best_estimator": automl.best_estimator,
        "evaluations": len(getattr(automl, "config_history", {}) or {}),
    }


class _Decoded:
    """A model fitted on label codes, predicting the labels."""

    def __init__(self, model: Any, encoder: Any) -> None:
        self.model, self.encoder = model, encoder

    def predict(self, X: Any) -> np.ndarray:
        return self.encoder.inverse_transform(np.asarray(self.model.predict(X)).astype(int))


def run_tpot(data, X, y, seed: int, budget: float) -> dict[str, Any]:
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import LabelEncoder
    from tpot import TPOTClassifier

    # TPOT encodes labels that are not 0..N-1 and predicts the codes: it gets the codes here.
    encoder = LabelEncoder().fit(y)
    tpot = TPOTClassifier(max_time_mins=budget / 60, n_jobs=1, random_state=seed, verbose=0)
    model = Pipeline([("preprocess", _preprocess(X, scale=False)), ("tpot", tpot)])
    model.fit(X, encoder.transform(y))
    fitted = tpot.fitted_pipeline_
    return {
        "model": _Decoded(model, encoder),
        "bytes": _pickled(fitted),
        "pickle_bytes": _pickled(model.steps[0][1]) + _pickled(fitted),
        "pipeline": str(fitted)[:300],
        "evaluations": _count(getattr(tpot, "evaluated_individuals", None)),
    }


def _count(table: Any) -> int | None:
    return None if table is None else len(table)


def run_default(name: str, data, X, y, seed: int) -> dict[str, Any]:
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.pipeline import Pipeline

    estimator = (
        RandomForestClassifier(n_jobs=1, random_state=seed)
        if name == "rf"
        else HistGradientBoostingClassifier(random_state=seed)
    )
    model = Pipeline([("preprocess", _preprocess(X, scale=False)), ("model", estimator)]).fit(X, y)
    return {"model": model, "bytes": _pickled(estimator), "pickle_bytes": _pickled(model)}


# ------------------------------------------------------------------ one run
def versions(system: str) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    names = {"evosearch": "evosearch", "evosearch-ens": "evosearch",
             "evosearch-bag": "evosearch", "optuna": "optuna",
             "flaml": "flaml", "tpot": "tpot"}  # fmt: skip
    out = {"scikit-learn": version("scikit-learn"), "numpy": version("numpy")}
    if system in names:
        try:
            out[names[system]] = version(names[system])
        except PackageNotFoundError:
            out[names[system]] = "missing"
    if system == "flaml":
        for extra in ("lightgbm", "xgboost"):
            try:
                out[extra] = version(extra)
            except PackageNotFoundError:
                pass
    return out


def run(
    system: str, data_name: str, seed: int, budget: float, generations: int, partial: dict
) -> tuple[dict[str, Any], Any]:
    """The run's record, and for evosearch the iterator of its front (else None): the front is
    refit after the record is written, outside ``fit_s``."""
    import _peers_data

    data, X_train, X_test, y_train, y_test = _peers_data.split(data_name, seed)
    record: dict[str, Any] = {
        "system": system,
        "data": data_name,
        "seed": seed,
        "budget": budget,
        "rows": data.rows,
        "train_rows": len(y_train),
        "test_rows": len(y_test),
        "classes": data.classes,
        "images": data.images,
        "versions": versions(system),
    }
    partial.update(record)
    started = time.perf_counter()
    if system == "evosearch":
        out = run_evosearch(data, X_train, y_train, seed, budget, generations)
    elif system == "evosearch-ens":
        out = run_evosearch(data, X_train, y_train, seed, budget, generations, ensemble=True)
    elif system == "evosearch-bag":
        out = run_evosearch(data, X_train, y_train, seed, budget, generations, bag_folds=True)
    elif system == "optuna":
        out = run_optuna(data, X_train, y_train, seed, budget, started)
    elif system == "flaml":
        out = run_flaml(data, X_train, y_train, seed, budget)
    elif system == "tpot":
        out = run_tpot(data, X_train, y_train, seed, budget)
    elif system in ("rf", "hgb"):
        out = run_default(system, data, X_train, y_train, seed)
    else:
        raise ValueError(f"unknown system {system!r}")
    record["fit_s"] = time.perf_counter() - started
    model = out.pop("model")
    record["accuracy"] = _accuracy(model.predict(X_test), y_test)
    record.update(out)
    record["status"] = "ok"
    bare = system in ("evosearch", "evosearch-bag")
    front = evosearch_front(model, X_test, y_test) if bare else None
    if system == "evosearch-ens":  # the members' front, then the ensemble front
        fitted: dict[str, Any] = {}
        front = itertools.chain(evosearch_front(model, X_test, y_test, fitted),
                                evosearch_ensembles(model, X_test, y_test, fitted))  # fmt: skip
    return record, front


def _usage() -> tuple[float, float]:
    """Peak memory (MB) and CPU seconds of this process, the children it waited for and the
    ones still alive (a worker pool kept for reuse: getrusage counts a child only once it is
    reaped)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = max(usage.ru_maxrss, children.ru_maxrss) / 1024
    cpu = usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime
    return peak, cpu + _live_children_cpu()


def _live_children_cpu() -> float:
    try:
        import psutil
    except ImportError:  # the figure then misses live workers, as before
        return 0.0
    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.Error:  # it ended meanwhile: reaped, so getrusage has it
            continue
        total += times.user + times.system
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="one peers.py run (see its docstring)")
    parser.add_argument("system", choices=SYSTEMS)
    parser.add_argument("data")
    parser.add_argument("seed", type=int)
    parser.add_argument("budget", type=float)
    parser.add_argument("out", type=Path)
    parser.add_argument("--evosearch-generations", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    partial: dict[str, Any] = {}  # what run() knew before it failed: rows, classes, versions
    front = None
    try:
        record, front = run(
            args.system, args.data, args.seed, args.budget, args.evosearch_generations, partial
        )
    except BaseException as error:  # every failure is a result of the benchmark
        record = {
            **partial,
            "system": args.system,
            "data": args.data,
            "seed": args.seed,
            "budget": args.budget,
            "status": "skipped" if isinstance(error, ImportError) else "error",
            "error": f"{type(error).__name__}: {error}"[:500],
            "traceback": traceback.format_exc()[-2000:],
        }
    # This process and the children it waited for (peers.py's own figure when sequential).
    record["peak_rss_mb"], record["cpu_s"] = _usage()
    _write(args.out, record)
    if front is None:
        return 0
    # evosearch's front, after the record: rewritten after every member, so that a run killed
    # meanwhile keeps its record and the members done ("front_complete" false). peers.py ends
    # the run's wall_s at front_started (a time.time()); cpu_s above is before the front too.
    started, cpu = time.perf_counter(), record["cpu_s"]
    record.update(front=[], front_complete=False, front_started=time.time(), front_s=0.0)
    try:
        for member in front:
            record["front"].append(member)
            record["front_s"] = time.perf_counter() - started
            record["front_cpu_s"] = _usage()[1] - cpu
            _write(args.out, record)
        record["front_complete"] = True
    except Exception as error:  # the record stands; the front says why it is short
        record["front_error"] = f"{type(error).__name__}: {error}"[:500]
    record["front_s"] = time.perf_counter() - started
    record["front_cpu_s"] = _usage()[1] - cpu
    _write(args.out, record)
    return 0


def _write(path: Path, record: dict[str, Any]) -> None:
    """``record`` as JSON at ``path``, whole or not at all (peers.py may kill this process)."""
    partial = path.with_name(path.name + ".part")
    partial.write_text(json.dumps(record, default=str))
    partial.replace(path)


if __name__ == "__main__":
    sys.exit(main())
