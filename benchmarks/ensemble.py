"""Ensembles of the front (issue 34): does the ensemble front beat the members' front?

For each data set a quarter of the rows is held back (stratified for classification, seeded),
one ``Evolver(ensemble=True)`` searches the rest, and the script prints the best single
model's CV score beside the most accurate ensemble's, then the ensemble front with, at each
size, the CV and held-back scores of the ensemble and of the most accurate archive member no
larger (everything refit on all search rows, members from their CV networks as ``export``
does). It also prints what ensembles cost: the selection (``ensemble.json``) and the extra
refits, against the search's own time::

    .venv/bin/python benchmarks/ensemble.py                 # iris wine breast_cancer diabetes
    .venv/bin/python benchmarks/ensemble.py digits --population 16 --generations 8
    .venv/bin/python benchmarks/ensemble.py digits --genome cnn
    .venv/bin/python benchmarks/ensemble.py synth16k --seed 1  # a large table, fidelity plan
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sklearn import datasets
from sklearn.model_selection import train_test_split

from evosearch import Evolver
from evosearch.evaluation import Fidelity
from evosearch.search.ensemble_run import refit_ensemble
from evosearch.search.inheritance import read_weights, refit_start
from evosearch.search.refit import refit_member


def _synth(rows: int):
    """``_bench_data``'s generated table of ``rows`` rows (4 classes, 20 features), in memory."""

    def load(return_X_y: bool = True):
        return datasets.make_classification(
            n_samples=rows, n_features=20, n_informative=8, n_redundant=4, n_classes=4,
            flip_y=0.05, class_sep=0.8, random_state=16 + rows,
        )  # fmt: skip

    return load


LOADERS = {
    # 16,000 rows: 12,000 searched, past the 10,000 rows from which a fidelity plan applies.
    "synth16k": _synth(16_000),
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
    "digits": datasets.load_digits,
    "diabetes": datasets.load_diabetes,
}


def _held_score(model, X, y, task):
    from sklearn.metrics import accuracy_score, r2_score

    predictions = model.predict(X)
    return accuracy_score(y, predictions) if task == "classification" else r2_score(y, predictions)


def bench(
    name: str, population: int, generations: int, seed: int, n_jobs: int, genome: str = "mlp"
) -> None:
    X, y = LOADERS[name](return_X_y=True)
    task = "regression" if name == "diabetes" else "classification"
    X, X_held, y, y_held = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=y if task == "classification" else None
    )
    with tempfile.TemporaryDirectory() as scratch:
        run = Path(scratch) / "run"
        evolver = Evolver(
            population_size=population,
            generations=generations,
            random_state=seed,
            n_jobs=n_jobs,
            ensemble=True,
            out=run,
            genome=genome,
            # cnn on scikit-learn's flat digits: 8x8 images
            input_shape="8x8" if genome == "cnn" else None,
        )
        started = time.perf_counter()
        evolver.fit(X, y)
        total = time.perf_counter() - started
        search = sum(record.seconds for record in evolver.history_)
        record = evolver.ensemble_record_
        single = record["best_single"]
        print(
            f"{name} ({evolver.space_.name} genomes): {X.shape[0]} search rows, "
            f"{len(y_held)} held back; search {search:.1f} s, "
            f"fit {total:.1f} s in all; {record['candidates']} models with out-of-fold "
            "predictions"
        )
        print(
            f"  CV: best single {single['score']:.4f}, most accurate ensemble "
            f"{record['score']:.4f} ({len(record['members'])} models)"
        )
        dataset = evolver.dataset_
        seed_, cv = evolver.random_state, evolver.cv
        cap = evolver.fidelity_plan_.max_epochs if evolver.fidelity_plan_ else None
        fidelity = Fidelity(max_epochs=cap) if cap else None

        def start(genome_hash, fold_scores):
            return refit_start(read_weights(run, genome_hash), fold_scores)

        members = sorted(evolver.archive_, key=lambda e: e.objectives[1])
        print(f"  {'size':>10}  {'ens CV':>7}  {'ens held':>8}  {'k':>2}  |  "
              f"{'member CV':>9}  {'member held':>11}  member size")  # fmt: skip
        refit_seconds = 0.0
        for entry in record["front"]:
            size = entry["objectives"][list(entry["objectives"])[1]]
            tick = time.perf_counter()
            model = refit_ensemble({**entry, "models": record["models"]}, dataset, seed_, cv,
                                   fidelity, start)  # fmt: skip
            refit_seconds += time.perf_counter() - tick
            held = _held_score(model, X_held, y_held, task)
            fitting = [m for m in members if m.objectives[1] <= size] or members[:1]
            best = max(fitting, key=lambda m: m.objectives[0])
            member = refit_member(best, dataset, seed_, cv, fidelity,
                                  start(best.genome_hash, best.fold_scores))  # fmt: skip
            member_held = _held_score(member, X_held, y_held, task)
            print(
                f"  {size:>10,.0f}  {entry['score']:>7.4f}  {held:>8.4f}  "
                f"{len(entry['members']):>2}  |  {best.objectives[0]:>9.4f}  {member_held:>11.4f}"
                f"  {best.objectives[1]:,.0f}"
            )
        print(f"  refitting the front's ensembles took {refit_seconds:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="*", default=["iris", "wine", "breast_cancer", "diabetes"])
    parser.add_argument("--population", type=int, default=12)
    parser.add_argument("--generations", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--genome", default="mlp", help="mlp, or cnn (digits only: 8x8 images)")
    args = parser.parse_args()
    for name in args.data:
        bench(name, args.population, args.generations, args.seed, args.n_jobs, args.genome)


if __name__ == "__main__":
    main()
