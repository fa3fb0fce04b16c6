"""Image layers drawn to fit the shape before them (used by random genomes and the operators).

Kept apart from :mod:`evosearch.space._image` (the operators on genomes) so that
:meth:`~evosearch.space.Genome.random` can use it without an import cycle.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evosearch.nn.layers import Shape, get_layer_kind
from evosearch.space.space import SearchSpace

__all__ = ["check_image_shape", "random_image_layers", "sample_layer_for"]


def check_image_shape(space: SearchSpace, input_shape: Any, n_inputs: int) -> Shape:
    """``input_shape`` as a ``(height, width, channels)`` tuple of ``n_inputs`` values, or
    ``ValueError`` saying that the space needs one."""
    if input_shape is None or len(tuple(input_shape)) != 3:
        raise ValueError(
            f"search space {space.name!r} has image layers: it needs data with an image shape "
            f"(height, width, channels), got {input_shape!r}"
        )
    shape = tuple(int(side) for side in input_shape)
    if shape[0] * shape[1] * shape[2] != n_inputs or min(shape) < 1:
        raise ValueError(f"image shape {shape} does not hold {n_inputs} features")
    return shape


def _fits(kind_name: str, attrs: dict[str, Any], in_shape: Shape) -> Shape | None:
    """The output shape of a layer on ``in_shape``, or None if the kind refuses it."""
    kind = get_layer_kind(kind_name)
    try:
        return kind.output_shape(attrs, kind.merge_shapes([kind.input_view(in_shape)]))
    except ValueError:
        return None


def sample_layer_for(
    space: SearchSpace,
    in_shape: Shape,
    rng: np.random.Generator,
    image_out: bool = False,
    learns: bool = False,
) -> tuple[dict[str, Any], Shape] | None:
    """A random layer of the space that accepts ``in_shape`` (an image output only, with
    ``image_out``; a layer with parameters only, with ``learns``) and its output shape; None
    when no kind fits."""
    kinds = list(space.layers)
    while kinds:
        name = kinds[int(rng.integers(len(kinds)))]
        for _ in range(3):
            layer = {"kind": name, **{k: p.sample(rng) for k, p in space.layers[name].items()}}
            out = _fits(name, layer, in_shape)
            if out is None or (image_out and len(out) != 3):
                continue
            if learns and not _learns(name, layer, in_shape):
                break
            return layer, out
        kinds.remove(name)
    return None


def _learns(name: str, layer: dict[str, Any], in_shape: Shape) -> bool:
    kind = get_layer_kind(name)
    return kind.n_params(layer, kind.merge_shapes([kind.input_view(in_shape)])) > 0


def random_image_layers(
    space: SearchSpace, input_shape: Shape, n_layers: int, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """The layers of a random chain on ``input_shape``: each accepts the shape before it (a
    shorter chain when no kind fits any more). Layers that make images come first: only the
    last layer may turn the image into a vector (the output, a dense layer, reads an image
    flattened), so a random genome is a conv net, not an MLP behind one layer; and a layer
    without parameters (a pool) follows one with parameters, not the input or another pool."""
    layers: list[dict[str, Any]] = []
    shape = input_shape
    learned = False  # whether the layer before has parameters
    for position in range(n_layers):
        last = position == n_layers - 1
        drawn = (
            None
            if last
            else sample_layer_for(space, shape, rng, image_out=True, learns=not learned)
        ) or sample_layer_for(space, shape, rng)
        if drawn is None:
            break
        layers.append(drawn[0])
        learned = _learns(drawn[0]["kind"], drawn[0], shape)
        shape = drawn[1]
    return layers
