"""Contract suite for evaluation backends, parametrised over the backend registry.

Every backend registered (:data:`~evosearch.evaluation.backends.BACKENDS`) must keep the
:class:`~evosearch.evaluation.backends.Backend` contract; these tests check it through the public
:class:`~evosearch.evaluation.Evaluator` API, against the ``local`` backend's in-process mode
(``n_jobs=1``, no limits) as the reference:

* the same results (fold scores, score, epochs, errors, trained weights; not seconds or memory);
* each task reported as it finishes (``on_progress`` once per fold, ``on_result`` as soon as a
  genome's last fold is in, while other folds still train);
* a fold past ``eval_timeout`` fails its genome with ``TimeoutError``, without waiting for it
  and without disturbing the other genomes;
* an open batch (:class:`~evosearch.evaluation.EvaluationStream`) trains the genomes its
  ``on_result`` adds while it runs, with the same results;
* a ``deadline`` raises :class:`~evosearch.evaluation.DeadlineReached`, with the genomes finished
  before it reported and cached; a backend with ``moving_deadline`` stops at a
  :class:`~evosearch.evaluation.Deadline` that ``on_result`` brought forward.

A backend whose dependency is missing (:meth:`Backend.unavailable`) is skipped with that reason.
Use it from a test module (Optuna's ``optuna.testing`` habit)::

    from evosearch.testing.backends import BackendContract

    class TestBackendContract(BackendContract):
        pass

The parameter list is read from the registry when this module is imported: register a backend
before that. What a backend needs running (a cluster) is started once per test class by its
:meth:`Backend.contract_settings`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_iris

from evosearch.evaluation import (
    Deadline,
    DeadlineReached,
    EvaluationResult,
    EvaluationStream,
    Evaluator,
)
from evosearch.evaluation.backends import BACKENDS
from evosearch.space import Genome
from evosearch.testing._tiny import TINY_HYPER

__all__ = ["BackendContract", "ReleaseHook", "backend_params", "comparable"]


_CV = 2
_RELEASE = "release"


def backend_params() -> list[Any]:
    """One ``pytest.param`` per registered backend; skipped where its dependency is missing."""
    params = []
    for name in BACKENDS.names():
        reason = BACKENDS.get(name).unavailable()
        marks = [pytest.mark.skip(reason=reason)] if reason is not None else []
        params.append(pytest.param(name, id=name, marks=marks))
    return params


def _genome(units: int, activation: str = "relu") -> Genome:
    layer = {"units": units, "activation": activation, "dropout": 0.0}
    return Genome.chain(4, 3, [layer], TINY_HYPER)


def comparable(result: EvaluationResult) -> tuple[Any, ...]:
    """Everything of a result that must not depend on the backend."""
    return (
        result.genome_hash,
        result.fold_scores,
        result.score,
        result.n_params,
        result.epochs,
        result.error,
        result.folds,
    )


class ReleaseHook:
    """A picklable ``fit_hook``: chosen genomes raise, or hold their fold until released.

    Holding polls for a file ``release`` in ``folder`` (the test, or its ``on_result``, writes it)
    for at most ``patience`` seconds; then it returns, or with ``strict`` raises (which fails the
    genome: nothing released it in time).
    """

    def __init__(
        self,
        folder: Path,
        raises: tuple[str, ...] = (),
        holds: tuple[str, ...] = (),
        hold_folds: tuple[int, ...] = tuple(range(_CV)),
        patience: float = 30.0,
        strict: bool = False,
    ) -> None:
        self.release = str(Path(folder, _RELEASE))
        self.raises = raises
        self.holds = holds
        self.hold_folds = hold_folds
        self.patience = patience
        self.strict = strict

    def __call__(self, genome_hash: str, fold: int) -> None:
        if genome_hash in self.raises:
            raise ValueError(f"boom in fold {fold}")
        if genome_hash not in self.holds or fold not in self.hold_folds:
            return
        give_up = time.monotonic() + self.patience
        while not Path(self.release).exists():
            if time.monotonic() > give_up:
                if self.strict:
                    raise RuntimeError("nothing was reported while this fold trained")
                return
            time.sleep(0.02)


class BackendContract:
    """The tests every registered backend passes; subclass it in a test module to run them."""

    #: Workers each backend runs with (two: one can be held while the other trains).
    n_workers = 2

    @pytest.fixture(scope="class", params=backend_params())
    @classmethod
    def backend(cls, request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
        """Evaluator settings of one backend (its resources started once per class)."""
        name = request.param
        with BACKENDS.get(name).contract_settings(cls.n_workers) as settings:
            yield {"backend": name, "n_jobs": cls.n_workers, **settings}

    @pytest.fixture(scope="class")
    @classmethod
    def data(cls) -> tuple[np.ndarray, np.ndarray]:
        return load_iris(return_X_y=True)

    def evaluator(
        self, data: tuple[np.ndarray, np.ndarray], settings: dict[str, Any], **extra: Any
    ) -> Evaluator:
        """An evaluator of ``data`` (iris) with a backend's ``settings`` and ``extra`` ones."""
        X, y = data
        return Evaluator(X, y, "classification", cv=_CV, seed=3, **settings, **extra)

    def test_same_results_as_the_local_backend(self, backend, data, tmp_path):
        genomes = [_genome(8), _genome(3, "tanh"), _genome(5), _genome(6)]
        failing = genomes[3].canonical_hash()
        hook = ReleaseHook(tmp_path, raises=(failing,))
        runs = []
        for settings in ({"n_jobs": 1}, backend):  # in-process local mode: the reference
            evaluator = self.evaluator(data, settings, fit_hook=hook)
            try:
                partial = evaluator.evaluate(genomes, folds=[1])
                complete = evaluator.evaluate(genomes, keep_weights=True)
            finally:
                evaluator.close()
            runs.append((partial, complete))
        (partial, complete), (reference_partial, reference) = runs[1], runs[0]
        assert [comparable(r) for r in partial] == [comparable(r) for r in reference_partial]
        assert [comparable(r) for r in complete] == [comparable(r) for r in reference]
        assert complete[3].error == "ValueError: boom in fold 1"  # fold 1 trained first
        for got, expected in zip(complete, reference, strict=True):
            assert (got.fold_weights is None) == (expected.fold_weights is None)
            pairs = zip(got.fold_weights or [], expected.fold_weights or [], strict=True)
            for mine, theirs in pairs:
                assert (mine is None) == (theirs is None)
                assert set(mine or {}) == set(theirs or {})
                for key in theirs or {}:
                    assert mine is not None and theirs is not None
                    np.testing.assert_array_equal(mine[key], theirs[key])

    def test_each_result_is_reported_as_it_finishes(self, backend, data, tmp_path):
        # The smallest genome trains last (longest first) and holds its folds until the other
        # genome's result has been reported: a backend reporting only at the end fails it.
        quick, held = _genome(8), _genome(2)
        release = tmp_path / _RELEASE
        hook = ReleaseHook(tmp_path, holds=(held.canonical_hash(),), patience=20, strict=True)
        evaluator = self.evaluator(data, backend, fit_hook=hook)
        reported: list[str] = []
        progress: list[tuple[int, int]] = []

        def on_result(genome: Genome, result: EvaluationResult) -> None:
            reported.append(result.genome_hash)
            release.touch()

        try:
            results = evaluator.evaluate(
                [quick, held], on_result=on_result, on_progress=lambda *p: progress.append(p)
            )
        finally:
            evaluator.close()
        assert [r.error for r in results] == [None, None]
        assert reported == [quick.canonical_hash(), held.canonical_hash()]
        total = 2 * _CV
        assert progress == [(done, total) for done in range(total + 1)]

    def test_an_open_batch_trains_genomes_added_while_it_runs(self, backend, data, tmp_path):
        # What the steady-state search does: each landed result submits the next genome.
        genomes = [_genome(units) for units in (8, 3, 5, 6, 2, 7)]
        reference = self.evaluator(data, {"n_jobs": 1}).evaluate(genomes)
        evaluator = self.evaluator(data, backend)
        waiting = list(genomes[2:])
        landed: list[EvaluationResult] = []

        def on_result(genome: Genome, result: EvaluationResult) -> None:
            landed.append(result)
            if waiting:
                stream.submit(waiting.pop(0))

        stream = EvaluationStream(evaluator, on_result)
        try:
            stream.submit(genomes[0])
            stream.submit(genomes[1])
            assert stream.in_flight == 2
            stream.run()
        finally:
            evaluator.close()
        assert stream.in_flight == 0 and evaluator.evaluations == len(genomes)
        by_hash = {r.genome_hash: comparable(r) for r in landed}
        assert len(landed) == len(by_hash) == len(genomes)  # each reported once
        assert by_hash == {r.genome_hash: comparable(r) for r in reference}
        for genome in genomes:  # cached as evaluate() would have
            assert evaluator.lookup(genome) is not None

    def test_a_fold_past_eval_timeout_fails_only_its_genome(self, backend, data, tmp_path):
        limit = 1.5
        genomes = [_genome(8), _genome(2), _genome(5)]
        victim = genomes[1].canonical_hash()
        hook = ReleaseHook(tmp_path, holds=(victim,), hold_folds=(0,))
        reference = self.evaluator(data, {"n_jobs": 1}).evaluate(genomes)
        evaluator = self.evaluator(data, backend, fit_hook=hook, eval_timeout=limit)
        started = time.monotonic()
        try:
            results = evaluator.evaluate(genomes)
            elapsed = time.monotonic() - started
        finally:
            (tmp_path / _RELEASE).touch()  # a fold only abandoned stops holding its worker
            evaluator.close()
        assert elapsed < limit + 15  # it did not wait for the held fold (30 s)
        error = results[1].error
        assert error is not None
        assert error.startswith(f"TimeoutError: fold 0 exceeded the {limit:g} s evaluation limit")
        assert results[1].fold_scores == []
        for index in (0, 2):
            assert comparable(results[index]) == comparable(reference[index])

    def test_a_deadline_raises_and_keeps_what_finished(self, backend, data, tmp_path):
        quick = [_genome(8), _genome(6)]
        held = _genome(2)  # the smallest: it starts last
        hook = ReleaseHook(tmp_path, holds=(held.canonical_hash(),))
        warm_up = self.evaluator(data, backend)
        try:
            warm_up.evaluate([_genome(4)])  # workers started and warm: the deadline is short
        finally:
            warm_up.close()
        evaluator = self.evaluator(data, backend, fit_hook=hook)
        reported: list[EvaluationResult] = []
        started = time.monotonic()
        try:
            with pytest.raises(DeadlineReached):
                evaluator.evaluate(
                    [quick[0], held, quick[1]],
                    on_result=lambda genome, result: reported.append(result),
                    # Room for the quick ones on a loaded 2-core machine: a Dask worker's first
                    # task fetches the data from the worker it went to (2 s failed 3 in 6 there);
                    # the held genome waits for the release file, 30 s, far beyond it.
                    deadline=time.monotonic() + 6,
                )
            elapsed = time.monotonic() - started
        finally:
            (tmp_path / _RELEASE).touch()
            evaluator.close()
        assert elapsed < 6 + 10
        assert {r.genome_hash for r in reported} == {g.canonical_hash() for g in quick}
        for genome in quick:
            cached = evaluator.lookup(genome)
            assert cached is not None and cached.ok
        assert evaluator.lookup(held) is None

    def test_a_deadline_brought_forward_stops_the_batch_then(self, backend, data, tmp_path):
        if not BACKENDS.get(backend["backend"]).moving_deadline:
            pytest.skip("the backend reads its deadline once (moving_deadline is False)")
        quick, held = _genome(8), _genome(2)  # the smallest starts last, and holds
        hook = ReleaseHook(tmp_path, holds=(held.canonical_hash(),))
        evaluator = self.evaluator(data, backend, fit_hook=hook)
        deadline = Deadline(time.monotonic() + 60)

        def bring_forward(genome: Genome, result: EvaluationResult) -> None:
            deadline.at = time.monotonic() + 1  # as the search does when a new best lands

        started = time.monotonic()
        try:
            with pytest.raises(DeadlineReached):
                evaluator.evaluate([quick, held], on_result=bring_forward, deadline=deadline)
            elapsed = time.monotonic() - started
        finally:
            (tmp_path / _RELEASE).touch()
            evaluator.close()
        assert elapsed < 1 + 15  # not the 30 s the held fold waits, nor the first 60
        assert evaluator.lookup(quick) is not None and evaluator.lookup(held) is None
