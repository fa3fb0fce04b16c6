"""Tests for Genome: validity, parameter counts, JSON, canonical hash, validate()."""

from __future__ import annotations

import copy
import json
from typing import Any

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evosearch.errors import InvalidGenomeError
from evosearch.nn import count_parameters
from evosearch.space.genome import INPUT, OUTPUT, Genome, InnovationCounter
from evosearch.space.operators import mutate
from evosearch.space.space import SearchSpace

SPACE = SearchSpace.load("mlp")
HP = {
    "optimizer": "adam",
    "learning_rate": 0.01,
    "l1": 1e-6,
    "l2": 1e-4,
    "batch_size": 32,
    "max_epochs": 50,
}


def layer(units: int, activation: str = "relu", dropout: float = 0.0) -> dict[str, Any]:
    return {"units": units, "activation": activation, "dropout": dropout}


def dag(
    n_inputs: int, n_outputs: int, layers: dict[int, dict[str, Any]], edges: list[tuple[int, int]]
) -> Genome:
    graph = nx.DiGraph()
    graph.add_node(INPUT, kind="input", units=n_inputs)
    graph.add_node(OUTPUT, kind="output", units=n_outputs)
    for node, attrs in layers.items():
        graph.add_node(node, kind="dense", **attrs)
    graph.add_edges_from(edges)
    return Genome(graph, dict(HP))


def skip_genome() -> Genome:
    """0(5) -> 2(8) -> 3(4) -> 1(3) with skips 0 -> 3 and 2 -> 1."""
    return dag(
        5,
        3,
        {2: layer(8), 3: layer(4, "tanh", 0.1)},
        [(0, 2), (2, 3), (3, 1), (0, 3), (2, 1)],
    )


def evolved(seed: int, steps: int, space: SearchSpace = SPACE) -> Genome:
    """A random genome after ``steps`` random mutations (so it may hold skip edges)."""
    rng = np.random.default_rng(seed)
    counter = InnovationCounter()
    genome = Genome.random(space, int(rng.integers(1, 20)), int(rng.integers(1, 6)), rng, counter)
    for _ in range(steps):
        genome, _ = mutate(genome, space, rng, counter)
    return genome


seeds = st.integers(0, 2**32 - 1)


# --------------------------------------------------------------------------- construction
@settings(max_examples=40, deadline=None)
@given(seed=seeds, n_inputs=st.integers(1, 100), n_outputs=st.integers(1, 20))
def test_random_genomes_are_valid_chains(seed: int, n_inputs: int, n_outputs: int) -> None:
    genome = Genome.random(SPACE, n_inputs, n_outputs, np.random.default_rng(seed))
    genome.validate(SPACE)
    low, high = SPACE.initial_layers
    assert low <= genome.depth <= high
    assert (genome.n_inputs, genome.n_outputs) == (n_inputs, n_outputs)
    assert genome.skip_edges() == []
    assert all(d <= 1 for _, d in genome.graph.out_degree())


def test_random_is_deterministic_per_seed() -> None:
    a = Genome.random(SPACE, 8, 3, np.random.default_rng(7))
    b = Genome.random(SPACE, 8, 3, np.random.default_rng(7))
    assert a.to_json() == b.to_json()


def test_innovation_counter_hands_out_fresh_ids() -> None:
    counter = InnovationCounter()
    first = Genome.chain(4, 2, [layer(8), layer(8)], HP, counter)
    second = Genome.chain(4, 2, [layer(8)], HP, counter)
    assert first.hidden_layers() == [2, 3]
    assert second.hidden_layers() == [4]
    fresh = InnovationCounter()
    fresh.observe(first)
    assert fresh() == 4


# --------------------------------------------------------------------------- n_params
def test_n_params_of_a_chain_by_hand() -> None:
    genome = Genome.chain(5, 3, [layer(8), layer(4)], HP)
    # 5 -> 8 -> 4 -> 3: weights plus biases of each dense layer and of the output.
    expected = (5 * 8 + 8) + (8 * 4 + 4) + (4 * 3 + 3)
    assert genome.n_params() == expected == 99
    assert count_parameters(genome.to_architecture(), 5, 3) == expected


def test_n_params_with_no_hidden_layer() -> None:
    genome = Genome.chain(5, 3, [], HP)
    assert genome.n_params() == 5 * 3 + 3
    assert count_parameters(genome.to_architecture(), 5, 3) == 5 * 3 + 3


def test_n_params_concatenates_skip_inputs() -> None:
    genome = skip_genome()
    genome.validate()
    # node 2 reads the input (5); node 3 reads [input, node 2] = 5 + 8;
    # the output reads [node 2, node 3] = 8 + 4.
    expected = (5 * 8 + 8) + ((5 + 8) * 4 + 4) + ((8 + 4) * 3 + 3)
    assert genome.n_params() == expected == 143
    assert count_parameters(genome.to_architecture(), 5, 3) == expected
    assert genome.input_width(3) == 13 and genome.input_width(OUTPUT) == 12


def test_n_params_with_input_to_output_edge() -> None:
    genome = skip_genome()
    genome.graph.add_edge(INPUT, OUTPUT)
    genome.validate()
    expected = (5 * 8 + 8) + ((5 + 8) * 4 + 4) + ((5 + 8 + 4) * 3 + 3)
    assert genome.n_params() == expected == 158
    assert count_parameters(genome.to_architecture(), 5, 3) == expected


@settings(max_examples=30, deadline=None)
@given(seed=seeds, steps=st.integers(0, 12))
def test_n_params_matches_network_for_evolved_genomes(seed: int, steps: int) -> None:
    genome = evolved(seed, steps)
    expected = count_parameters(genome.to_architecture(), genome.n_inputs, genome.n_outputs)
    assert genome.n_params() == expected


def test_skip_edges_of_a_skip_genome() -> None:
    assert skip_genome().skip_edges() == [(0, 3), (2, 1), (2, 3)]
    assert Genome.chain(4, 2, [layer(8)], HP).skip_edges() == []


def test_describe_mentions_layers_and_optimizer() -> None:
    text = skip_genome().describe()
    assert "8 relu" in text and "4 tanh" in text and "adam" in text and "skips" in text
    assert "no hidden layer" in Genome.chain(4, 2, [], HP).describe()


# --------------------------------------------------------------------------- JSON
@settings(max_examples=30, deadline=None)
@given(seed=seeds, steps=st.integers(0, 12))
def test_json_round_trip_preserves_everything(seed: int, steps: int) -> None:
    genome = evolved(seed, steps)
    data = json.loads(json.dumps(genome.to_json()))
    again = Genome.from_json(data)
    assert sorted(again.graph.nodes(data=True)) == sorted(genome.graph.nodes(data=True))
    assert sorted(again.graph.edges) == sorted(genome.graph.edges)
    assert again.hyperparameters == genome.hyperparameters
    assert again.canonical_hash() == genome.canonical_hash()
    assert again.to_json() == genome.to_json()
    assert again.n_params() == genome.n_params()
    assert again.equivalent(genome)
    again.validate(SPACE)


def test_json_round_trip_of_a_skip_genome() -> None:
    genome = skip_genome()
    again = Genome.from_json(json.loads(json.dumps(genome.to_json())))
    assert sorted(again.graph.edges) == sorted(genome.graph.edges)
    assert again.graph.nodes[3] == genome.graph.nodes[3]
    assert again.hyperparameters == HP


def _valid_json() -> dict[str, Any]:
    return skip_genome().to_json()


def _relabel(old: int, new: Any) -> dict[str, Any]:
    data = _valid_json()
    for node in data["graph"]["nodes"]:
        node["id"] = new if node["id"] == old else node["id"]
    for edge in data["graph"]["edges"]:
        for end in ("source", "target"):
            edge[end] = new if edge[end] == old else edge[end]
    return data


def _set(path: tuple, value: Any) -> dict[str, Any]:
    data = _valid_json()
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


MALFORMED: list[Any] = [
    None,
    [],
    "genome",
    {},
    {"format_version": 1},
    {"format_version": 2, "graph": _valid_json()["graph"], "hyperparameters": HP},
    {"graph": _valid_json()["graph"], "hyperparameters": HP},
    {"format_version": 1, "graph": _valid_json()["graph"]},
    _set(("graph",), None),
    _set(("graph",), []),
    _set(("graph", "nodes"), 5),
    _set(("graph", "nodes"), ["a", "b"]),
    _set(("graph", "edges"), [[0, 1]]),
    _set(("graph", "nodes", 2), layer(8)),  # no id: networkx numbers it 0, over the input
    _set(("graph", "nodes", 2, "units"), "8"),
    _set(("graph", "nodes", 2, "units"), 8.0),
    _set(("graph", "nodes", 2, "units"), 0),
    _set(("graph", "nodes", 2, "kind"), "conv"),
    _set(("graph", "nodes", 0, "kind"), "dense"),
    _set(("graph", "nodes", 2, "id"), "2"),
    _relabel(3, "three"),  # innovation ids are ints
    _relabel(3, 2.5),
    _relabel(3, [3]),
    _set(("graph", "edges", 0, "target"), 9),  # edge to an unknown node
    _set(("graph", "edges", 0), {"source": 3, "target": 2}),  # cycle 2 -> 3 -> 2
    _set(("graph", "directed"), False),
    _set(("hyperparameters",), None),
    _set(("hyperparameters",), 3),
    # dict() accepts pairs; a null key then broke hashing (found by the fuzz test below)
    _set(("hyperparameters",), [[None, 1], ["optimizer", "adam"]]),
    _set(("hyperparameters",), [["optimizer", "adam"]]),
    _set(("preprocessing",), [["scaler", "standard"]]),
]


@pytest.mark.parametrize("data", MALFORMED)
def test_from_json_rejects_malformed_data(data: Any) -> None:
    with pytest.raises(ValueError):
        Genome.from_json(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 12) | st.floats() | st.text(max_size=4),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["id", "kind", "units", "source", "target"]), children)
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), value=json_values)
def test_from_json_fuzz_returns_usable_genome_or_value_error(data: Any, value: Any) -> None:
    doc = _valid_json()
    # Walk to a random place in the document and replace it.
    target: Any = doc
    while True:
        keys = list(target) if isinstance(target, dict) else list(range(len(target)))
        if not keys:
            break
        key = data.draw(st.sampled_from(keys))
        child = target[key]
        if isinstance(child, (dict, list)) and child and data.draw(st.booleans()):
            target = child
            continue
        target[key] = value
        break
    try:
        genome = Genome.from_json(json.loads(json.dumps(doc)))
    except ValueError:
        return
    # Whatever from_json accepts is structurally sound and usable by the rest of the package.
    genome.validate()
    genome.hidden_layers()
    genome.n_params()
    genome.canonical_hash()
    counter = InnovationCounter()
    counter.observe(genome)
    assert counter() not in genome.graph


# --------------------------------------------------------------------------- canonical hash
def relabelled(genome: Genome, offset: int = 100) -> Genome:
    hidden = genome.hidden_layers()
    # Reverse the order too, so ids no longer follow the topological order.
    mapping = {node: offset + i for i, node in enumerate(reversed(hidden))}
    return Genome(nx.relabel_nodes(genome.graph, mapping), copy.deepcopy(genome.hyperparameters))


@settings(max_examples=30, deadline=None)
@given(seed=seeds, steps=st.integers(0, 12))
def test_hash_ignores_innovation_ids(seed: int, steps: int) -> None:
    genome = evolved(seed, steps)
    other = relabelled(genome)
    assert set(other.graph) != set(genome.graph) or genome.depth == 0
    assert other.canonical_hash() == genome.canonical_hash()
    assert other.equivalent(genome) and genome.equivalent(other)
    assert other.n_params() == genome.n_params()


def _changed_units(g: Genome) -> None:
    node = g.hidden_layers()[0]
    g.graph.nodes[node]["units"] = 16 if g.graph.nodes[node]["units"] != 16 else 32


def _changed_activation(g: Genome) -> None:
    node = g.hidden_layers()[-1]
    g.graph.nodes[node]["activation"] = (
        "elu" if g.graph.nodes[node]["activation"] != "elu" else "relu"
    )


def _changed_dropout(g: Genome) -> None:
    node = g.hidden_layers()[0]
    g.graph.nodes[node]["dropout"] = 0.5 if g.graph.nodes[node]["dropout"] != 0.5 else 0.1


def _added_edge(g: Genome) -> None:
    g.graph.add_edge(INPUT, OUTPUT)


def _removed_edge(g: Genome) -> None:
    g.graph.remove_edge(2, OUTPUT)


def _changed_hyperparameter(g: Genome) -> None:
    g.hyperparameters["learning_rate"] = 0.02


def _changed_optimizer(g: Genome) -> None:
    g.hyperparameters["optimizer"] = "sgd"


def _changed_n_inputs(g: Genome) -> None:
    g.graph.nodes[INPUT]["units"] = 6


@pytest.mark.parametrize(
    "change",
    [
        _changed_units,
        _changed_activation,
        _changed_dropout,
        _added_edge,
        _removed_edge,
        _changed_hyperparameter,
        _changed_optimizer,
        _changed_n_inputs,
    ],
)
def test_hash_and_equivalence_see_every_difference(change: Any) -> None:
    genome = skip_genome()
    other = genome.copy()
    change(other)
    other.validate()
    assert other.canonical_hash() != genome.canonical_hash()
    assert not other.equivalent(genome)
    # The change is seen under relabelling too, and the original is untouched by copy().
    assert relabelled(other).canonical_hash() == other.canonical_hash()
    assert genome.to_json() == skip_genome().to_json()


def test_hash_distinguishes_layer_order() -> None:
    a = Genome.chain(4, 2, [layer(8), layer(16)], HP)
    b = Genome.chain(4, 2, [layer(16), layer(8)], HP)
    assert a.canonical_hash() != b.canonical_hash()
    assert not a.equivalent(b)


def test_hash_is_stable_and_hex() -> None:
    genome = skip_genome()
    value = genome.canonical_hash()
    assert value == skip_genome().canonical_hash()
    int(value, 16)


# --------------------------------------------------------------------------- validate
def _cycle(g: Genome) -> None:
    g.graph.add_edge(3, 2)


def _self_loop(g: Genome) -> None:
    g.graph.add_edge(3, 3)


def _stranded_dead_end(g: Genome) -> None:
    g.graph.add_node(9, kind="dense", **layer(8))
    g.graph.add_edge(2, 9)


def _stranded_unreachable(g: Genome) -> None:
    g.graph.add_node(9, kind="dense", **layer(8))
    g.graph.add_edge(9, 3)


def _isolated(g: Genome) -> None:
    g.graph.add_node(9, kind="dense", **layer(8))


def _no_output(g: Genome) -> None:
    g.graph.remove_node(OUTPUT)


def _no_input(g: Genome) -> None:
    g.graph.remove_node(INPUT)


def _output_wrong_kind(g: Genome) -> None:
    g.graph.nodes[OUTPUT]["kind"] = "dense"


def _hidden_wrong_kind(g: Genome) -> None:
    g.graph.nodes[2]["kind"] = "conv"


def _bad_units(g: Genome) -> None:
    g.graph.nodes[2]["units"] = 0


def _bool_units(g: Genome) -> None:
    g.graph.nodes[2]["units"] = True


def _string_id(g: Genome) -> None:
    nx.relabel_nodes(g.graph, {3: "three"}, copy=False)


@pytest.mark.parametrize(
    "breakage",
    [
        _cycle,
        _self_loop,
        _stranded_dead_end,
        _stranded_unreachable,
        _isolated,
        _no_output,
        _no_input,
        _output_wrong_kind,
        _hidden_wrong_kind,
        _bad_units,
        _bool_units,
        _string_id,
    ],
)
def test_validate_rejects_broken_structure(breakage: Any) -> None:
    genome = skip_genome()
    genome.validate()
    breakage(genome)
    with pytest.raises(InvalidGenomeError):
        genome.validate()
    with pytest.raises(InvalidGenomeError):
        genome.validate(SPACE)


def _space(**architecture: Any) -> SearchSpace:
    data = SPACE.to_dict()
    data["architecture"].update(architecture)
    return SearchSpace.from_dict(data)


def test_validate_depth_bounds() -> None:
    chain = [layer(16)] * 5
    with pytest.raises(InvalidGenomeError, match="hidden layers"):
        Genome.chain(4, 2, chain, HP).validate(SPACE)  # max_layers is 4
    Genome.chain(4, 2, chain[:4], HP).validate(SPACE)
    Genome.chain(4, 2, [], HP).validate(SPACE)  # min_layers is 0: logistic regression
    with pytest.raises(InvalidGenomeError, match="hidden layers"):
        Genome.chain(4, 2, [], HP).validate(_space(min_layers=1))
    tight = _space(min_layers=2, max_layers=2, initial_layers=[2, 2])
    with pytest.raises(InvalidGenomeError):
        Genome.chain(4, 2, chain[:1], HP).validate(tight)
    with pytest.raises(InvalidGenomeError):
        Genome.chain(4, 2, chain[:3], HP).validate(tight)
    Genome.chain(4, 2, chain[:2], HP).validate(tight)


def test_validate_rejects_skips_in_a_no_skip_space() -> None:
    no_skips = _space(skip_connections=False)
    genome = Genome.chain(4, 2, [layer(16), layer(32)], HP)
    genome.validate(no_skips)
    genome.graph.add_edge(INPUT, OUTPUT)
    genome.validate(SPACE)
    with pytest.raises(InvalidGenomeError, match="skip"):
        genome.validate(no_skips)


@pytest.mark.parametrize(
    ("key", "value"),
    [("units", 17), ("units", 1024), ("activation", "swish"), ("activation", None),
     ("dropout", 0.7), ("dropout", "0.1"), ("units", 16.5)],
)  # fmt: skip
def test_validate_rejects_layer_attributes_outside_the_space(key: str, value: Any) -> None:
    genome = Genome.chain(4, 2, [layer(16), layer(32)], HP)
    genome.validate(SPACE)
    genome.graph.nodes[3][key] = value
    with pytest.raises(InvalidGenomeError):
        genome.validate(SPACE)


def test_validate_rejects_missing_layer_attribute() -> None:
    genome = Genome.chain(4, 2, [layer(16)], HP)
    del genome.graph.nodes[2]["activation"]
    with pytest.raises(InvalidGenomeError):
        genome.validate(SPACE)


@pytest.mark.parametrize(
    "change",
    [
        {"learning_rate": 1.0},
        {"learning_rate": "0.01"},
        {"optimizer": "lbfgs"},
        {"batch_size": 48},
        {"batch_size": True},
        {"l2": -1.0},
        {"max_epochs": 75},
    ],
)
def test_validate_rejects_hyperparameters_outside_the_space(change: dict[str, Any]) -> None:
    genome = Genome.chain(4, 2, [layer(16)], {**HP, **change})
    with pytest.raises(InvalidGenomeError):
        genome.validate(SPACE)


def test_validate_rejects_wrong_hyperparameter_keys() -> None:
    missing = {k: v for k, v in HP.items() if k != "l1"}
    with pytest.raises(InvalidGenomeError, match="hyperparameters"):
        Genome.chain(4, 2, [layer(16)], missing).validate(SPACE)
    with pytest.raises(InvalidGenomeError, match="hyperparameters"):
        Genome.chain(4, 2, [layer(16)], {**HP, "momentum": 0.9}).validate(SPACE)
    # Without a space only the structure is checked.
    Genome.chain(4, 2, [layer(16)], missing).validate()


def test_copy_is_deep() -> None:
    genome = skip_genome()
    clone = genome.copy()
    clone.graph.nodes[2]["units"] = 64
    clone.graph.add_edge(INPUT, OUTPUT)
    clone.hyperparameters["optimizer"] = "sgd"
    assert genome.to_json() == skip_genome().to_json()
