"""Training options as genes: learning-rate schedules, gradient clipping, Adadelta."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from evosearch import Evolver
from evosearch.errors import SearchSpaceError
from evosearch.nn import GraphNetClassifier
from evosearch.nn.optim import clip_by_norm, schedule_factor
from evosearch.space import Genome, InnovationCounter, SearchSpace, cx_aligned, mutate
from evosearch.testing._tiny import TINY_TOML, iris


def test_schedules_decay_from_the_learning_rate() -> None:
    assert [schedule_factor("constant", e, 10) for e in range(10)] == [1.0] * 10
    steps = [schedule_factor("step", e, 8) for e in range(8)]
    assert steps == [1.0] * 4 + [0.1] * 2 + [0.01] * 2
    cosine = [schedule_factor("cosine", e, 10) for e in range(10)]
    assert cosine[0] == 1.0 and all(a > b > 0 for a, b in itertools.pairwise(cosine))
    with pytest.raises(ValueError, match="lr_schedule"):
        schedule_factor("linear", 0, 10)


def test_clip_by_norm_shortens_long_gradients_only() -> None:
    grad = np.array([3.0, 4.0], np.float32)
    clip_by_norm(grad, 10.0)
    assert grad.tolist() == [3.0, 4.0]
    clip_by_norm(grad, 1.0)
    assert np.linalg.norm(grad) == pytest.approx(1.0, rel=1e-6)
    assert grad[1] / grad[0] == pytest.approx(4 / 3)


@pytest.mark.parametrize(
    "options", [{"lr_schedule": "cosine"}, {"clip_norm": 0.05}, {"warmup_epochs": 3}]
)
def test_each_option_changes_training_and_still_learns(options) -> None:
    X, y = iris()
    common = {"learning_rate": 0.01, "max_epochs": 30, "early_stopping": False, "random_state": 0}
    plain = GraphNetClassifier(**common).fit(X, y)
    varied = GraphNetClassifier(**common, **options).fit(X, y)
    assert varied.loss_curve_ != plain.loss_curve_
    assert varied.score(X, y) > 0.85
    with pytest.raises(ValueError, match=next(iter(options))):
        GraphNetClassifier(**{next(iter(options)): "bad"}).fit(X, y)


def test_warmup_ramps_the_learning_rate_step_by_step() -> None:
    X, y = iris()
    # Full batches: one SGD step an epoch. A ramp over 4 steps of a 4-epoch training makes the
    # first a quarter step; capped to a 1-epoch training, the one step is a full one.
    common = {"optimizer": "sgd", "batch_size": 1000, "early_stopping": False, "random_state": 0}
    first = GraphNetClassifier(**common, learning_rate=0.3, max_epochs=4, warmup_epochs=4)
    quarter = GraphNetClassifier(**common, learning_rate=0.075, max_epochs=4)
    first.fit(X, y)
    quarter.fit(X, y)
    # Each epoch's loss is measured before its step: equal after the one equal step, then not.
    assert first.loss_curve_[:2] == quarter.loss_curve_[:2]
    assert first.loss_curve_[2] != quarter.loss_curve_[2]
    short = GraphNetClassifier(**common, learning_rate=0.3, max_epochs=1, warmup_epochs=4)
    full = GraphNetClassifier(**common, learning_rate=0.3, max_epochs=1)
    short.fit(X, y)
    full.fit(X, y)
    for node, weights in short.coefs_.items():
        np.testing.assert_array_equal(weights, full.coefs_[node])
    ramped = GraphNetClassifier(**common, learning_rate=0.3, max_epochs=6, warmup_epochs=2)
    plain = GraphNetClassifier(**common, learning_rate=0.3, max_epochs=6)
    ramped.fit(X, y)
    plain.fit(X, y)
    # The first two steps are halved and full: the losses differ from the second epoch on.
    assert ramped.loss_curve_[0] == plain.loss_curve_[0]
    assert ramped.loss_curve_[1] != plain.loss_curve_[1]
    with pytest.raises(ValueError, match="warmup_epochs must be an int >= 0"):
        GraphNetClassifier(warmup_epochs=-1).fit(X, y)


@pytest.mark.parametrize(("warmup", "epochs"), [(2, 4), (7, 3)])
def test_warmup_scales_the_schedule_and_ends_at_the_full_rate(warmup, epochs) -> None:
    X, y = iris()
    # Full-batch SGD has no state, so epochs trained one fit at a time at the rates the ramp
    # should give (cosine times the ramp; a ramp longer than training ends with the training)
    # must land on the same weights.
    common = {"optimizer": "sgd", "batch_size": 1000, "early_stopping": False, "random_state": 0}
    rate = 0.4
    ramp = min(warmup, epochs)
    whole = GraphNetClassifier(
        **common, learning_rate=rate, max_epochs=epochs, warmup_epochs=warmup, lr_schedule="cosine"
    ).fit(X, y)
    start = None
    for epoch in range(epochs):
        factor = schedule_factor("cosine", epoch, epochs) * min(1.0, (epoch + 1) / ramp)
        step = GraphNetClassifier(
            **common, learning_rate=rate * factor, max_epochs=1, initial_weights=start
        ).fit(X, y)
        start = step.weight_blocks()
    for node, weights in whole.coefs_.items():
        np.testing.assert_allclose(weights, step.coefs_[node], rtol=1e-5, atol=1e-6)


def test_warmup_spares_an_inherited_network_the_first_full_steps() -> None:
    X, y = iris()
    common = {"learning_rate": 0.05, "batch_size": 10, "early_stopping": False, "random_state": 0}
    trained = GraphNetClassifier(**common, max_epochs=100).fit(X, y)
    start = trained.weight_blocks()
    # Adam's first steps move every weight by about the learning rate, whatever the gradient:
    # a trained network restarted with a fresh optimizer loses ground, less with a warmup.
    kicked = GraphNetClassifier(**common, max_epochs=1, initial_weights=start).fit(X, y)
    eased = GraphNetClassifier(**common, max_epochs=1, warmup_epochs=1, initial_weights=start)
    eased.fit(X, y)
    # Measured on these settings: 0.060 at the end of training, 0.227 over the restarted
    # epoch without a warmup, 0.060 with one.
    assert kicked.loss_curve_[0] > 2 * trained.loss_curve_[-1]
    assert eased.loss_curve_[0] < 1.2 * trained.loss_curve_[-1]


SEARCHED = (
    TINY_TOML.replace('optimizer = ["adam", "rmsprop"]', 'optimizer = ["adam", "adadelta"]')
    + 'lr_schedule = ["constant", "step", "cosine"]\nclip_norm = [0.0, 1.0]\n'
    + "warmup_epochs = [0, 2]\n"
    + "early_stopping = [true, false]\n"
)


def test_genomes_leave_out_genes_that_are_off_and_stay_valid(tmp_path) -> None:
    path = tmp_path / "searched.toml"
    path.write_text(SEARCHED, encoding="utf-8")
    space = SearchSpace.from_toml(path)
    assert SearchSpace.from_dict(space.to_dict()) == space
    rng, counter = np.random.default_rng(0), InnovationCounter()
    genomes = [Genome.random(space, 4, 3, rng, counter) for _ in range(12)]
    for _ in range(3):
        genomes += [mutate(g, space, rng, counter)[0] for g in genomes[-12:]]
        pairs = zip(genomes[-12:-1], genomes[-11:], strict=True)
        genomes += [cx_aligned(a, b, space, rng) for a, b in pairs]
    seen = set()
    for genome in genomes:
        genome.validate(space)
        hp = genome.hyperparameters
        assert hp.get("lr_schedule") != "constant" and hp.get("clip_norm") != 0.0
        assert hp.get("early_stopping") is not True  # on is the default: left out
        assert hp.get("warmup_epochs") != 0
        seen.update({hp.get("lr_schedule", "constant"), hp.get("clip_norm", 0.0)})
        seen.add(("warmup_epochs", hp.get("warmup_epochs", 0)))
        seen.add(("early_stopping", hp.get("early_stopping", True)))
    assert seen >= {"constant", "step", "cosine", 0.0, 1.0}
    assert {("early_stopping", True), ("early_stopping", False)} <= seen
    assert {("warmup_epochs", 0), ("warmup_epochs", 2)} <= seen
    # A space that does not search them writes and draws nothing for them.
    tiny = tmp_path / "tiny.toml"
    tiny.write_text(TINY_TOML, encoding="utf-8")
    plain = SearchSpace.from_toml(tiny)
    assert "lr_schedule" not in plain.to_dict()["training"]
    assert set(Genome.random(plain, 4, 3, rng, counter).hyperparameters) == {
        "optimizer", "learning_rate", "l1", "l2", "batch_size", "max_epochs"
    }  # fmt: skip


def test_a_run_searches_the_training_genes(tmp_path) -> None:
    path = tmp_path / "searched.toml"
    path.write_text(SEARCHED, encoding="utf-8")
    X, y = iris()
    out = tmp_path / "run"
    Evolver(path, population_size=4, generations=1, n_jobs=1, cv=2, out=out).fit(X, y)
    lines = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    assert all(line["error"] is None for line in lines)
    genes = {json.dumps(line["genome"]["hyperparameters"], sort_keys=True) for line in lines}
    assert any("lr_schedule" in g for g in genes) and any("clip_norm" in g for g in genes)
    assert any('"early_stopping": false' in g for g in genes)
    assert any('"warmup_epochs": 2' in g for g in genes)


def test_without_early_stopping_a_genome_trains_every_epoch_on_every_row() -> None:
    X, y = iris()
    common = {"learning_rate": 0.05, "max_epochs": 200, "random_state": 0, "patience": 2}
    stopped = GraphNetClassifier(**common).fit(X, y)
    full = GraphNetClassifier(**common, early_stopping=False).fit(X, y)
    assert len(full.loss_curve_) == 200 and len(stopped.loss_curve_) < 200
    assert full.validation_scores_ is None and stopped.validation_scores_  # rows held out
    with pytest.raises(ValueError, match="early_stopping must be True or False"):
        GraphNetClassifier(early_stopping="no").fit(X, y)


def test_a_search_space_takes_only_true_or_false_for_early_stopping() -> None:
    base = SearchSpace.load("mlp").to_dict()
    for bad in (["yes"], [0, 1], {"low": 0, "high": 1}):
        base["training"]["early_stopping"] = bad
        with pytest.raises(SearchSpaceError, match=r"training\.early_stopping"):
            SearchSpace.from_dict(base)
