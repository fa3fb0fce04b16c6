"""Genomes: a layer graph plus training hyperparameters.

Vocabulary and invariants
-------------------------
A :class:`Genome` is plain data:

* ``graph`` -- a :class:`networkx.DiGraph` whose nodes are layers and whose edges are data flow.
  Node ``0`` is the input (``kind="input"``, ``units`` = number of features, and for a genome of
  image layers ``shape`` = ``[height, width, channels]``, channels last), node ``1`` the output
  (``kind="output"``, ``units`` = number of classes, or of regression targets). Every other node is
  a hidden layer of a registered kind (:mod:`evosearch.nn.layers`) carrying that kind's declared
  attributes (``kind="dense"``: ``units``, ``activation`` and ``dropout``); its id is an
  *innovation number* handed out by the run's :class:`InnovationCounter`, so crossover can align
  the layers two parents inherited from a common ancestor.
* ``hyperparameters`` -- the training settings: ``optimizer``, ``learning_rate``, ``l1``, ``l2``,
  ``batch_size``, ``max_epochs``.
* ``preprocessing`` -- the values of the preprocessing genes active on the run's data
  (:mod:`evosearch.space.preprocessing`): empty for data that needs none, and then the genome's
  JSON and hash are those of a genome from before such genes existed. The input node's
  ``units`` is the width of the *encoded* input (one-hot columns and missing indicators
  included), so ``n_params`` counts what the encoding adds.

A node with several predecessors takes the **concatenation** of their outputs (in ascending
predecessor id order), so skip connections never need matching widths. A valid genome is acyclic,
every node lies on a path from the input to the output, every layer's kind accepts its attributes
and its input's shape, hidden layers number between the search space's ``min_layers`` and
``max_layers``, a space without skip connections holds only chains, and every attribute lies
inside the space. :meth:`Genome.validate` checks all of that.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from evosearch.errors import InvalidGenomeError
from evosearch.nn.cost_model import layer_cost
from evosearch.nn.graph import output_layer
from evosearch.nn.layers import (
    DEFAULT_LAYER_KIND,
    LayerKind,
    Shape,
    get_layer_kind,
    register_layer_kind,
)
from evosearch.space._nodes import INPUT, OUTPUT, _kind_of
from evosearch.space.space import SearchSpace

__all__ = ["INPUT", "OUTPUT", "Genome", "InnovationCounter"]

GENOME_FORMAT_VERSION = 1


class InnovationCounter:
    """Hands out node ids for new layers; one per run, saved in the run's checkpoint.

    Parameters
    ----------
    next_id : int, default=2
        The id the next new layer gets (0 and 1 are the input and the output).
    """

    def __init__(self, next_id: int = 2) -> None:
        self.next_id = int(next_id)

    def __call__(self) -> int:
        node_id = self.next_id
        self.next_id += 1
        return node_id

    def observe(self, genome: Genome) -> None:
        """Make sure future ids never collide with the layers of ``genome``."""
        self.next_id = max(self.next_id, max(genome.graph.nodes) + 1)


@dataclass(eq=False)
class Genome:
    """A candidate model: a DAG of typed layers and its training hyperparameters.

    Parameters
    ----------
    graph : networkx.DiGraph
        The layer graph (see the module docstring for node attributes and invariants).
    hyperparameters : dict
        Training hyperparameters, keyed like the search space's ``[training]`` section.

    Examples
    --------
    >>> import numpy as np
    >>> from evosearch import SearchSpace
    >>> space = SearchSpace.load("mlp")
    >>> genome = Genome.random(space, n_inputs=64, n_outputs=10, rng=np.random.default_rng(0))
    >>> genome.validate(space)
    >>> Genome.from_json(genome.to_json()).canonical_hash() == genome.canonical_hash()
    True
    """

    graph: nx.DiGraph
    hyperparameters: dict[str, Any]
    preprocessing: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ construction
    @classmethod
    def chain(
        cls,
        n_inputs: int,
        n_outputs: int,
        layers: list[dict[str, Any]],
        hyperparameters: dict[str, Any],
        innovations: InnovationCounter | None = None,
        input_shape: Shape | None = None,
    ) -> Genome:
        """Build a chain ``input -> layers... -> output``.

        Each layer is an attribute dict with its ``kind`` (``"dense"`` when left out), as
        :meth:`SearchSpace.sample_layer` returns. ``input_shape`` ``(height, width, channels)``
        makes the input rows images (for image layers).
        """
        innovations = innovations or InnovationCounter()
        graph = nx.DiGraph()
        graph.add_node(INPUT, kind="input", units=int(n_inputs))
        if input_shape is not None:
            graph.nodes[INPUT]["shape"] = [int(side) for side in input_shape]
        graph.add_node(OUTPUT, kind="output", units=int(n_outputs))
        previous = INPUT
        for layer in layers:
            node = innovations()
            kind = layer.get("kind", DEFAULT_LAYER_KIND)
            names = get_layer_kind(kind).attribute_names()
            graph.add_node(node, kind=kind, **{k: layer[k] for k in names})
            graph.add_edge(previous, node)
            previous = node
        graph.add_edge(previous, OUTPUT)
        return cls(graph, dict(hyperparameters))

    @classmethod
    def random(
        cls,
        space: SearchSpace,
        n_inputs: int,
        n_outputs: int,
        rng: np.random.Generator,
        innovations: InnovationCounter | None = None,
        input_shape: Shape | None = None,
    ) -> Genome:
        """Draw a chain genome with ``space.initial_layers`` hidden layers and random settings.

        A space with image layers (:attr:`SearchSpace.needs_image`) needs ``input_shape``
        ``(height, width, channels)``; its layers are drawn so that each accepts the shape
        before it (fewer layers when nothing more fits). Other spaces ignore ``input_shape``.
        """
        low, high = space.initial_layers
        n_layers = int(rng.integers(low, high + 1))
        if not space.needs_image:
            layers = [space.sample_layer(rng) for _ in range(n_layers)]
            return cls.chain(n_inputs, n_outputs, layers, space.sample_training(rng), innovations)
        from evosearch.space._image_layers import check_image_shape, random_image_layers

        shape = check_image_shape(space, input_shape, n_inputs)
        layers = random_image_layers(space, shape, n_layers, rng)
        return cls.chain(
            n_inputs, n_outputs, layers, space.sample_training(rng), innovations, shape
        )

    def __getstate__(self) -> dict[str, Any]:
        # The classes of the layer kinds used ride along, pickled by reference: a process that
        # unpickles the genome (an evaluation worker, local or Dask) imports the modules that
        # define them, which registers plug-in kinds registered in the parent only.
        graph = self.graph
        kinds = {
            type(kind)
            for kind in (_kind_of(graph.nodes[n]) for n in graph if n not in (INPUT, OUTPUT))
            if kind is not None
        }
        classes = sorted(kinds, key=lambda cls: cls.name)
        state = {"graph": graph, "hyperparameters": self.hyperparameters, "kinds": classes}
        return {**state, "preprocessing": self.preprocessing}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for cls in state.get("kinds", ()):
            if type(_kind_of({"kind": cls.name})) is not cls:
                register_layer_kind(cls)
        self.graph = state["graph"]
        self.hyperparameters = state["hyperparameters"]
        self.preprocessing = state.get("preprocessing", {})

    def copy(self) -> Genome:
        """A deep copy: operators never modify their parents."""
        return Genome(
            self.graph.copy(), copy.deepcopy(self.hyperparameters), dict(self.preprocessing)
        )

    # ------------------------------------------------------------------ queries
    @property
    def n_inputs(self) -> int:
        return int(self.graph.nodes[INPUT]["units"])

    @property
    def input_shape(self) -> Shape:
        """The shape of one input sample: ``(height, width, channels)`` for images, else
        ``(n_inputs,)``."""
        shape = self.graph.nodes[INPUT].get("shape")
        return (self.n_inputs,) if shape is None else tuple(int(side) for side in shape)

    @property
    def n_outputs(self) -> int:
        return int(self.graph.nodes[OUTPUT]["units"])

    def hidden_layers(self) -> list[int]:
        """Hidden layer ids in a deterministic topological order."""
        return [n for n in nx.lexicographical_topological_sort(self.graph) if n not in (0, 1)]

    @property
    def depth(self) -> int:
        """Number of hidden layers (what ``min_layers``/``max_layers`` bound)."""
        return self.graph.number_of_nodes() - 2

    def skip_edges(self) -> list[tuple[int, int]]:
        """Edges beyond a single chain: every edge whose removal keeps all nodes connected."""
        return [
            (u, v)
            for u, v in sorted(self.graph.edges)
            if self.graph.out_degree(u) > 1 and self.graph.in_degree(v) > 1
        ]

    def jump_edges(self) -> list[tuple[int, int]]:
        """Skip connections in the usual sense: edges whose target is also reachable through
        other layers, so the edge jumps over them."""
        return [
            (u, v)
            for u, v in sorted(self.graph.edges)
            if nx.has_path(nx.restricted_view(self.graph, [], [(u, v)]), u, v)
        ]

    def _kind(self, node: int) -> tuple[LayerKind, dict[str, Any]]:
        """A node's kind and the attributes it reads (the output: a linear dense layer)."""
        attrs = self.graph.nodes[node]
        if node == OUTPUT:
            return output_layer(int(attrs["units"]))
        return get_layer_kind(attrs["kind"]), attrs

    def shapes(self) -> dict[int, tuple[Shape, Shape]]:
        """``(input shape, output shape)`` of every node but the input, from the graph alone.

        Raises
        ------
        ValueError
            If a layer's kind refuses its input (names the layer).
        """
        out: dict[int, Shape] = {INPUT: self.input_shape}
        result: dict[int, tuple[Shape, Shape]] = {}
        for node in nx.lexicographical_topological_sort(self.graph):
            if node == INPUT:
                continue
            kind, attrs = self._kind(node)
            try:
                views = [kind.input_view(out[p]) for p in sorted(self.graph.predecessors(node))]
                merged = kind.merge_shapes(views)
                out[node] = kind.output_shape(attrs, merged)
            except ValueError as exc:
                raise ValueError(f"layer {node} ({kind.name}): {exc}") from None
            result[node] = (merged, out[node])
        return result

    def input_width(self, node: int) -> int:
        """Size of the concatenated input of ``node`` (the summed widths of its inputs)."""
        return math.prod(self.shapes()[node][0])

    def n_params(self) -> int:
        """Number of weights and biases of the decoded network, computed from the graph alone."""
        total = 0
        for node, (in_shape, _) in self.shapes().items():
            kind, attrs = self._kind(node)
            total += kind.n_params(attrs, in_shape)
        return total

    def parameter_shapes(self) -> list[tuple[Shape, Shape]]:
        """``(weights, biases)`` array shapes of every layer, from the graph alone."""
        return [
            self._kind(node)[0].parameter_shapes(self._kind(node)[1], in_shape)
            for node, (in_shape, _) in self.shapes().items()
        ]

    def layer_costs(self) -> list[tuple[Any, ...]]:
        """``(kind, multiply-adds, output values, copies)`` of every layer (the output layer is
        a ``dense`` one), from the graph alone: what a latency model estimates from
        (:func:`~evosearch.nn.cost_model.layer_cost`)."""
        costs = []
        for node, (in_shape, _) in self.shapes().items():
            kind, attrs = self._kind(node)
            costs.append(layer_cost(kind, attrs, in_shape))
        return costs

    def n_macs(self) -> int:
        """Multiply-adds of one sample's forward pass, computed from the graph alone."""
        return sum(
            self._kind(node)[0].macs(self._kind(node)[1], in_shape)
            for node, (in_shape, _) in self.shapes().items()
        )

    def layer(self, node: int) -> dict[str, Any]:
        """The declared attributes of one hidden layer (without its ``kind``)."""
        attrs = self.graph.nodes[node]
        return {key: attrs[key] for key in get_layer_kind(attrs["kind"]).attribute_names()}

    def to_architecture(self) -> dict[str, Any]:
        """The architecture spec that :mod:`evosearch.nn.graph` decodes."""
        spec: dict[str, Any] = {
            "layers": [
                {"id": n, "kind": self.graph.nodes[n]["kind"], **self.layer(n)}
                for n in sorted(self.hidden_layers())
            ],
            "edges": [[int(u), int(v)] for u, v in sorted(self.graph.edges)],
        }
        if "shape" in self.graph.nodes[INPUT]:
            spec["input_shape"] = list(self.input_shape)
        return spec

    def describe(self) -> str:
        """One line: hidden layers in order (``>`` in series, ``|`` in parallel), skip
        connections and the optimizer."""
        layers = ""
        previous = None
        for node in self.hidden_layers():
            attrs = self.graph.nodes[node]
            text = get_layer_kind(attrs["kind"]).label(attrs)
            # ">" joins layers that feed each other, "|" parallel branches.
            if previous is not None:
                layers += " > " if self.graph.has_edge(previous, node) else " | "
            layers += text
            previous = node
        layers = layers or "(no hidden layer)"
        skips = len(self.jump_edges())
        skip_text = f" +{skips} skip" + ("s" if skips != 1 else "") if skips else ""
        hp = self.hyperparameters
        text = f"{layers}{skip_text} | {hp.get('optimizer')} lr={hp.get('learning_rate'):g}"
        if self.preprocessing:
            text += " | " + " ".join(f"{k}={v}" for k, v in self.preprocessing.items())
        if "prune" in hp or "precision" in hp:  # compression genes that are on
            text += f" | prune {hp.get('prune', 0.0):g} {hp.get('precision', 'float32')}"
        return text

    # ------------------------------------------------------------------ invariants
    def validate(self, space: SearchSpace | None = None) -> None:
        """Raise :class:`~evosearch.errors.InvalidGenomeError` unless every invariant holds.

        Without ``space`` only the structural invariants are checked.
        """
        from evosearch.space._validation import check_in_space, check_structure

        check_structure(self)
        if space is not None:
            check_in_space(self, space)

    # ------------------------------------------------------------------ identity
    def _labelled_graph(self) -> nx.DiGraph:
        labelled = nx.DiGraph()
        for node, attrs in self.graph.nodes(data=True):
            # Input and output: their width; a layer: its kind's declared attributes in order.
            kind = None if node in (INPUT, OUTPUT) else _kind_of(attrs)
            keys = ("units", "shape") if kind is None else kind.attribute_names()
            label = "|".join(f"{k}={attrs[k]}" for k in ("kind", *keys) if k in attrs)
            labelled.add_node(node, label=label)
        labelled.add_edges_from(self.graph.edges)
        return labelled

    def canonical_hash(self) -> str:
        """A hash equal for genomes with isomorphic attributed graphs and equal hyperparameters.

        Innovation ids do not count: two genomes that grew the same layers independently hash
        alike. A Weisfeiler-Lehman hash can collide for non-isomorphic graphs; code that relies
        on equality confirms a hit with :meth:`equivalent`.
        """
        graph = self._labelled_graph()
        with warnings.catch_warnings():
            # networkx >= 3.5 hashes in- and out-edges of a DiGraph separately and warns that
            # hashes changed from older versions; we require >= 3.5, so the warning is noise.
            warnings.simplefilter("ignore", UserWarning)
            structure = nx.weisfeiler_lehman_graph_hash(
                graph, node_attr="label", iterations=graph.number_of_nodes(), digest_size=16
            )
        parts: list[Any] = [structure, self.hyperparameters]
        if self.preprocessing:  # only then: genomes without such genes keep their hashes
            parts.append(self.preprocessing)
        payload = json.dumps(parts, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:24]

    def equivalent(self, other: Genome) -> bool:
        """True when both genomes have isomorphic attributed graphs and equal hyperparameters."""
        if self.hyperparameters != other.hyperparameters:
            return False
        if self.preprocessing != other.preprocessing:
            return False
        return nx.is_isomorphic(
            self._labelled_graph(),
            other._labelled_graph(),
            node_match=lambda a, b: a["label"] == b["label"],
        )

    # ------------------------------------------------------------------ JSON
    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict: node-link graph data plus hyperparameters."""
        graph = nx.node_link_data(self.graph, edges="edges")
        graph["nodes"] = sorted(graph["nodes"], key=lambda n: n["id"])
        graph["edges"] = sorted(graph["edges"], key=lambda e: (e["source"], e["target"]))
        data = {
            "format_version": GENOME_FORMAT_VERSION,
            "graph": graph,
            "hyperparameters": dict(self.hyperparameters),
        }
        if self.preprocessing:  # only then: the JSON of other genomes stays as it was
            data["preprocessing"] = dict(self.preprocessing)
        return data

    @classmethod
    def from_json(cls, data: Any) -> Genome:
        """Rebuild a genome from :meth:`to_json` output; malformed data raises ``ValueError``."""
        try:
            if data.get("format_version") != GENOME_FORMAT_VERSION:
                raise ValueError(f"unsupported genome format {data.get('format_version')!r}")
            graph = nx.DiGraph(nx.node_link_graph(data["graph"], directed=True, edges="edges"))
            hyperparameters = _string_keyed(data["hyperparameters"], "hyperparameters")
            preprocessing = _string_keyed(data.get("preprocessing", {}), "preprocessing")
        except (AttributeError, KeyError, TypeError, nx.NetworkXError) as exc:
            raise ValueError(f"malformed genome JSON: {exc!r}") from None
        genome = cls(graph, hyperparameters, preprocessing)
        try:
            genome.validate()
        except InvalidGenomeError as exc:
            raise ValueError(f"invalid genome: {exc}") from None
        return genome

    def __iter__(self) -> Iterator[int]:  # pragma: no cover - convenience
        return iter(self.hidden_layers())


def _string_keyed(value: Any, name: str) -> dict[str, Any]:
    # dict() would also accept a list of pairs, whose keys may be null or numbers: such a
    # genome could not be hashed (sorted keys) nor written back as the same JSON.
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise ValueError(f"malformed genome JSON: {name} must be an object with string keys")
    return dict(value)
