"""The layer-kind contract suite, parametrised over the layer registry.

Every registered kind (``dense``, and any plug-in registered before the tests are collected) is
checked for: gradients of forward/backward against central finite differences in float64 (the
kind's input gradient included: it feeds a layer before it), declared output and parameter shapes
and counts equal to the built arrays, labels, pickling, and mutation of each declared attribute
keeping a genome valid (:meth:`~evosearch.space.Genome.validate`) and decodable, and, for each
of the ``python`` and ``onnx`` export formats, a trained network holding the kind predicting as
the estimator once exported, or (a kind without numpy code / ONNX emitter) the export refused
in one line naming the kind; its numpy code is also checked against its forward pass.

Use it from a test module (Optuna's habit)::

    from evosearch.testing.layers import LayerKindContract

    class TestLayerKinds(LayerKindContract):
        pass

The parameter list is built from :func:`~evosearch.nn.layers.layer_kinds` when the module is
collected, so import (register) plug-ins at the top of that module. The checks are also plain
functions (``check_*``) that take a kind, for use without pytest. The networks built here have a
flat input (shape ``(features,)``), or for a kind that reads images (``image_input``) a 4x4x2
image input and a 1x1 ``conv2d`` before the kind; a kind that refuses both is skipped with its
reason.
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np

from evosearch.nn.graph import Network, Workspace, count_parameters, parse_architecture
from evosearch.nn.layers import LayerKind, get_layer_kind, layer_kinds
from evosearch.nn.train import init_network
from evosearch.space.genome import Genome, InnovationCounter
from evosearch.space.operators import cx_aligned, mut_layer_attribute, mutate
from evosearch.space.space import Choice, SearchSpace

__all__ = [
    "LayerKindContract",
    "check_export",
    "check_gradients",
    "check_labels_and_pickling",
    "check_mutations_keep_genomes_valid",
    "check_numpy_source",
    "check_shapes_and_counts",
    "default_space",
    "example_layers",
]

_N_FEATURES, _N_OUTPUTS, _BATCH = 5, 3, 4
_IMAGE = (4, 4, 2)


def _n_features(kind: LayerKind) -> int:
    return int(np.prod(_IMAGE)) if kind.image_input else _N_FEATURES


def _input_shape(kind: LayerKind) -> tuple[int, ...] | None:
    return _IMAGE if kind.image_input else None


def default_space(kind: LayerKind, **architecture: Any) -> SearchSpace:
    """A search space whose only layer kind is ``kind`` with its default domains."""
    return SearchSpace.from_dict(
        {"layers": {kind.name: {}}, "architecture": {"max_layers": 4, **architecture}},
        source=f"<{kind.name} defaults>",
    )


def example_layers(kind: LayerKind, limit: int = 24) -> list[dict[str, Any]]:
    """Attribute sets to test: a base draw from the default domains, then each attribute set
    in turn to each of (up to 5 of) its choices, or to 3 draws of a range."""
    domains = default_space(kind).layers[kind.name]
    rng = np.random.default_rng(0)
    base = {key: param.sample(rng) for key, param in domains.items()}
    examples = [base]
    for key, param in domains.items():
        if isinstance(param, Choice):
            values = list(param.values)
            if len(values) > 5:  # the smallest ones (cheap) and the largest
                values = [*values[:4], values[-1]]
        else:
            values = [param.sample(rng) for _ in range(3)]
        examples += [{**base, key: value} for value in values if value != base[key]]
    return examples[:limit]


def _architecture(kind: LayerKind, attrs: dict[str, Any], own: bool = True) -> dict[str, Any]:
    """``0 -> 2 (dense tanh) -> 3 (kind) -> 1`` plus ``0 -> 3`` and ``3 -> 4 (kind) -> 1``: the
    kind merges two inputs, passes a gradient back to a layer, and feeds one of its own.

    For an image kind node 2 is a 1x1 ``conv2d`` (tanh) on a 4x4x2 image; when the kind cannot
    read its own output (``global_pool`` makes a vector) node 4 is a dense tanh layer
    (``own=False``)."""
    tanh: dict[str, Any] = {"id": 2, "kind": "dense", "units": 4, "activation": "tanh"}
    if kind.image_input:
        tanh = {"id": 2, "kind": "conv2d", "filters": 3, "kernel": 1, "stride": 1}
        tanh["activation"] = "tanh"
    fourth = (
        {"id": 4, "kind": kind.name, **attrs}
        if own
        else {"id": 4, "kind": "dense", "units": 4, "activation": "tanh", "dropout": 0.0}
    )
    architecture: dict[str, Any] = {
        "layers": [{**tanh, "dropout": 0.0}, {"id": 3, "kind": kind.name, **attrs}, fourth],
        "edges": [[0, 2], [0, 3], [2, 3], [3, 4], [3, 1], [4, 1]],
    }
    if kind.image_input:
        architecture["input_shape"] = list(_IMAGE)
    try:
        parse_architecture(architecture, _n_features(kind), _N_OUTPUTS)
    except ValueError:
        if own:
            return _architecture(kind, attrs, own=False)
    return architecture


def _plan(kind: LayerKind, attrs: dict[str, Any]) -> Any:
    try:
        return parse_architecture(_architecture(kind, attrs), _n_features(kind), _N_OUTPUTS)
    except ValueError as exc:
        import pytest

        pytest.skip(f"{kind.name} refuses its test inputs: {exc}")


def check_gradients(kind: LayerKind, attrs: dict[str, Any], seed: int = 0) -> None:
    """Backward's gradients equal central finite differences of forward (float64), for every
    parameter of a network where the kind merges two inputs and feeds a layer of its own."""
    steps = _plan(kind, attrs)
    rng = np.random.default_rng(seed)
    weights, biases, grad_w, grad_b = [], [], [], []
    for step in steps:
        w_shape, b_shape = step.parameter_shapes()
        weights.append(np.zeros(w_shape))
        biases.append(np.zeros(b_shape))
        grad_w.append(np.zeros(w_shape))
        grad_b.append(np.zeros(b_shape))
        step.kind.initialize(step.attrs, step.in_shape, weights[-1], biases[-1], rng)
    net = Network(steps, weights, biases)
    ws = Workspace(steps, _BATCH, train=True, dtype=np.float64)
    x = rng.normal(size=(_BATCH, _n_features(kind)))
    probe = rng.normal(size=(_BATCH, _N_OUTPUTS))

    def loss() -> float:
        # The same Generator state each time: training noise (dropout) is a fixed function.
        out = net.forward(ws, x, np.random.default_rng(seed + 1))
        return float(np.sum(out * probe))

    loss()
    ws.grad[-1][...] = probe
    net.backward(ws, grad_w, grad_b)
    h = 1e-6
    pick = np.random.default_rng(seed + 2)
    for arrays, grads, what in ((weights, grad_w, "weights"), (biases, grad_b, "biases")):
        for step, array, grad in zip(steps, arrays, grads, strict=True):
            flat, flat_grad = array.reshape(-1), grad.reshape(-1)
            indices = np.arange(flat.size)
            if flat.size > 40:
                indices = pick.choice(flat.size, 40, replace=False)
            numeric = np.empty(indices.size)
            for j, i in enumerate(indices):
                saved = flat[i]
                flat[i] = saved + h
                up = loss()
                flat[i] = saved - h
                down = loss()
                flat[i] = saved
                numeric[j] = (up - down) / (2 * h)
            scale = max(1.0, float(np.abs(numeric).max(initial=0.0)))
            np.testing.assert_allclose(
                flat_grad[indices],
                numeric,
                rtol=1e-4,
                atol=1e-5 * scale,
                err_msg=f"{what} of node {step.node_id} ({step.kind.name}, {step.attrs})",
            )


def check_shapes_and_counts(kind: LayerKind, attrs: dict[str, Any]) -> None:
    """Declared output shapes, parameter shapes and counts equal the built (float32) arrays,
    and the genome's ``n_params()`` equals the network's; multiply-adds are a count of at
    least one per weight, and the genome's ``n_macs()`` is their sum."""
    steps = _plan(kind, attrs)
    net, flat, _, _, _, n_weights = init_network(steps, np.random.default_rng(0))
    for step, w, b in zip(steps, net.weights, net.biases, strict=True):
        assert (w.shape, b.shape) == step.parameter_shapes()
        assert w.dtype == b.dtype == np.float32
        assert step.kind.n_params(step.attrs, step.in_shape) == w.size + b.size
        macs = step.kind.macs(step.attrs, step.in_shape)
        # Every weight multiplies at least once per sample (a weightless layer may do none).
        assert isinstance(macs, int) and macs >= w.size
    assert n_weights == sum(w.size for w in net.weights)
    architecture = _architecture(kind, attrs)
    n_features = _n_features(kind)
    assert count_parameters(architecture, n_features, _N_OUTPUTS) == flat.size
    for train in (True, False):
        ws = Workspace(steps, _BATCH, train=train)
        x = np.random.default_rng(1).normal(size=(_BATCH, n_features)).astype(np.float32)
        out = net.forward(ws, x, np.random.default_rng(2) if train else None)
        for k, step in enumerate(steps):
            assert ws.acts[k + 1].shape == (_BATCH, *step.out_shape), step.node_id
        assert out.shape == (_BATCH, _N_OUTPUTS)
        assert np.isfinite(out).all()
    # The genome of the same graph counts the same parameters from its attributes alone.
    genome = Genome.chain(n_features, _N_OUTPUTS, [], {}, input_shape=_input_shape(kind))
    graph = genome.graph
    graph.remove_edge(0, 1)
    for layer in architecture["layers"]:
        graph.add_node(layer["id"], **{k: v for k, v in layer.items() if k != "id"})
    graph.add_edges_from(map(tuple, architecture["edges"]))
    genome.validate()
    assert genome.n_params() == flat.size
    assert genome.n_macs() == sum(step.kind.macs(step.attrs, step.in_shape) for step in steps)
    assert genome.to_architecture()["layers"][1] == {"id": 3, "kind": kind.name, **attrs}


def check_mutations_keep_genomes_valid(kind: LayerKind, seed: int = 0, rounds: int = 15) -> None:
    """Random genomes of the kind's default space stay valid in it (``validate``) and
    decodable under every attribute mutation, under ``mutate`` and under crossover."""
    rng = np.random.default_rng(seed)
    for space in (default_space(kind), default_space(kind, skip_connections=False)):
        counter = InnovationCounter()
        population = [
            Genome.random(space, _n_features(kind), _N_OUTPUTS, rng, counter, _input_shape(kind))
            for _ in range(4)
        ]
        for _ in range(rounds):
            genome = population[int(rng.integers(len(population)))]
            for key in kind.attribute_names():
                child = mut_layer_attribute(genome, space, rng, counter, key=key)
                child.validate(space)
                changed = {
                    k
                    for n in genome.hidden_layers()
                    for k, v in genome.layer(n).items()
                    if child.layer(n)[k] != v
                }
                assert changed <= {key}, f"mutating {key} changed {changed}"
            child, _ = mutate(genome, space, rng, counter)
            child.validate(space)
            other = population[int(rng.integers(len(population)))]
            child = cx_aligned(child, other, space, rng)
            child.validate(space)
            architecture = child.to_architecture()
            n_params = count_parameters(architecture, _n_features(kind), _N_OUTPUTS)
            assert n_params == child.n_params()
            population[int(rng.integers(len(population)))] = child


def check_labels_and_pickling(kind: LayerKind, attrs: dict[str, Any]) -> None:
    """Labels are non-empty text, the colour is None or a string, the registry returns the
    kind by its name, and the kind survives pickling (by reference to its class)."""
    assert get_layer_kind(kind.name) is kind
    assert kind.check_attributes(attrs, complete=True) == attrs
    for label in (kind.label(attrs), kind.line_label(attrs), kind.box_label(attrs)):
        assert isinstance(label, str) and label.strip()
    assert "\n" not in kind.label(attrs) and "\n" not in kind.line_label(attrs)
    colour = kind.colour(attrs)
    assert colour is None or isinstance(colour, str)
    again = pickle.loads(pickle.dumps(kind))
    assert again == kind and type(again) is type(kind)


def check_numpy_source(kind: LayerKind, attrs: dict[str, Any], seed: int = 0) -> None:
    """The kind's numpy code (:meth:`~LayerKind.numpy_source`, what a ``--format python``
    export runs) computes what its ``forward`` computes (float64, no dropout), on the inputs of
    the contract's network. A kind without numpy code passes here: :func:`check_export`
    asserts that the python format refuses it."""
    import textwrap

    sources = kind.numpy_source()
    if not sources:
        return
    namespace: dict[str, Any] = {"np": np}
    for source in sources:
        exec(textwrap.dedent(source), namespace)
    function = namespace[f"{kind.name}_layer"]
    rng = np.random.default_rng(seed)
    for step in _plan(kind, attrs):
        if step.kind != kind:
            continue
        w_shape, b_shape = step.parameter_shapes()
        weights, biases = rng.normal(size=w_shape), rng.normal(size=b_shape)
        x = rng.normal(size=(_BATCH, *step.in_shape))
        buffers = kind.workspace(step.attrs, step.in_shape, _BATCH, False, np.float64)
        expected = np.array(kind.forward(step.attrs, weights, biases, x, buffers, None))
        got = function(
            x, weights if weights.size else None, biases if biases.size else None, **step.attrs
        )
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12, err_msg=str(attrs))


def check_export(kind: LayerKind, attrs: dict[str, Any], fmt: str) -> None:
    """A trained network holding the kind (the contract's network) exports in format ``fmt``
    (``python``, ``onnx``, ...) and predicts as the estimator does (within 1e-4), or, where the
    format has no code for the kind (``python``: no :meth:`~LayerKind.numpy_source`; ``onnx``:
    no emitter registered with :func:`~evosearch.deploy.register_onnx_layer`), the export is
    refused with one line naming the kind before any file is written. A format whose libraries
    are missing must refuse every model in one line."""
    import tempfile
    from pathlib import Path

    from evosearch.deploy import get_format, onnx_layer_kinds, read_model, write_model
    from evosearch.errors import SettingsError
    from evosearch.nn import GraphNetRegressor

    _plan(kind, attrs)  # a kind that refuses the contract's inputs is skipped, with its reason
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2 * _BATCH, _n_features(kind)))
    y = rng.normal(size=(len(X), _N_OUTPUTS))
    net = GraphNetRegressor(
        _architecture(kind, attrs), max_epochs=1, early_stopping=False, random_state=0
    ).fit(X, y)
    exporter = get_format(fmt)
    try:
        exporter.check_available()
        covered = {"python": bool(kind.numpy_source()), "onnx": kind.name in onnx_layer_kinds()}
        missing = not covered.get(fmt, True)
    except SettingsError:
        missing = True  # the format's extra is not installed: it refuses every model
    with tempfile.TemporaryDirectory() as folder:
        if not missing:
            write_model(net, folder, {"task": "regression"}, exporter)
            loaded, _ = read_model(folder)
            np.testing.assert_allclose(loaded.predict(X), net.predict(X), rtol=1e-4, atol=1e-5)
            return
        try:
            write_model(net, folder, {"task": "regression"}, exporter)
        except SettingsError as exc:
            message = str(exc)
        else:
            raise AssertionError(f"the {fmt} format wrote a {kind.name} layer it has no code for")
        assert "\n" not in message, message
        assert not any(Path(folder).iterdir()), "files were written before the refusal"
        try:
            exporter.check_available()
        except SettingsError:
            return
        assert repr(kind.name) in message, message


class LayerKindContract:
    """Pytest test class: derive a ``Test...`` class from it to check every registered kind."""

    def pytest_generate_tests(self, metafunc: Any) -> None:
        if "layer_kind" in metafunc.fixturenames:
            kinds = layer_kinds()
            metafunc.parametrize("layer_kind", list(kinds.values()), ids=list(kinds))

    def test_gradients_match_finite_differences(self, layer_kind: LayerKind) -> None:
        for index, attrs in enumerate(example_layers(layer_kind)):
            check_gradients(layer_kind, attrs, seed=index)

    def test_declared_shapes_and_counts_match_the_arrays(self, layer_kind: LayerKind) -> None:
        for attrs in example_layers(layer_kind):
            check_shapes_and_counts(layer_kind, attrs)

    def test_mutations_keep_genomes_valid(self, layer_kind: LayerKind) -> None:
        check_mutations_keep_genomes_valid(layer_kind)

    def test_labels_and_pickling(self, layer_kind: LayerKind) -> None:
        for attrs in example_layers(layer_kind):
            check_labels_and_pickling(layer_kind, attrs)

    def test_numpy_code_computes_the_forward_pass(self, layer_kind: LayerKind) -> None:
        # Without numpy code, check_numpy_source passes and check_export asserts the refusal.
        for index, attrs in enumerate(example_layers(layer_kind)):
            check_numpy_source(layer_kind, attrs, seed=index)
        check_export(layer_kind, example_layers(layer_kind)[0], "python")

    def test_onnx_export_predicts_as_the_network_or_refuses_the_kind(
        self, layer_kind: LayerKind
    ) -> None:
        check_export(layer_kind, example_layers(layer_kind)[0], "onnx")

    def test_attributes_are_declared_as_data(self, layer_kind: LayerKind) -> None:
        names = layer_kind.attribute_names()
        assert names, "a kind declares at least one attribute (something to mutate)"
        assert len(set(names)) == len(names)
        # The default domains form a valid [layers.<kind>] section (parsed by the space).
        space = default_space(layer_kind)
        assert list(space.layers[layer_kind.name]) == list(names)
