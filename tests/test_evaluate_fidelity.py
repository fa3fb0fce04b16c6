"""Partial evaluation over folds (successive halving) and trained weights in and out.

Everything goes through the public :class:`~evosearch.evaluate.Evaluator` API. Which folds
really train is counted with a ``fit_hook`` that appends a line to a file: the hook runs in
whatever process trains the fold (inline, a local worker or a Dask worker).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris

from clitools import HYPER
from evosearch.evaluation import (
    FAILURE_SCORE,
    EvaluationResult,
    Evaluator,
    build_estimator,
    task_seed,
)
from evosearch.space.genome import Genome
from evosearch.testing.backends import comparable

X, Y = load_iris(return_X_y=True)
CV = 3


class Trainings:
    """A picklable fit_hook that logs every fold trained (and raises for chosen folds)."""

    def __init__(self, path: Path, fail: tuple[str, int] | None = None) -> None:
        self.path = str(path)
        self.fail = fail

    def __call__(self, genome_hash: str, fold: int) -> None:
        with open(self.path, "a", encoding="ascii") as stream:
            stream.write(f"{genome_hash} {fold}\n")
        if self.fail == (genome_hash, fold):
            raise ValueError(f"boom in fold {fold}")

    def log(self) -> list[tuple[str, int]]:
        path = Path(self.path)
        if not path.exists():
            return []
        return sorted(
            (h, int(f)) for h, f in (line.split() for line in path.read_text().split("\n") if line)
        )

    def clear(self) -> None:
        Path(self.path).unlink(missing_ok=True)


def dense(units: int, activation: str = "relu") -> dict:
    return {"units": units, "activation": activation, "dropout": 0.0}


def small() -> Genome:
    return Genome.chain(4, 3, [dense(8)], HYPER)


def other() -> Genome:
    return Genome.chain(4, 3, [dense(4, "tanh"), dense(6)], {**HYPER, "optimizer": "rmsprop"})


def patient() -> Genome:
    """Trains until early stopping (not to max_epochs), so a good start shows in the epochs."""
    return Genome.chain(4, 3, [dense(8)], {**HYPER, "max_epochs": 200})


@pytest.fixture
def hook(tmp_path: Path) -> Trainings:
    return Trainings(tmp_path / "trainings.log")


def evaluator(hook: Trainings | None = None, n_jobs: int = 1, **kwargs) -> Evaluator:
    return Evaluator(X, Y, "classification", cv=CV, n_jobs=n_jobs, seed=3, fit_hook=hook, **kwargs)


scores = comparable  # everything of a result that does not depend on the machine


def assert_weights_equal(a: dict[str, np.ndarray] | None, b: dict[str, np.ndarray] | None) -> None:
    assert a is not None and b is not None
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


@pytest.fixture(scope="module")
def one_shot() -> dict[str, EvaluationResult]:
    """Complete evaluations in one call: what every partial route must reproduce."""
    results = evaluator().evaluate([small(), other()])
    return {r.genome_hash: r for r in results}


# ------------------------------------------------------------------------------------ partial


def test_partial_then_complete_equals_one_shot_and_trains_each_fold_once(hook, one_shot):
    genome, h = small(), small().canonical_hash()
    ev = evaluator(hook)
    reported: list[EvaluationResult] = []
    progress: list[tuple[int, int]] = []
    partial = ev.evaluate([genome], on_result=lambda g, r: reported.append(r), folds=[0])[0]
    full = one_shot[h]
    assert partial.folds == [0] and partial.partial
    assert partial.fold_scores == full.fold_scores[:1]
    assert partial.score == max(full.fold_scores[0], FAILURE_SCORE)
    assert partial.epochs == full.epochs[:1]
    assert partial.ok and partial.n_params == genome.n_params()
    assert (ev.partial_evaluations, ev.evaluations, ev.cache_hits) == (1, 0, 0)
    assert hook.log() == [(h, 0)]

    complete = ev.evaluate(
        [genome],
        on_result=lambda g, r: reported.append(r),
        on_progress=lambda done, total: progress.append((done, total)),
    )[0]
    assert scores(complete) == scores(full)
    assert complete.folds is None and not complete.partial
    assert hook.log() == [(h, 0), (h, 1), (h, 2)]  # fold 0 was not trained again
    assert progress == [(0, 2), (1, 2), (2, 2)]  # only the missing folds count
    assert (ev.partial_evaluations, ev.evaluations, ev.cache_hits) == (1, 1, 0)
    assert reported == [partial, complete]


def test_rungs_of_growing_fold_sets_train_each_fold_once(hook, one_shot):
    genome, h = other(), other().canonical_hash()
    ev = evaluator(hook)
    first = ev.evaluate([genome], folds=[0])[0]
    second = ev.evaluate([genome], folds=[1, 0])[0]  # any order: results are sorted by fold
    assert second.folds == [0, 1]
    assert second.fold_scores == one_shot[h].fold_scores[:2]
    assert second.fold_scores[0] == first.fold_scores[0]
    assert second.score == pytest.approx(np.mean(second.fold_scores))
    last = ev.evaluate([genome], folds=[2])[0]
    assert last.fold_scores == one_shot[h].fold_scores[2:]
    assert ev.partial_evaluations == 3 and ev.evaluations == 0
    # Every fold is known now: completing trains nothing and reports the full result.
    reported: list[EvaluationResult] = []
    complete = ev.evaluate([genome], on_result=lambda g, r: reported.append(r))[0]
    assert scores(complete) == scores(one_shot[h])
    assert reported == [complete]
    assert hook.log() == [(h, 0), (h, 1), (h, 2)]
    assert (ev.partial_evaluations, ev.evaluations) == (3, 1)


def test_partial_results_are_not_cached_and_repeats_train_nothing(hook, one_shot):
    genome, h = small(), small().canonical_hash()
    ev = evaluator(hook)
    reported: list[EvaluationResult] = []
    first = ev.evaluate([genome], folds=[1])[0]
    assert ev.lookup(genome) is None
    again = ev.evaluate([genome, genome], on_result=lambda g, r: reported.append(r), folds=[1])
    assert again == [first, first]
    assert reported == []  # nothing new: the journal has it already
    assert (ev.partial_evaluations, ev.cache_hits) == (1, 2)
    assert hook.log() == [(h, 1)]

    complete = ev.evaluate([genome])[0]
    assert ev.lookup(genome) == complete
    assert scores(complete) == scores(one_shot[h])
    # A complete result answers any later request, partial or not.
    assert ev.evaluate([genome], folds=[0]) == [complete]
    assert ev.evaluate([genome], folds=[0])[0].folds is None
    assert hook.log() == [(h, 0), (h, 1), (h, 2)]


def test_mixed_batch_of_new_partial_and_cached_genomes(hook, one_shot):
    a, b, c = small(), other(), Genome.chain(4, 3, [dense(5, "tanh")], HYPER)
    ev = evaluator(hook)
    ev.evaluate([a], folds=[0])
    ev.evaluate([c])
    hook.clear()
    results = ev.evaluate([a, b, c, b])
    assert scores(results[0]) == scores(one_shot[a.canonical_hash()])
    assert scores(results[1]) == scores(one_shot[b.canonical_hash()])
    assert results[3] == results[1]
    expected = [(a.canonical_hash(), 1), (a.canonical_hash(), 2)]
    expected += [(b.canonical_hash(), fold) for fold in range(CV)]
    assert hook.log() == sorted(expected)
    assert ev.cache_hits == 2  # c from the cache, b's twin


def test_all_folds_is_a_complete_evaluation(hook, one_shot):
    ev = evaluator(hook)
    result = ev.evaluate([small()], folds=[2, 0, 1])[0]
    assert scores(result) == scores(one_shot[small().canonical_hash()])
    assert (ev.evaluations, ev.partial_evaluations) == (1, 0)


@pytest.mark.parametrize("folds", [[], [3], [-1], [0, 0], [True], ["0"]])
def test_bad_fold_requests_are_refused(folds):
    with pytest.raises(ValueError, match="folds"):
        evaluator().evaluate([small()], folds=folds)


def test_initial_weights_must_align_with_genomes_and_folds():
    with pytest.raises(ValueError, match="one entry per genome"):
        evaluator().evaluate([small()], initial_weights=[None, None])
    with pytest.raises(ValueError, match="per fold"):
        evaluator().evaluate([small()], initial_weights=[[None]])


# ------------------------------------------------------------------------------------ failures


def test_failed_partial_is_final(tmp_path, hook):
    genome, h = small(), small().canonical_hash()
    failing = Trainings(tmp_path / "failing.log", fail=(h, 0))
    ev = evaluator(failing)
    reported: list[EvaluationResult] = []
    partial = ev.evaluate([genome], on_result=lambda g, r: reported.append(r), folds=[0])[0]
    assert not partial.ok and partial.folds == [0]
    assert partial.fold_scores == [] and partial.score == FAILURE_SCORE
    assert partial.error == "ValueError: boom in fold 0"
    # Other folds of a failed genome are never trained: a request for them is the failure.
    other_fold = ev.evaluate([genome], folds=[1])[0]
    assert (other_fold.folds, other_fold.error, other_fold.epochs) == ([1], partial.error, [0])
    complete = ev.evaluate([genome], on_result=lambda g, r: reported.append(r))[0]
    assert complete.folds is None and complete.error == partial.error
    assert complete.fold_scores == [] and complete.score == FAILURE_SCORE
    assert complete.epochs == [0, 0, 0]
    assert failing.log() == [(h, 0)]
    assert reported == [partial, complete]
    assert (ev.partial_evaluations, ev.evaluations, ev.cache_hits) == (1, 1, 1)
    assert ev.lookup(genome) == complete


def test_failure_in_a_later_fold_matches_one_shot(tmp_path):
    genome, h = small(), small().canonical_hash()
    one = evaluator(Trainings(tmp_path / "a.log", fail=(h, 1))).evaluate([genome])[0]
    ev = evaluator(Trainings(tmp_path / "b.log", fail=(h, 1)))
    assert ev.evaluate([genome], folds=[0])[0].ok
    two = ev.evaluate([genome])[0]
    assert not two.ok
    assert scores(two) == scores(one)


# ------------------------------------------------------------------------------------ resume


def journal_of(lines: list[dict]) -> list[tuple[Genome, EvaluationResult]]:
    """What a resumed run reads back: JSON lines, without any weights."""
    return [
        (Genome.from_json(line["genome"]), EvaluationResult.from_dict(json.loads(json.dumps(line))))
        for line in lines
    ]


def journalling(lines: list[dict]):
    def on_result(genome: Genome, result: EvaluationResult) -> None:
        lines.append({"genome": genome.to_json(), **result.to_dict()})

    return on_result


def test_replayed_partial_and_complete_results_train_nothing(hook, one_shot):
    genome, h = small(), small().canonical_hash()
    lines: list[dict] = []
    first = evaluator()
    partial = first.evaluate([genome], on_result=journalling(lines), folds=[0])[0]
    complete = first.evaluate([genome], on_result=journalling(lines))[0]
    assert [line["folds"] for line in lines] == [[0], None]

    resumed = evaluator(hook)
    for known, result in journal_of(lines):
        resumed.replay(known, result)
    assert resumed.lookup(genome) is None
    again: list[dict] = []
    assert resumed.evaluate([genome], on_result=journalling(again), folds=[0]) == [partial]
    assert (resumed.partial_evaluations, resumed.cache_hits) == (1, 0)
    assert resumed.evaluate([genome], on_result=journalling(again)) == [complete]
    assert (resumed.evaluations, resumed.cache_hits) == (1, 0)
    assert hook.log() == [] and again == []
    assert scores(complete) == scores(one_shot[h])


def test_replayed_partial_is_completed_by_training_the_other_folds(hook, one_shot):
    """A run stopped between the rungs: the journal has the partial line only."""
    genome, h = other(), other().canonical_hash()
    lines: list[dict] = []
    evaluator().evaluate([genome], on_result=journalling(lines), folds=[0])
    resumed = evaluator(hook)
    for known, result in journal_of(lines):
        resumed.replay(known, result)
    assert resumed.evaluate([genome], folds=[0])[0].fold_scores == one_shot[h].fold_scores[:1]
    assert hook.log() == []
    complete = resumed.evaluate([genome])[0]
    assert scores(complete) == scores(one_shot[h])
    assert hook.log() == [(h, 1), (h, 2)]


def test_remembered_partial_result_is_completed_by_training_the_other_folds(hook, one_shot):
    genome, h = small(), small().canonical_hash()
    lines: list[dict] = []
    evaluator().evaluate([genome], on_result=journalling(lines), folds=[0, 2])
    resumed = evaluator(hook)
    for known, result in journal_of(lines):
        resumed.remember(known, result)
    assert resumed.lookup(genome) is None
    complete = resumed.evaluate([genome])[0]
    assert scores(complete) == scores(one_shot[h])
    assert hook.log() == [(h, 1)]


def test_replayed_failed_partial_stays_failed(tmp_path, hook):
    genome, h = small(), small().canonical_hash()
    lines: list[dict] = []
    failing = evaluator(Trainings(tmp_path / "failing.log", fail=(h, 0)))
    failing.evaluate([genome], on_result=journalling(lines), folds=[0])
    uninterrupted = failing.evaluate([genome])[0]
    resumed = evaluator(hook)
    for known, result in journal_of(lines):
        resumed.replay(known, result)
    resumed.evaluate([genome], folds=[0])
    complete = resumed.evaluate([genome])[0]
    assert scores(complete) == scores(uninterrupted)
    assert hook.log() == []


# ------------------------------------------------------------------------------------ weights


def fit_fold(ev: Evaluator, genome: Genome, fold: int, initial=None) -> dict[str, np.ndarray]:
    """Train one fold by hand exactly as the evaluator does; its weight blocks."""
    train, _ = ev.folds[fold]
    seed = task_seed(ev.seed, genome.canonical_hash(), fold)
    model = build_estimator(genome, "classification", seed, initial)
    return model.fit(ev.X[train], ev.y[train])[-1].weight_blocks()


def test_keep_weights_returns_each_folds_trained_weights(one_shot):
    genome = other()
    ev = evaluator()
    result = ev.evaluate([genome], keep_weights=True)[0]
    assert scores(result) == scores(one_shot[genome.canonical_hash()])  # weights change nothing
    assert result.fold_weights is not None and len(result.fold_weights) == CV
    for fold, weights in enumerate(result.fold_weights):
        assert weights is not None
        assert sum(block.size for block in weights.values()) == genome.n_params()
        assert_weights_equal(weights, fit_fold(ev, genome, fold))
    assert "fold_weights" not in result.to_dict()
    assert "fold_weights" not in repr(result)
    # The cache keeps no weights; the result still compares equal.
    cached = ev.evaluate([genome], keep_weights=True)[0]
    assert cached == result and cached.fold_weights is None
    assert ev.lookup(genome).fold_weights is None


def test_no_weights_unless_asked():
    result = evaluator().evaluate([small()], folds=[0])[0]
    assert result.fold_weights is None


def test_partial_weights_carry_over_to_the_complete_result():
    genome = small()
    ev = evaluator()
    partial = ev.evaluate([genome], folds=[1], keep_weights=True)[0]
    assert partial.fold_weights is not None
    assert partial.fold_weights[0] is None and partial.fold_weights[2] is None
    assert_weights_equal(partial.fold_weights[1], fit_fold(ev, genome, 1))
    complete = ev.evaluate([genome], keep_weights=True)[0]
    assert complete.fold_weights is not None
    assert_weights_equal(complete.fold_weights[1], partial.fold_weights[1])
    for fold in (0, 2):
        assert_weights_equal(complete.fold_weights[fold], fit_fold(ev, genome, fold))


def test_partial_weights_of_genomes_not_asked_for_again_are_dropped():
    """Memory stays bounded: the next partial call frees the previous one's leftovers."""
    a, b, c = small(), other(), Genome.chain(4, 3, [dense(5, "tanh")], HYPER)
    ev = evaluator()
    ev.evaluate([a, b], folds=[0], keep_weights=True)
    ev.evaluate([c], folds=[0], keep_weights=True)  # a and b were not promoted
    completed = ev.evaluate([a, c], keep_weights=True)
    assert completed[0].fold_weights[0] is None  # dropped
    assert completed[0].fold_weights[1] is not None
    assert all(w is not None for w in completed[1].fold_weights)
    assert scores(completed[0]) == scores(evaluator().evaluate([a])[0])  # scores were kept


def test_initial_weights_start_training_from_them():
    genome = patient()
    trained = evaluator().evaluate([genome], keep_weights=True)[0]
    assert trained.fold_weights is not None
    start = [trained.fold_weights]
    warm = evaluator().evaluate([genome], initial_weights=start)[0]
    again = evaluator().evaluate([genome], initial_weights=start)[0]
    assert scores(warm) == scores(again)  # deterministic
    # Already trained to a plateau: early stopping comes sooner than from scratch.
    assert sum(warm.epochs) < sum(trained.epochs)
    # Each fold starts from the weights given for that fold only.
    only_first = [[trained.fold_weights[0], None, None]]
    mixed = evaluator().evaluate([genome], initial_weights=only_first)[0]
    assert mixed.epochs[0] == warm.epochs[0] and mixed.fold_scores[0] == warm.fold_scores[0]
    assert mixed.epochs[1:] == trained.epochs[1:]
    assert mixed.fold_scores[1:] == trained.fold_scores[1:]


def test_initial_weights_with_partial_rungs_equal_one_shot():
    genome = patient()
    start = [evaluator().evaluate([genome], keep_weights=True)[0].fold_weights]
    one = evaluator().evaluate([genome], initial_weights=start, keep_weights=True)[0]
    ev = evaluator()
    ev.evaluate([genome], folds=[0], initial_weights=start, keep_weights=True)
    two = ev.evaluate([genome], initial_weights=start, keep_weights=True)[0]
    assert scores(two) == scores(one)
    for a, b in zip(one.fold_weights, two.fold_weights, strict=True):
        assert_weights_equal(a, b)


# ------------------------------------------------------------------------------------ journal


def test_partial_result_round_trips_through_json():
    result = evaluator().evaluate([small()], folds=[0, 2], keep_weights=True)[0]
    data = json.loads(json.dumps(result.to_dict()))
    assert data["folds"] == [0, 2]
    assert "fold_weights" not in data
    back = EvaluationResult.from_dict(data)
    assert back == result and back.folds == [0, 2] and back.fold_weights is None
    old_line = {k: v for k, v in data.items() if k != "folds"}  # a journal from before
    assert EvaluationResult.from_dict(old_line).folds is None


# ------------------------------------------------------------------------------------ backends


def halving_run(ev: Evaluator) -> tuple[list, list, list]:
    """Partial, then complete, with and without starting weights; everything comparable."""
    genomes = [small(), other(), patient()]
    start = [None, None, [fit_fold(evaluator(), patient(), fold) for fold in range(CV)]]
    try:
        first = ev.evaluate(genomes, folds=[1], initial_weights=start, keep_weights=True)
        second = ev.evaluate(genomes, initial_weights=start, keep_weights=True)
    finally:
        ev.close()
    weights = [r.fold_weights for r in first + second]
    return [scores(r) for r in first], [scores(r) for r in second], weights


def assert_same_run(a: tuple[list, list, list], b: tuple[list, list, list]) -> None:
    assert a[0] == b[0] and a[1] == b[1]
    for left, right in zip(a[2], b[2], strict=True):
        assert (left is None) == (right is None)
        for x, y in zip(left or [], right or [], strict=True):
            assert (x is None) == (y is None)
            if x is not None:
                assert_weights_equal(x, y)


@pytest.fixture(scope="module")
def inline_run() -> tuple[list, list, list]:
    return halving_run(evaluator(n_jobs=1))


def test_workers_give_the_same_results_as_inline(hook, inline_run):
    assert_same_run(halving_run(evaluator(hook, n_jobs=2)), inline_run)
    hashes = [g.canonical_hash() for g in (small(), other(), patient())]
    assert hook.log() == sorted((h, fold) for h in hashes for fold in range(CV))


@pytest.mark.slow
def test_dask_gives_the_same_results_as_inline(hook, inline_run):
    pytest.importorskip("distributed")
    assert_same_run(halving_run(evaluator(hook, n_jobs=2, backend="dask")), inline_run)
    hashes = [g.canonical_hash() for g in (small(), other(), patient())]
    assert hook.log() == sorted((h, fold) for h in hashes for fold in range(CV))
