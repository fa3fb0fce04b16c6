"""Compression genes: pruning with fine-tuning, float16 / int8 weights, the exact payload."""

from __future__ import annotations

import json

import joblib
import numpy as np
import pytest

from evosearch import Evolver
from evosearch.nn import GraphNetClassifier
from evosearch.nn.compress import decode, encode, payload_bytes, unpack
from evosearch.objectives import Bytes
from evosearch.runs import load_run, load_run_dataset
from evosearch.search.refit import export_member
from evosearch.space import Genome, SearchSpace
from evosearch.testing._tiny import TINY_TOML, iris

SHAPES = [((40, 30), (30,)), ((30, 3), (3,)), ((1000, 2), (2,))]


@pytest.mark.parametrize("precision", ["float32", "float16", "int8", "int4"])
@pytest.mark.parametrize("prune", [0.0, 0.3, 0.99])
def test_the_payload_has_the_size_of_its_shapes_and_decodes_to_its_values(prune, precision):
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=w).astype(np.float32) for w, _ in SHAPES]
    biases = [rng.normal(size=b).astype(np.float32) for _, b in SHAPES]
    payload = encode(weights, biases, prune, precision)
    assert len(payload) == payload_bytes(SHAPES, prune, precision)
    new_w, new_b = decode(SHAPES, payload, prune, precision)
    # Encoding the decoded arrays again decodes to them exactly (what an export relies on).
    again = decode(SHAPES, encode(new_w, new_b, prune, precision), prune, precision)
    for a, b in zip([*again[0], *again[1]], [*new_w, *new_b], strict=True):
        assert np.array_equal(a, b)
    for old, new in zip(weights, new_w, strict=True):
        zeros = int((new == 0).sum())
        assert zeros >= int(prune * old.size + 1e-9)
        kept = new != 0
        tolerance = {"float32": 0, "float16": 1e-3, "int8": 0.02, "int4": 0.07}[precision]
        assert np.allclose(new[kept], old[kept], rtol=tolerance, atol=tolerance * 4)
        if prune:  # the smallest weights went
            assert np.abs(old[~kept]).max() <= np.abs(old[kept]).min()
    with pytest.raises(ValueError, match="does not match"):
        decode(SHAPES, payload[:-1], prune, precision)


@pytest.mark.parametrize("count", [0, 1, 2, 7, 8, 9])
def test_int4_packs_two_values_a_byte_and_unpacks_them(count: int) -> None:
    rng = np.random.default_rng(count)
    w = rng.normal(size=(count, 1)).astype(np.float32)
    b = np.zeros(1, np.float32)
    payload = encode([w], [b], 0.0, "int4")
    # scale, ceil(count / 2) bytes of nibbles, bias
    assert len(payload) == 4 * bool(count) + (count + 1) // 2 + 4
    ((values, scales, _),) = unpack([((count, 1), (1,))], payload, 0.0, "int4")
    assert values.dtype == np.int8 and values.shape == (count, 1)
    if count:
        assert np.abs(values).max() == 7  # the largest magnitude maps to 7, the sign kept
        assert np.array_equal(np.sign(values.ravel()), np.sign(np.rint(w.ravel() / scales[0])))
        assert np.abs(values * scales - w).max() <= scales[0] / 2 + 1e-6


def test_int4_halves_int8_values_and_keeps_accuracy_close() -> None:
    X, y = iris()
    arch = {"layers": [{"id": 2, "units": 16, "activation": "relu"}], "edges": [[0, 2], [2, 1]]}
    common = {"learning_rate": 0.02, "max_epochs": 40, "random_state": 0}
    scores = {}
    for precision in ("int8", "int4"):
        clf = GraphNetClassifier(arch, precision=precision, **common).fit(X, y)
        pairs = zip(clf.coefs_.values(), clf.intercepts_.values(), strict=True)
        shapes = [(w.shape, bias.shape) for w, bias in pairs]
        payload = clf.payload()
        assert len(payload) == payload_bytes(shapes, 0.0, precision)
        weights, _ = decode(shapes, payload, 0.0, precision)
        for w, stored in zip(weights, clf.coefs_.values(), strict=True):
            assert np.array_equal(w, stored)  # it predicts with exactly the stored weights
        scores[precision] = clf.score(X, y)
    # 4*16 + 16*3 weights: int8 112 bytes of values, int4 56.
    assert payload_bytes(shapes, 0.0, "int8") - payload_bytes(shapes, 0.0, "int4") == 56
    assert scores["int4"] > scores["int8"] - 0.05


def test_a_compressed_estimator_predicts_with_the_weights_of_its_payload() -> None:
    X, y = iris()
    arch = {"layers": [{"id": 2, "units": 16, "activation": "relu"}], "edges": [[0, 2], [2, 1]]}
    common = {"learning_rate": 0.02, "max_epochs": 40, "random_state": 0}
    clf = GraphNetClassifier(arch, prune=0.5, precision="int8", finetune_epochs=3, **common)
    clf.fit(X, y)
    pairs = zip(clf.coefs_.values(), clf.intercepts_.values(), strict=True)
    shapes = [(w.shape, b.shape) for w, b in pairs]
    payload = clf.payload()
    assert len(payload) == payload_bytes(shapes, 0.5, "int8")
    weights, _ = decode(shapes, payload, 0.5, "int8")
    for w, stored in zip(weights, clf.coefs_.values(), strict=True):
        assert np.array_equal(w, stored)
        assert (stored == 0).mean() >= 0.5
    assert clf.score(X, y) > 0.8
    assert clf.n_epochs_ == len(clf.loss_curve_)
    with pytest.raises(ValueError, match="precision"):
        GraphNetClassifier(arch, precision="int2").fit(X, y)


COMPRESSED = TINY_TOML + '\n[compression]\nprune = [0.0, 0.5]\nprecision = ["float32", "int8"]\n'


def test_a_compressed_run_scores_and_exports_exactly_its_bytes(tmp_path) -> None:
    path = tmp_path / "compressed.toml"
    path.write_text(COMPRESSED, encoding="utf-8")
    space = SearchSpace.from_toml(path)
    assert space.to_dict()["compression"] == {"prune": [0.0, 0.5], "precision": ["float32", "int8"]}
    assert SearchSpace.from_dict(space.to_dict()) == space
    X, y = iris()
    out = tmp_path / "run"
    evolver = Evolver(
        path, population_size=4, generations=1, n_jobs=1, cv=2, objectives=("score", "bytes"),
        out=out,
    ).fit(X, y)  # fmt: skip
    journal = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    assert any("precision" in line["genome"]["hyperparameters"] for line in journal)
    record = load_run(out)
    dataset = load_run_dataset(record, X, y)
    for index, entry in enumerate(evolver.archive_.members):
        genome = Genome.from_json(entry.genome)
        assert entry.objectives[1] == Bytes().value(genome)
        metadata = export_member(record, dataset, index, tmp_path / f"export-{index}")
        blob = (tmp_path / f"export-{index}" / "weights.bin").read_bytes()
        assert len(blob) == metadata["payload_bytes"] == entry.objectives[1]
        model = joblib.load(tmp_path / f"export-{index}" / "model.joblib")
        hp = genome.hyperparameters
        shapes = genome.parameter_shapes()
        weights, _ = decode(shapes, blob, hp.get("prune", 0.0), hp.get("precision", "float32"))
        stored = list(model[-1].coefs_.values())
        assert all(np.array_equal(a, b) for a, b in zip(weights, stored, strict=True))
