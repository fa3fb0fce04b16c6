"""Held-back accuracy of ``Evolver`` variants on the record's splits: is a setting worth a default?

Each variant is run once per data set and seed exactly as ``peers.py`` runs evosearch (its
split: stratified 75 % to train, 25 % held back, by the seed; its ``Evolver``: defaults but
``max_time=BUDGET``, one job, the seed), each in a process of its own with one math thread.
A variant is one of:

* ``default``: the record's ``Evolver``;
* ``scale=A+B+...``: the mlp preset with the ``scale`` gene searched over those scalers (a
  copy of ``genomes/mlp.toml`` with ``[preprocessing] scale`` set, written to a temporary
  folder);
* ``fidelity=KEY=VALUE,...``: the ``fidelity`` setting, e.g. ``fidelity=min_rows=4000``;
* ``ple=N``: the numeric columns replaced, before the search, by a piecewise-linear encoding
  over ``N`` quantile bins of the training rows (Gorishniy et al. 2022, "On embeddings for
  numerical features in tabular deep learning"): a prototype measured outside the engine;
* ``spikes=SHARE``: each numeric column whose most frequent value on the training rows holds
  at least ``SHARE`` of them (and which has 20 or more distinct values: a measurement with a
  point mass, such as a rainfall of exactly 0, not a column of a few levels) gets a 0/1 column
  ``value == that value`` beside it, before the search: the prototype of the ``point_mass``
  gene, measured outside the engine (the engine also asks the value for three times the next
  value's rows; on the record's tables both pick the same columns);
* ``point_mass=CHOICE``: the mlp preset with ``point_mass = [CHOICE]`` (``none``: the gene off,
  as before it existed; ``indicator`` is the preset's own).

Printed: one line per run (held-back accuracy, best CV score, evaluations, generations, the
best member's parameters and preprocessing genes), then the median held-back accuracy per data
set and variant, and each variant's mean gain over ``default`` on the same (data, seed).
Run with the peers' venv (its packages carry the data sets)::

    /tmp/peers-venv/bin/python benchmarks/search_settings.py --data weather fair \\
        --seeds 0 1 2 3 --variants default scale=standard+quantile --parallel 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _peers_data
from _common import machine_line, run_each
from _peers_systems import make_evolver

PRESET = Path(__file__).resolve().parents[1] / "genomes" / "mlp.toml"


def scaled_space(scalers: list[str], folder: Path, gene: str = "scale") -> Path:
    """A copy of the mlp preset whose ``gene`` (``scale``) is searched over ``scalers``."""
    lines = PRESET.read_text(encoding="utf-8").splitlines()
    values = ", ".join(f'"{s}"' for s in scalers)
    out = [f"{gene} = [{values}]" if line.startswith(f"{gene} = ") else line for line in lines]
    out = [f'name = "mlp-{gene}"' if line.startswith("name = ") else line for line in out]
    path = folder / f"mlp-{gene}.toml"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def piecewise_linear(train: Any, test: Any, bins: int) -> tuple[Any, Any]:
    """Numeric columns -> one column per quantile bin of the training rows: 0 below the bin, 1
    above, linear inside; blank cells stay blank; text columns as they are."""
    import pandas as pd

    encoded: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
    for name in train.columns:
        if not pd.api.types.is_numeric_dtype(train[name]):
            encoded[0][name], encoded[1][name] = train[name], test[name]
            continue
        values = train[name].to_numpy(float)
        edges = np.unique(np.nanquantile(values, np.linspace(0, 1, bins + 1)))
        if len(edges) < 2:
            edges = np.array([edges[0], edges[0] + 1.0])
        low, width = edges[:-1], np.diff(edges)
        for side, frame in enumerate((train, test)):
            column = frame[name].to_numpy(float)
            bins_of = np.clip((column[:, None] - low) / width, 0.0, 1.0)
            bins_of[np.isnan(column)] = np.nan
            for k in range(bins_of.shape[1]):
                encoded[side][f"{name}_{k}"] = bins_of[:, k]
    return pd.DataFrame(encoded[0]), pd.DataFrame(encoded[1])


def spike_indicators(train: Any, test: Any, share: float) -> tuple[Any, Any]:
    """A 0/1 column ``NAME==VALUE`` beside each numeric column with a point mass on the
    training rows (see the module docstring); blank cells are 0."""
    import pandas as pd

    train, test = pd.DataFrame(train).copy(), pd.DataFrame(test).copy()
    for name in list(train.columns):
        if not pd.api.types.is_numeric_dtype(train[name]):
            continue
        counts = train[name].value_counts(normalize=True, dropna=True)
        if len(counts) < 20 or counts.iloc[0] < share:
            continue
        value = counts.index[0]
        for frame in (train, test):
            frame[f"{name}=={value:g}"] = (frame[name] == value).astype(float)
    return train, test


def one_run(name: str, seed: int, budget: float, variant: str) -> dict[str, Any]:
    data, X_train, X_test, y_train, y_held = _peers_data.split(name, seed)
    kind, _, value = variant.partition("=")
    settings: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        if kind == "scale":
            settings["genome"] = str(scaled_space(value.split("+"), Path(folder)))
        elif kind == "point_mass":
            settings["genome"] = str(scaled_space([value], Path(folder), "point_mass"))
        elif kind == "fidelity":
            settings["fidelity"] = value
        elif kind == "ple":
            X_train, X_test = piecewise_linear(X_train, X_test, int(value))
        elif kind == "spikes":
            X_train, X_test = spike_indicators(X_train, X_test, float(value))
        elif kind != "default":
            raise SystemExit(f"unknown variant {variant!r}")
        genome = settings.pop("genome", None)
        evolver = make_evolver(data, seed, budget, 1_000_000, **settings)
        if genome is not None:
            evolver.set_params(genome=genome)
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            evolver.fit(X_train, y_train)
        fit_s = time.perf_counter() - started
    predicted = np.asarray(evolver.predict(X_test)).astype(str)
    best = evolver.best_genome_
    return {
        "data": name, "seed": seed, "variant": variant, "fit_s": round(fit_s, 1),
        "accuracy": float(np.mean(predicted == np.asarray(y_held).astype(str))),
        "cv": float(max(m.objectives[0] for m in evolver.archive_.members)),
        "evaluations": len(evolver.cv_results_["genome_hash"]),
        "generations": len(evolver.history_) - 1, "params": best.n_params(),
        "preprocessing": dict(best.preprocessing or {}),
    }  # fmt: skip


def summarise(runs: list[dict[str, Any]], variants: list[str]) -> None:
    print("\nmedian held-back accuracy over seeds (mean gain over default on the same seeds)")
    for name in dict.fromkeys(r["data"] for r in runs):
        cells = []
        base = {r["seed"]: r["accuracy"] for r in runs
                if r["data"] == name and r["variant"] == "default"}  # fmt: skip
        for variant in variants:
            mine = {r["seed"]: r["accuracy"] for r in runs
                    if r["data"] == name and r["variant"] == variant}  # fmt: skip
            if not mine:
                continue
            cell = f"{variant} {statistics.median(mine.values()):.4f}"
            paired = [mine[s] - base[s] for s in mine if s in base]
            if variant != "default" and paired:
                cell += f" ({100 * statistics.mean(paired):+.2f} pts)"
            cells.append(cell)
        print(f"  {name:12} " + "  ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["weather", "fair"],
                        choices=sorted(_peers_data.LOADERS))  # fmt: skip
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--budget", type=float, default=120.0)
    parser.add_argument("--variants", nargs="+", default=["default", "scale=standard+quantile"])
    parser.add_argument("--parallel", type=int, default=1, help="runs at once (one core each)")
    parser.add_argument("--json", type=Path, help="write every run's record to this file")
    parser.add_argument("--from-json", type=Path, help="summarise the runs of an earlier --json")
    parser.add_argument("--one", nargs=2, metavar=("DATA", "SEED"), help=argparse.SUPPRESS)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(args.one[0], int(args.one[1]), args.budget, args.variant)))
        return
    if args.from_json is not None:
        runs = json.loads(args.from_json.read_text(encoding="utf-8"))
        variants = list(dict.fromkeys(r["variant"] for r in runs))
        summarise(runs, sorted(variants, key=lambda variant: variant != "default"))
        return
    print(machine_line())
    jobs = [(name, seed) for name in args.data for seed in args.seeds]
    runs = []
    for variant in args.variants:
        extra = ["--budget", str(args.budget), "--variant", variant]
        for run in run_each(__file__, jobs, extra, args.parallel):
            runs.append(run)
            print(f"{run['data']:12} seed {run['seed']} {variant:26} held-back "
                  f"{run['accuracy']:.4f}  cv {run['cv']:.4f}  evals {run['evaluations']:4}  "
                  f"gens {run['generations']:3}  params {run['params']:7}  "
                  f"{run['preprocessing']}", flush=True)  # fmt: skip
    if args.json is not None:
        args.json.write_text(json.dumps(runs, indent=1) + "\n", encoding="utf-8")
    summarise(runs, args.variants)


if __name__ == "__main__":
    main()
