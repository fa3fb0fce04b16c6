"""Property tests: long random operator sequences on convolutional genomes keep every invariant
(shapes consistent, skip edges only where spatial sizes match, the space's bounds)."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from evosearch.nn.graph import count_parameters
from evosearch.space import Genome, InnovationCounter, SearchSpace
from evosearch.space.operators import (
    applicable_mutations,
    cx_aligned,
    mut_add_layer,
    mut_add_skip,
    mutate,
    mutations,
)

CNN = SearchSpace.load("cnn")
_data = CNN.to_dict()
_data["architecture"]["skip_connections"] = False
CNN_CHAIN = SearchSpace.from_dict(_data)
SPACES = {"cnn": CNN, "cnn_chain": CNN_CHAIN}
SHAPE = (8, 8, 1)


def snapshot(genome: Genome) -> str:
    return json.dumps(genome.to_json(), sort_keys=True)


def check_valid(genome: Genome, space: SearchSpace) -> None:
    genome.validate(space)
    assert genome.input_shape == SHAPE
    architecture = genome.to_architecture()
    assert genome.n_params() == count_parameters(architecture, 64, 10)
    shapes = genome.shapes()
    for node in genome.graph:
        preds = sorted(genome.graph.predecessors(node))
        if node == 1 or len(preds) < 2 or genome.graph.nodes[node]["kind"] == "dense":
            continue
        # An image layer merges only images of its own spatial size.
        sides = {(genome.input_shape if p == 0 else shapes[p][1])[:2] for p in preds}
        assert len(sides) == 1, (node, sides)
    again = Genome.from_json(json.loads(json.dumps(genome.to_json())))
    assert again.canonical_hash() == genome.canonical_hash()


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), name=st.sampled_from(sorted(SPACES)))
def test_random_variation_sequences_keep_conv_genomes_valid(seed: int, name: str) -> None:
    space = SPACES[name]
    rng = np.random.default_rng(seed)
    counter = InnovationCounter()
    pop = [Genome.random(space, 64, 10, rng, counter, SHAPE) for _ in range(4)]
    for genome in pop:
        check_valid(genome, space)
    used_names = set()
    for _ in range(40):
        if rng.random() < 0.6:
            parent = pop[int(rng.integers(len(pop)))]
            before = snapshot(parent)
            child, used = mutate(parent, space, rng, counter)
            used_names.add(used)
            assert used in mutations(space)
            assert snapshot(parent) == before
        else:
            primary, secondary = (pop[int(i)] for i in rng.integers(len(pop), size=2))
            both = snapshot(primary), snapshot(secondary)
            child = cx_aligned(primary, secondary, space, rng)
            assert (snapshot(primary), snapshot(secondary)) == both
            assert set(primary.graph) <= set(child.graph)
        check_valid(child, space)
        assert counter.next_id > max(child.graph)
        pop[int(rng.integers(len(pop)))] = child


def test_added_layers_and_skips_fit_the_shapes_around_them() -> None:
    rng = np.random.default_rng(3)
    counter = InnovationCounter()
    genome = Genome.random(CNN, 64, 10, rng, counter, SHAPE)
    kinds = set()
    for _ in range(30):
        grown = mut_add_layer(genome, CNN, rng, counter)
        check_valid(grown, CNN)
        kinds |= {grown.graph.nodes[n]["kind"] for n in set(grown.graph) - set(genome.graph)}
        skipped = mut_add_skip(grown, CNN, rng, counter)
        check_valid(skipped, CNN)
        genome = grown if grown.depth < CNN.max_layers else genome
    assert kinds & {"conv2d", "pool"}
    assert "add_skip" in applicable_mutations(genome, CNN) or not genome.depth
