"""Tests for evosearch.space.operators: every mutation and crossover keeps genomes valid."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import toy_layer  # noqa: F401  (registers the toy "wave" kind for the mixed space)
from hypothesis import given, settings
from hypothesis import strategies as st

from evosearch.nn import count_parameters
from evosearch.space.genome import INPUT, OUTPUT, Genome, InnovationCounter
from evosearch.space.operators import (
    applicable_mutations,
    cx_aligned,
    layer_attribute_names,
    mut_add_layer,
    mut_add_skip,
    mut_hyperparameter,
    mut_remove_layer,
    mut_remove_skip,
    mutate,
    mutations,
)
from evosearch.space.space import Choice, SearchSpace

MLP = SearchSpace.load("mlp")


def variant(architecture: dict[str, Any] | None = None, dense: dict[str, Any] | None = None):
    data = MLP.to_dict()
    data["architecture"].update(architecture or {})
    data["layers"]["dense"].update(dense or {})
    return SearchSpace.from_dict(data)


NO_SKIPS = variant({"skip_connections": False})
TIGHT = variant({"min_layers": 2, "max_layers": 2, "initial_layers": [2, 2]})
# Ranges instead of choices for the layer attributes, and layer-free genomes allowed.
RANGES = variant(
    {"min_layers": 0, "max_layers": 5, "initial_layers": [0, 3]},
    {"units": {"low": 1, "high": 48, "log": True}, "dropout": {"low": 0.0, "high": 0.5}},
)
# Two layer kinds: dense and the toy plug-in kind "wave" (its width follows its input's).
MIXED = SearchSpace.from_dict(
    {**MLP.to_dict(), "layers": {"dense": MLP.to_dict()["layers"]["dense"], "wave": {}}}
)
SPACES = {"mlp": MLP, "no_skips": NO_SKIPS, "tight": TIGHT, "ranges": RANGES, "mixed": MIXED}

seeds = st.integers(0, 2**32 - 1)
space_names = st.sampled_from(sorted(SPACES))


def snapshot(genome: Genome) -> str:
    return json.dumps(genome.to_json(), sort_keys=True)


def check_valid(genome: Genome, space: SearchSpace, n_inputs: int, n_outputs: int) -> None:
    genome.validate(space)
    assert (genome.n_inputs, genome.n_outputs) == (n_inputs, n_outputs)
    assert genome.n_params() == count_parameters(genome.to_architecture(), n_inputs, n_outputs)
    # Whatever an operator returns also survives the JSON round trip of a run folder.
    again = Genome.from_json(json.loads(json.dumps(genome.to_json())))
    assert again.canonical_hash() == genome.canonical_hash()


def population(space: SearchSpace, rng: np.random.Generator, counter: InnovationCounter, size=4):
    return [Genome.random(space, 6, 3, rng, counter) for _ in range(size)]


def evolved(space: SearchSpace, seed: int, steps: int) -> tuple[Genome, InnovationCounter]:
    rng = np.random.default_rng(seed)
    counter = InnovationCounter()
    genome = Genome.random(space, 6, 3, rng, counter)
    for _ in range(steps):
        genome, _ = mutate(genome, space, rng, counter)
    return genome, counter


# --------------------------------------------------------------------------- long random runs
@settings(max_examples=50, deadline=None)
@given(seed=seeds, name=space_names)
def test_random_variation_sequences_keep_every_invariant(seed: int, name: str) -> None:
    space = SPACES[name]
    rng = np.random.default_rng(seed)
    counter = InnovationCounter()
    pop = population(space, rng, counter)
    ever_seen = {node for genome in pop for node in genome.graph}
    for _ in range(50):
        if rng.random() < 0.6:
            parent = pop[int(rng.integers(len(pop)))]
            before = snapshot(parent)
            child, used = mutate(parent, space, rng, counter)
            assert used in mutations(space)
            assert snapshot(parent) == before
            new = set(child.graph) - set(parent.graph)
            if used == "add_layer":
                assert len(new) == 1
                assert not new & ever_seen, "a new layer reused an innovation id"
            else:
                assert not new
        else:
            primary, secondary = (pop[int(i)] for i in rng.integers(len(pop), size=2))
            both = snapshot(primary), snapshot(secondary)
            child = cx_aligned(primary, secondary, space, rng)
            assert (snapshot(primary), snapshot(secondary)) == both
            assert set(child.graph) <= set(primary.graph) | set(secondary.graph)
            assert set(primary.graph) <= set(child.graph)
        check_valid(child, space, 6, 3)
        ever_seen |= set(child.graph)
        assert counter.next_id > max(ever_seen)
        pop[int(rng.integers(len(pop)))] = child


# --------------------------------------------------------------------------- named mutations
def _layers(genome: Genome) -> dict[int, dict[str, Any]]:
    return {node: genome.layer(node) for node in genome.hidden_layers()}


def _check_named_effect(name: str, parent: Genome, child: Genome, space: SearchSpace) -> None:
    p_layers, c_layers = _layers(parent), _layers(child)
    p_edges, c_edges = set(parent.graph.edges), set(child.graph.edges)
    if name == "add_layer":
        assert child.depth == parent.depth + 1
        (new,) = set(c_layers) - set(p_layers)
        assert {k: c_layers[k] for k in p_layers} == p_layers
        # An edge u -> v was split into u -> new -> v.
        (u,) = child.graph.predecessors(new)
        (v,) = child.graph.successors(new)
        assert (u, v) in p_edges and (u, v) not in c_edges
        assert c_edges == (p_edges - {(u, v)}) | {(u, new), (new, v)}
        assert child.hyperparameters == parent.hyperparameters
    elif name == "remove_layer":
        assert child.depth == parent.depth - 1
        (gone,) = set(p_layers) - set(c_layers)
        assert {k: p_layers[k] for k in c_layers} == c_layers
        bridges = {(a, b) for a in parent.graph.predecessors(gone)
                   for b in parent.graph.successors(gone)}  # fmt: skip
        kept = {(a, b) for a, b in p_edges if gone not in (a, b)}
        assert c_edges == kept | bridges
        assert child.hyperparameters == parent.hyperparameters
    elif name in ("add_skip", "remove_skip"):
        assert c_layers == p_layers
        assert child.hyperparameters == parent.hyperparameters
        if name == "add_skip":
            assert p_edges < c_edges and len(c_edges) == len(p_edges) + 1
        else:
            assert c_edges < p_edges and len(c_edges) == len(p_edges) - 1
            (removed,) = p_edges - c_edges
            assert removed in parent.skip_edges()
    elif name in layer_attribute_names(space):
        assert c_edges == p_edges and set(c_layers) == set(p_layers)
        assert child.hyperparameters == parent.hyperparameters
        changed = [node for node in p_layers if c_layers[node] != p_layers[node]]
        domains = [params[name] for params in space.layers.values() if name in params]
        exact = all(isinstance(d, Choice) for d in domains)  # a range may round back
        assert len(changed) == 1 if exact else len(changed) <= 1
        for node in changed:
            diff = {k for k in p_layers[node] if c_layers[node][k] != p_layers[node][k]}
            assert diff == {name}
    elif name == "hyperparameter":
        assert c_edges == p_edges and c_layers == p_layers
        moved = {k for k in parent.hyperparameters
                 if child.hyperparameters[k] != parent.hyperparameters[k]}  # fmt: skip
        assert len(moved) <= 1
        assert set(child.hyperparameters) == set(parent.hyperparameters)
    else:  # pragma: no cover - a new mutation needs its own expectations here
        raise AssertionError(f"no expectation for mutation {name!r}")


@settings(max_examples=40, deadline=None)
@given(seed=seeds, name=space_names, steps=st.integers(0, 10))
def test_each_named_mutation_does_what_its_name_says(seed: int, name: str, steps: int) -> None:
    space = SPACES[name]
    genome, counter = evolved(space, seed, steps)
    applicable = applicable_mutations(genome, space)
    assert set(applicable) <= set(mutations(space))
    rng = np.random.default_rng(seed + 1)
    for mutation_name, mutation in mutations(space).items():
        before = snapshot(genome)
        child = mutation(genome, space, rng, counter)
        assert snapshot(genome) == before, f"{mutation_name} modified its parent"
        check_valid(child, space, 6, 3)
        if mutation_name in applicable:
            _check_named_effect(mutation_name, genome, child, space)
        elif mutation_name in ("add_layer", "remove_layer", "add_skip", "remove_skip"):
            assert snapshot(child) == before, f"inapplicable {mutation_name} changed the genome"


def test_hyperparameter_mutation_changes_exactly_the_named_key() -> None:
    genome, counter = evolved(MLP, 3, 4)
    rng = np.random.default_rng(0)
    for key in ("optimizer", "batch_size", "max_epochs"):  # choices: always move
        child = mut_hyperparameter(genome, MLP, rng, counter, key=key)
        changed = {k for k, v in genome.hyperparameters.items() if child.hyperparameters[k] != v}
        assert changed == {key}
    moved = 0
    for _ in range(20):  # ranges: almost always move, and only the named key
        child = mut_hyperparameter(genome, MLP, rng, counter, key="learning_rate")
        changed = {k for k, v in genome.hyperparameters.items() if child.hyperparameters[k] != v}
        assert changed <= {"learning_rate"}
        moved += bool(changed)
    assert moved >= 15


@settings(max_examples=30, deadline=None)
@given(seed=seeds, name=space_names, steps=st.integers(0, 10))
def test_applicable_mutations_respect_the_space(seed: int, name: str, steps: int) -> None:
    space = SPACES[name]
    genome, _ = evolved(space, seed, steps)
    applicable = applicable_mutations(genome, space)
    assert ("add_layer" in applicable) == (genome.depth < space.max_layers)
    assert ("remove_layer" in applicable) == (genome.depth > space.min_layers)
    if not space.skip_connections:
        assert "add_skip" not in applicable and "remove_skip" not in applicable
    assert ("remove_skip" in applicable) == bool(genome.skip_edges())
    assert "hyperparameter" in applicable
    if genome.depth == 0:
        assert not set(layer_attribute_names(space)) & set(applicable)
    kinds = {genome.graph.nodes[node]["kind"] for node in genome.hidden_layers()}
    assert ("omega" in applicable) == ("wave" in kinds)


def test_depth_bounds_are_respected_at_the_edges() -> None:
    rng = np.random.default_rng(0)
    counter = InnovationCounter()
    layer = {"units": 16, "activation": "relu", "dropout": 0.0}
    hp = MLP.sample_training(rng)
    deepest = Genome.chain(6, 3, [layer] * MLP.max_layers, hp, counter)
    shallowest = Genome.chain(6, 3, [layer] * MLP.min_layers, hp, counter)
    assert "add_layer" not in applicable_mutations(deepest, MLP)
    assert "remove_layer" in applicable_mutations(deepest, MLP)
    assert "remove_layer" not in applicable_mutations(shallowest, MLP)
    assert "add_layer" in applicable_mutations(shallowest, MLP)
    assert snapshot(mut_add_layer(deepest, MLP, rng, counter)) == snapshot(deepest)
    assert snapshot(mut_remove_layer(shallowest, MLP, rng, counter)) == snapshot(shallowest)
    tight = Genome.chain(6, 3, [layer] * 2, hp, counter)
    assert not {"add_layer", "remove_layer"} & set(applicable_mutations(tight, TIGHT))


def test_no_skip_space_never_gets_skips() -> None:
    rng = np.random.default_rng(1)
    counter = InnovationCounter()
    genome = Genome.random(NO_SKIPS, 6, 3, rng, counter)
    assert "add_skip" not in applicable_mutations(genome, NO_SKIPS)
    assert "add_skip" in applicable_mutations(genome, MLP)
    assert snapshot(mut_add_skip(genome, NO_SKIPS, rng, counter)) == snapshot(genome)
    assert snapshot(mut_remove_skip(genome, NO_SKIPS, rng, counter)) == snapshot(genome)


def test_add_skip_can_connect_input_to_output() -> None:
    genome = Genome.chain(6, 3, [], MLP.sample_training(np.random.default_rng(0)))
    # input -> output is already there: nothing to add.
    assert "add_skip" not in applicable_mutations(genome, MLP)
    genome = Genome.chain(
        6, 3, [MLP.sample_layer(np.random.default_rng(0))], genome.hyperparameters
    )
    child = mut_add_skip(genome, MLP, np.random.default_rng(0), InnovationCounter(3))
    assert set(child.graph.edges) == {(INPUT, 2), (2, OUTPUT), (INPUT, OUTPUT)}


def test_mutate_is_deterministic_per_seed() -> None:
    genome, _ = evolved(MLP, 11, 6)
    results = []
    for _ in range(2):
        rng = np.random.default_rng(42)
        counter = InnovationCounter(100)
        child = genome
        names = []
        for _ in range(20):
            child, used = mutate(child, MLP, rng, counter)
            names.append(used)
        results.append((snapshot(child), names))
    assert results[0] == results[1]


# --------------------------------------------------------------------------- crossover
def relatives(
    space: SearchSpace, seed: int, steps: int
) -> tuple[Genome, Genome, InnovationCounter, np.random.Generator]:
    """Two genomes that descend from one ancestor through different mutations."""
    ancestor, counter = evolved(space, seed, steps)
    rng = np.random.default_rng(seed + 7)
    a, b = ancestor, ancestor
    for _ in range(int(rng.integers(1, 6))):
        a, _ = mutate(a, space, rng, counter)
    for _ in range(int(rng.integers(1, 6))):
        b, _ = mutate(b, space, rng, counter)
    return a, b, counter, rng


@settings(max_examples=40, deadline=None)
@given(seed=seeds, name=space_names, steps=st.integers(0, 6))
def test_crossover_of_relatives(seed: int, name: str, steps: int) -> None:
    space = SPACES[name]
    a, b, _, rng = relatives(space, seed, steps)
    before = snapshot(a), snapshot(b)
    child = cx_aligned(a, b, space, rng)
    assert (snapshot(a), snapshot(b)) == before
    check_valid(child, space, 6, 3)
    # Every layer of the primary is kept; the rest come from the secondary.
    assert set(a.hidden_layers()) <= set(child.hidden_layers())
    assert set(child.graph) <= set(a.graph) | set(b.graph)
    for node in child.hidden_layers():
        attrs = child.layer(node)
        options = [g.layer(node) for g in (a, b) if node in g.graph]
        assert attrs in options
        if node not in a.graph:
            assert attrs == b.layer(node)
    for key, value in child.hyperparameters.items():
        assert value in (a.hyperparameters[key], b.hyperparameters[key])
    # With skips allowed, every edge of the primary is kept too.
    if space.skip_connections:
        assert set(a.graph.edges) <= set(child.graph.edges)


@settings(max_examples=25, deadline=None)
@given(seed=seeds, name=space_names, steps=st.integers(0, 6))
def test_crossover_is_deterministic_per_seed(seed: int, name: str, steps: int) -> None:
    space = SPACES[name]
    a, b, _, _ = relatives(space, seed, steps)
    first = cx_aligned(a, b, space, np.random.default_rng(seed))
    second = cx_aligned(a, b, space, np.random.default_rng(seed))
    assert snapshot(first) == snapshot(second)


@settings(max_examples=25, deadline=None)
@given(seed=seeds, name=space_names, steps=st.integers(0, 8))
def test_crossover_with_itself_is_a_copy(seed: int, name: str, steps: int) -> None:
    space = SPACES[name]
    genome, _ = evolved(space, seed, steps)
    child = cx_aligned(genome, genome, space, np.random.default_rng(seed))
    assert snapshot(child) == snapshot(genome)
    assert child is not genome and child.graph is not genome.graph


def test_crossover_mixes_shared_layers_from_both_parents() -> None:
    layer = {"units": 16, "activation": "relu", "dropout": 0.0}
    hp = MLP.sample_training(np.random.default_rng(0))
    a = Genome.chain(6, 3, [layer, layer], hp)  # layers 2 and 3
    b = a.copy()
    for node in (2, 3):
        b.graph.nodes[node].update(units=64, activation="tanh", dropout=0.5)
    b.hyperparameters["optimizer"] = "sgd" if hp["optimizer"] != "sgd" else "adam"
    sources: set[str] = set()
    for seed in range(40):
        child = cx_aligned(a, b, MLP, np.random.default_rng(seed))
        for node in (2, 3):
            sources.add("a" if child.layer(node) == a.layer(node) else "b")
            assert child.layer(node) in (a.layer(node), b.layer(node))
    assert sources == {"a", "b"}


def test_crossover_inherits_disjoint_layers_only_with_their_edges() -> None:
    hp = MLP.sample_training(np.random.default_rng(0))
    layer = {"units": 32, "activation": "elu", "dropout": 0.1}
    counter = InnovationCounter()
    a = Genome.chain(6, 3, [layer], hp, counter)  # 0 -> 2 -> 1
    b = mut_add_layer(a, MLP, np.random.default_rng(3), counter)  # adds layer 3
    assert set(b.hidden_layers()) == {2, 3}
    grew = 0
    for seed in range(30):
        child = cx_aligned(a, b, MLP, np.random.default_rng(seed))
        check_valid(child, MLP, 6, 3)
        assert 2 in child.graph
        if 3 in child.graph:
            grew += 1
            assert child.layer(3) == b.layer(3)
            assert set(child.graph.predecessors(3)) & set(b.graph.predecessors(3))
    assert 0 < grew < 30


@pytest.mark.parametrize("name", sorted(SPACES))
def test_crossover_above_max_depth_trims_back_to_the_bound(name: str) -> None:
    space = SPACES[name]
    rng = np.random.default_rng(5)
    counter = InnovationCounter()
    ancestor = Genome.random(space, 6, 3, rng, counter)
    a, b = ancestor, ancestor
    while a.depth < space.max_layers:
        a = mut_add_layer(a, space, rng, counter)
    while b.depth < space.max_layers:
        b = mut_add_layer(b, space, rng, counter)
    for seed in range(20):
        child = cx_aligned(a, b, space, np.random.default_rng(seed))
        check_valid(child, space, 6, 3)
        assert child.depth <= space.max_layers
        assert set(a.hidden_layers()) <= set(child.hidden_layers())
        if space.skip_connections:
            assert set(a.graph.edges) <= set(child.graph.edges)
