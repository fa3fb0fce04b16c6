"""ONNX export of a run's archive members: file sizes against the ``bytes`` objective, and
prediction time under onnxruntime against the estimator's own ``predict``.

For each chosen member (the most accurate by default, ``--all`` for every one) the member is
exported twice (``joblib`` and ``onnx``, refit on all the run's data as ``evosearch export``
does) into a temporary folder; printed: its precision and pruning, ``weights.bin`` (the
``bytes`` objective exactly), ``model.onnx``, and the ONNX file's size relative to
``weights.bin``. For the most accurate member both predict the first ``--rows`` rows of the
run's data ``--repeats`` times, interleaved, on one thread each (BLAS capped with threadpoolctl
for the estimator, ``intra_op_num_threads=1`` for onnxruntime); printed: the median and best
milliseconds per 1,000 rows, and the ratio of medians. The predictions are checked to agree
(classes equal, probabilities within 1e-5).

Run a search first, then for example::

    evosearch evolve --genome mlp --generations 10 --seed 0 --out mlp10
    python benchmarks/onnx_export.py mlp10
    evosearch evolve --genome mlp-compressed --generations 10 --seed 0 --out comp10
    python benchmarks/onnx_export.py comp10 --all --repeats 0
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from _common import best, interleaved, machine_line, median
from threadpoolctl import threadpool_limits

from evosearch.deploy import OnnxPredictor
from evosearch.runs import load_run, load_run_dataset
from evosearch.search import ParetoArchive, export_member, select_member


def _export(record: Any, dataset: Any, member: int, folder: Path) -> dict[str, Any]:
    export_member(record, dataset, member, folder / "joblib", "joblib")
    return export_member(record, dataset, member, folder / "onnx", "onnx")


def _sizes(member: int, folder: Path, meta: dict[str, Any]) -> str:
    weights = (folder / "onnx" / "weights.bin").stat().st_size
    graph = (folder / "onnx" / "model.onnx").stat().st_size
    return (
        f"member {member:2d} ({meta['architecture']}; CV {meta['cv_score']:.4f}): "
        f"weights.bin {weights:,} B, model.onnx {graph:,} B ({graph / weights:.2f}x)"
    )


def _timings(folder: Path, X: np.ndarray, repeats: int) -> None:
    estimator = joblib.load(folder / "joblib" / "model.joblib")
    session = OnnxPredictor(folder / "onnx" / "model.onnx", threads=1)
    assert list(session.predict(X)) == list(estimator.predict(X)), "predictions differ"
    if hasattr(estimator, "predict_proba"):
        gap = np.abs(session.predict_proba(X) - estimator.predict_proba(X)).max()
        assert gap <= 1e-5, f"probabilities differ by {gap:g}"

    def ours() -> float:
        start = time.perf_counter()
        with threadpool_limits(limits=1):
            estimator.predict(X)
        return time.perf_counter() - start

    def onnx() -> float:
        start = time.perf_counter()
        session.predict(X)
        return time.perf_counter() - start

    times = interleaved({"estimator": ours, "onnxruntime": onnx}, repeats)
    per_k = 1000.0 / len(X) * 1000.0  # seconds for len(X) rows -> ms per 1,000 rows
    for name, values in times.items():
        print(
            f"  {name:12s} predict: median {median(values) * per_k:.3f} ms, "
            f"best {best(values) * per_k:.3f} ms per 1,000 rows"
        )
    ratio = median(times["estimator"]) / median(times["onnxruntime"])
    print(f"  estimator / onnxruntime (medians): {ratio:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--all", action="store_true", help="every archive member's sizes")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=50, help="0: sizes only")
    args = parser.parse_args()
    print(machine_line())
    record = load_run(args.run)
    dataset = load_run_dataset(record)
    best_index, _ = select_member(record, None)
    n_members = len(ParetoArchive.from_dict(record.archive or {}).members)
    members = range(n_members) if args.all else [best_index]
    with tempfile.TemporaryDirectory() as tmp:
        for member in members:
            folder = Path(tmp) / f"m{member}"
            meta = _export(record, dataset, member, folder)
            mark = " <- most accurate" if member == best_index else ""
            print(_sizes(member, folder, meta) + mark)
            if member == best_index and args.repeats > 0:
                X = np.asarray(dataset.X, dtype=np.float64)[: args.rows]
                _timings(folder, X, args.repeats)


if __name__ == "__main__":
    main()
