"""The layer-kind contract: what a kind of layer must tell the search space, the genome and the
network.

A layer kind is a stateless object registered by name (see :mod:`evosearch.nn.layers`). Its
attributes are declared as data (:class:`LayerAttribute`, neat-python's habit): the base class
loops over them to validate an architecture spec or a genome's node, and the search space builds
its ``[layers.<kind>]`` TOML section (validation rules and default domains), its sampling and its
mutations from the same declarations, so a new kind needs no change anywhere else.
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

__all__ = ["LayerAttribute", "LayerKind", "Shape"]

Array = NDArray[Any]
Shape = tuple[int, ...]
"""Shape of one sample's activations (``(features,)`` for dense layers), without the batch axis."""

_REQUIRED: Any = None


@dataclass(frozen=True)
class LayerAttribute:
    """One declared attribute of a layer kind.

    Parameters
    ----------
    name : str
        Key of the attribute in a genome's node, an architecture spec and ``[layers.<kind>]``;
        also the name of the mutation that perturbs it.
    type : {"integer", "number", "string"}
        Kind of value. ``"integer"`` excludes booleans, ``"number"`` takes finite ints and
        floats (stored as float), ``"string"`` one of ``choices``.
    domain : tuple, dict or scalar
        The default domain of the TOML section ``[layers.<kind>]`` when a file leaves the key
        out: a tuple of choices, a range table ``{low, high, log, integer}`` or one fixed value.
    low, high : float or None
        Inclusive bounds on every value (a search space may declare no domain outside them, and
        a network refuses a layer outside them); None: unbounded.
    choices : tuple of str
        The allowed values of a ``"string"`` attribute.
    default : optional
        The value an architecture spec (``GraphNetClassifier(architecture=...)``) may omit;
        None: the key is required. A genome's nodes always carry every attribute.
    """

    name: str
    type: Literal["integer", "number", "string"]
    domain: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    default: Any = _REQUIRED

    def need(self) -> str:
        """What a valid value is, in words (for error messages)."""
        if self.type == "string":
            return f"one of {', '.join(self.choices)}"
        what = "an int" if self.type == "integer" else "a number"
        if self.low is not None and self.high is not None:
            return f"{what} in [{self.low:g}, {self.high:g}]"
        if self.low is not None:
            return f"{what} >= {self.low:g}"
        if self.high is not None:
            return f"{what} <= {self.high:g}"
        return what

    def parse(self, value: Any) -> Any:
        """Return ``value`` normalised (int, float or str), or raise ``ValueError``."""
        if self.type == "string":
            if isinstance(value, str) and value in self.choices:
                return value
            raise ValueError(
                f"unknown {self.name} {value!r} (choose from {', '.join(self.choices)})"
            )
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if ok and self.type == "integer":
            ok = isinstance(value, numbers.Integral)
        if ok and not isinstance(value, numbers.Integral):
            ok = math.isfinite(float(value))
        if ok and self.low is not None:
            ok = value >= self.low
        if ok and self.high is not None:
            ok = value <= self.high
        if not ok:
            raise ValueError(f"bad {self.name} {value!r} (need {self.need()})")
        return int(value) if self.type == "integer" else float(value)


class LayerKind(ABC):
    """A kind of layer: its attributes, its shapes and sizes, and its forward and backward pass.

    The contract
    ------------
    * ``name`` -- the registry key; a genome's node says ``kind=<name>``, a search space has a
      section ``[layers.<name>]``, an architecture spec's layer ``"kind": <name>``.
    * ``attributes`` -- the declared :class:`LayerAttribute` s, in a fixed order (the order of
      sampling, of mutation names and of the canonical-hash label). Their names must not clash
      with the structural mutations (``add_layer``, ...) nor be ``id`` or ``kind``.
    * Shapes from shapes alone: :meth:`merge_shapes` (several inputs are concatenated along the
      last axis, in ascending predecessor id order, by default), :meth:`output_shape` (or a
      ``ValueError`` that says why the kind refuses the input), :meth:`parameter_shapes` (one
      penalised ``weights`` array and one unpenalised ``biases`` array; either may be empty),
      :meth:`n_params` and :meth:`macs`.
    * Phenotype: :meth:`initialize` draws the initial parameters from the given Generator (the
      same draws for the same shapes: results are reproducible), :meth:`workspace` allocates the
      buffers of one batch size, :meth:`forward` computes the output (dropout or other training
      noise only when an ``rng`` is given), :meth:`backward` turns the gradient with respect to
      the output into parameter gradients, and :meth:`input_grad` writes the gradient with
      respect to a column range of the (merged) input. Float32 in training, float64 at predict
      time: a kind must work in the dtype of the arrays it gets.
    * Labels: :meth:`label` (compact, one line: ``Genome.describe``), :meth:`line_label` (one
      table line: the ``genomes`` console view), :meth:`box_label` and :meth:`colour` (report
      drawings).

    Kinds are stateless and compared by class; pickling one pickles a reference to its class,
    so a process that unpickles it (an evaluation worker) imports the module that defines and
    registers it.
    """

    name: ClassVar[str]
    attributes: ClassVar[tuple[LayerAttribute, ...]]
    image_input: ClassVar[bool] = False
    """Whether the kind reads image tensors ``(height, width, channels)``: a search space with
    such a kind needs data with an image shape, and its operators keep layers that read images
    after the input and other image layers."""

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f"<layer kind {self.name!r}>"

    # ------------------------------------------------------------------ attributes
    def attribute_names(self) -> tuple[str, ...]:
        """Names of the declared attributes, in declaration order."""
        return tuple(attribute.name for attribute in self.attributes)

    def check_attributes(self, spec: Mapping[str, Any], complete: bool = False) -> dict[str, Any]:
        """Validate the attributes of one layer; return them normalised in declared order.

        Parameters
        ----------
        spec : mapping
            A genome node's attributes or an architecture spec's layer dict (other keys are
            ignored).
        complete : bool, default=False
            Require every attribute (a genome's node); otherwise an attribute with a
            ``default`` may be left out (an architecture spec).

        Raises
        ------
        ValueError
            Naming the first missing or invalid attribute.
        """
        values = {}
        for attribute in self.attributes:
            if attribute.name in spec:
                values[attribute.name] = attribute.parse(spec[attribute.name])
            elif attribute.default is not _REQUIRED and not complete:
                values[attribute.name] = attribute.default
            else:
                raise ValueError(f"bad {attribute.name} None (need {attribute.need()})")
        return values

    # ------------------------------------------------------------------ shapes
    def input_view(self, shape: Shape) -> Shape:
        """The shape in which the kind reads a predecessor's output of ``shape`` (default: as
        it is; ``dense`` flattens an image to a vector). Views are taken before merging."""
        return shape

    def merge_shapes(self, shapes: Sequence[Shape]) -> Shape:
        """The shape of the merged input of several predecessors (concatenated on the last
        axis, which all other axes must share), or ``ValueError``."""
        if not shapes:
            raise ValueError("a layer needs at least one input")
        lead = shapes[0][:-1]
        if any(shape[:-1] != lead for shape in shapes):
            raise ValueError(f"inputs of shapes {list(shapes)} cannot be concatenated")
        return (*lead, sum(shape[-1] for shape in shapes))

    @abstractmethod
    def output_shape(self, attrs: Mapping[str, Any], in_shape: Shape) -> Shape:
        """The output shape for a merged input of ``in_shape``, or ``ValueError`` (refusal)."""

    @abstractmethod
    def parameter_shapes(self, attrs: Mapping[str, Any], in_shape: Shape) -> tuple[Shape, Shape]:
        """Shapes of the ``(weights, biases)`` arrays; L1/L2 penalties apply to the weights."""

    def n_params(self, attrs: Mapping[str, Any], in_shape: Shape) -> int:
        """Number of trainable parameters (from the shapes alone)."""
        return sum(math.prod(shape) for shape in self.parameter_shapes(attrs, in_shape))

    @abstractmethod
    def macs(self, attrs: Mapping[str, Any], in_shape: Shape) -> int:
        """Multiply-adds of a forward pass of one sample (from the shapes alone).

        At least one per weight (each weight multiplies at least once per sample: a dense
        layer's count is its weight count, a convolution's its weight count times its output
        positions); the ``flops`` objective counts two FLOPs per multiply-add."""

    # ------------------------------------------------------------------ phenotype
    @abstractmethod
    def initialize(
        self,
        attrs: Mapping[str, Any],
        in_shape: Shape,
        weights: Array,
        biases: Array,
        rng: np.random.Generator,
    ) -> None:
        """Fill the (float32) ``weights`` and ``biases`` views in place with initial values."""

    @abstractmethod
    def workspace(
        self, attrs: Mapping[str, Any], in_shape: Shape, m: int, train: bool, dtype: type
    ) -> Any:
        """Buffers of one batch of ``m`` samples (``train``: also those backward needs)."""

    @abstractmethod
    def forward(
        self,
        attrs: Mapping[str, Any],
        weights: Array,
        biases: Array,
        x: Array,
        buffers: Any,
        rng: np.random.Generator | None,
    ) -> Array:
        """Return the output for the merged input ``x`` (an array kept in ``buffers``)."""

    @abstractmethod
    def backward(
        self,
        attrs: Mapping[str, Any],
        weights: Array,
        x: Array,
        g: Array,
        buffers: Any,
        grad_w: Array,
        grad_b: Array,
    ) -> None:
        """Given ``g``, the loss gradient with respect to the output of the last
        :meth:`forward` on ``x``, write the parameter gradients into ``grad_w`` and ``grad_b``.

        ``g`` may be overwritten; afterwards :meth:`input_grad` is asked for the input's
        gradient (with whatever ``g`` then holds)."""

    @abstractmethod
    def input_grad(
        self, attrs: Mapping[str, Any], weights: Array, g: Array, cols: tuple[int, int], out: Array
    ) -> None:
        """Write the loss gradient with respect to the merged input's last-axis range
        ``cols`` (one predecessor's part) into ``out``, from the ``g`` :meth:`backward` left."""

    def input_grad_buffered(
        self,
        attrs: Mapping[str, Any],
        weights: Array,
        g: Array,
        buffers: Any,
        cols: tuple[int, int],
        out: Array,
    ) -> None:
        """:meth:`input_grad` with the layer's buffers at hand, which is what the network
        calls; a kind whose input gradient is costly (a convolution) overrides it to compute
        the whole input gradient once per backward pass and hand out channel ranges of it."""
        self.input_grad(attrs, weights, g, cols, out)

    def weight_blocks(
        self,
        node_id: int,
        pred_ids: Sequence[int],
        cols: Sequence[tuple[int, int]],
        weights: Array,
        biases: Array,
    ) -> Iterator[tuple[str, Array]]:
        """``(key, view)`` pairs that weight inheritance copies between networks; a child
        reuses a block whose key and shape match. Default: ``"w:{node}"`` and ``"b:{node}"``."""
        yield f"w:{node_id}", weights
        yield f"b:{node_id}", biases

    # ------------------------------------------------------------------ export
    def numpy_source(self) -> tuple[str, ...] | None:
        """Source of the numpy function an exported model (``--format python``) computes the
        kind's forward pass with; None (the default): the kind cannot be exported that way.

        The snippets are module-level definitions that import nothing but numpy (as ``np``);
        one defines ``<name>_layer(x, weights, biases, **attributes)``: the merged input batch
        (float64), the weights and biases (float64; None where the kind has no parameter) and
        every attribute as a keyword, returning the output batch without dropout. A snippet
        several kinds share (a helper) is written once. See
        :mod:`evosearch.nn.layers.numpy_code` (whose ``function_sources`` gives a function's
        source).
        """
        return None

    # ------------------------------------------------------------------ labels
    @abstractmethod
    def label(self, attrs: Mapping[str, Any]) -> str:
        """A compact one-line label (``Genome.describe``), e.g. ``"64 relu d0.1"``."""

    def line_label(self, attrs: Mapping[str, Any]) -> str:
        """A label for one line of a table (default: :meth:`label`)."""
        return self.label(attrs)

    def box_label(self, attrs: Mapping[str, Any]) -> str:
        """A (multi-line) label for a node box in a drawing (default: :meth:`label`)."""
        return self.label(attrs)

    def colour(self, attrs: Mapping[str, Any]) -> str | None:
        """The fill colour of a node box in a drawing; None: a neutral grey."""
        return None
