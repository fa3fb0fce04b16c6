"""The ``shift`` training gene: random one-pixel moves of training images."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits

from evosearch.errors import SearchSpaceError
from evosearch.nn import GraphNetClassifier
from evosearch.nn.augment import ImageShifter
from evosearch.space import Genome, InnovationCounter, SearchSpace, mutate


def _moved(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Reference: ``image`` (H, W, C) moved by (dy, dx), zero-filled, by explicit loops."""
    height, width, _ = image.shape
    out = np.zeros_like(image)
    for i in range(height):
        for j in range(width):
            if 0 <= i - dy < height and 0 <= j - dx < width:
                out[i, j] = image[i - dy, j - dx]
    return out


@pytest.mark.parametrize("shift", [1, 2])
def test_every_row_is_its_image_moved_by_an_allowed_offset(shift: int) -> None:
    shape = (5, 4, 2)
    rng = np.random.default_rng(0)
    batch = rng.normal(size=(200, 40)).astype(np.float32)
    moved = ImageShifter(shape, shift, rows=200)(batch, np.random.default_rng(1))
    allowed = [
        (dy, dx)
        for dy in range(-shift, shift + 1)
        for dx in range(-shift, shift + 1)
        if abs(dy) + abs(dx) <= shift
    ]
    seen = set()
    for row, out in zip(batch, moved, strict=True):
        image = row.reshape(shape)
        hits = [o for o in allowed if np.array_equal(out.reshape(shape), _moved(image, *o))]
        assert hits, "a row is not its image moved by an allowed offset"
        seen.add(hits[0])
    assert seen == set(allowed)  # 200 rows draw every offset, the unmoved one included


def test_the_same_generator_state_gives_the_same_moves_and_the_input_is_untouched() -> None:
    batch = np.arange(2 * 16, dtype=np.float32).reshape(2, 16)
    before = batch.copy()
    shifter = ImageShifter((4, 4, 1), 1, rows=2)
    first = shifter(batch, np.random.default_rng(7)).copy()
    second = shifter(batch, np.random.default_rng(7))
    assert np.array_equal(first, second)
    assert np.array_equal(batch, before)
    # A smaller last batch uses the front of the same buffer.
    assert shifter(batch[:1], np.random.default_rng(7)).shape == (1, 16)


def test_a_shift_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="shift"):
        ImageShifter((4, 4, 1), 0, rows=2)


IMAGE_NET = {
    "input_shape": [8, 8, 1],
    "layers": [
        {"id": 2, "kind": "conv2d", "filters": 4, "kernel": 3, "stride": 1, "activation": "relu"},
        {"id": 3, "kind": "global_pool", "mode": "average"},
    ],
    "edges": [[0, 2], [2, 3], [3, 1]],
}


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_digits(return_X_y=True)
    return (X[:300] / 16.0).astype(np.float32), y[:300]


def test_shift_changes_image_training_reproducibly(digits) -> None:
    X, y = digits
    common = {"architecture": IMAGE_NET, "max_epochs": 3, "random_state": 0, "batch_size": 64}
    plain = GraphNetClassifier(**common).fit(X, y)
    shifted = GraphNetClassifier(**common, shift=1).fit(X, y)
    again = GraphNetClassifier(**common, shift=1).fit(X, y)
    assert shifted.loss_curve_ != plain.loss_curve_
    assert shifted.loss_curve_ == again.loss_curve_
    # Prediction never shifts: the fitted network predicts its inputs as they are.
    assert np.array_equal(shifted.predict_proba(X), again.predict_proba(X))


@pytest.mark.parametrize("bad", [-1, 1.5, True, "1"])
def test_a_bad_shift_is_refused_by_name(digits, bad) -> None:
    X, y = digits
    with pytest.raises(ValueError, match="shift"):
        GraphNetClassifier(architecture=IMAGE_NET, max_epochs=1, shift=bad).fit(X, y)


def test_shift_on_flat_input_is_refused(digits) -> None:
    X, y = digits
    with pytest.raises(ValueError, match="shift moves images"):
        GraphNetClassifier(max_epochs=1, shift=1).fit(X, y)


def test_a_space_searches_shift_only_with_image_layers() -> None:
    cnn = SearchSpace.load("cnn").to_dict()
    assert "shift" not in cnn["training"]  # off in the preset: genomes as before
    cnn["training"]["shift"] = [0, 1]
    space = SearchSpace.from_dict(cnn)
    assert SearchSpace.from_dict(space.to_dict()) == space
    rng, counter = np.random.default_rng(0), InnovationCounter()
    values = set()
    for _ in range(20):
        genome = Genome.random(space, 64, 10, rng, counter, input_shape=(8, 8, 1))
        for _ in range(5):
            genome, _ = mutate(genome, space, rng, counter)
            genome.validate(space)
            values.add(genome.hyperparameters.get("shift", 0))
    assert values == {0, 1}

    mlp = SearchSpace.load("mlp").to_dict()
    mlp["training"]["shift"] = [0, 1]
    with pytest.raises(SearchSpaceError, match=r"training\.shift.*image layers"):
        SearchSpace.from_dict(mlp)
