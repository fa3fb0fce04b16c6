"""Layer kinds: the :class:`LayerKind` contract and the registry of kinds by name.

``dense`` and the image kinds ``conv2d``, ``pool`` and ``global_pool`` are registered here. A
plug-in kind is a subclass of :class:`LayerKind` in a module of its own that
calls :func:`register_layer_kind` when imported; from then on search spaces accept a
``[layers.<name>]`` section, genomes and networks accept its nodes, and the reports draw them.
Evaluation workers get the kinds their genomes use: a pickled genome carries its kinds' classes
by reference, so unpickling imports (and so registers) their modules. A process that never
imported a plug-in (``evosearch resume`` on the command line, say) finds it through
:func:`evosearch.plugins.load_plugins` (``$EVOSEARCH_PLUGINS`` or the entry-point group
``evosearch.plugins``), called the first time a name is missing from the registry.

Examples
--------
>>> "dense" in layer_kinds()
True
>>> get_layer_kind("dense").n_params({"units": 8, "activation": "relu", "dropout": 0.0}, (4,))
40
"""

from __future__ import annotations

from evosearch.nn.layers.base import LayerAttribute, LayerKind, Shape
from evosearch.nn.layers.conv2d import Conv2D
from evosearch.nn.layers.dense import ACTIVATIONS, Dense
from evosearch.nn.layers.global_pool import GlobalPool
from evosearch.nn.layers.pool import Pool
from evosearch.plugins import load_plugins

__all__ = [
    "ACTIVATIONS",
    "DEFAULT_LAYER_KIND",
    "Conv2D",
    "Dense",
    "GlobalPool",
    "LayerAttribute",
    "LayerKind",
    "Pool",
    "Shape",
    "get_layer_kind",
    "layer_kinds",
    "register_layer_kind",
]

DEFAULT_LAYER_KIND = "dense"
"""The kind of a layer that names none, and of a search space without a ``[layers]`` section."""

# Names an attribute may not take: node keys and the structural mutations' names.
_RESERVED = frozenset(
    {"id", "kind", "add_layer", "remove_layer", "add_skip", "remove_skip", "hyperparameter"}
)

_REGISTRY: dict[str, LayerKind] = {}


def register_layer_kind(kind: type[LayerKind] | LayerKind) -> LayerKind:
    """Register a layer kind under its ``name`` (again: replaces it) and return the instance.

    Parameters
    ----------
    kind : LayerKind subclass or instance

    Raises
    ------
    ValueError
        If the kind has no usable name, ``input``/``output`` as its name, or a reserved or
        duplicate attribute name.
    """
    instance = kind() if isinstance(kind, type) else kind
    if not isinstance(instance, LayerKind):
        raise TypeError(f"expected a LayerKind, got {type(instance).__name__}")
    name = getattr(instance, "name", None)
    if not isinstance(name, str) or not name.isidentifier() or name in ("input", "output"):
        raise ValueError(f"a layer kind needs an identifier as its name, got {name!r}")
    names = instance.attribute_names()
    clashes = sorted(set(names) & _RESERVED)
    if clashes or len(set(names)) != len(names):
        raise ValueError(f"layer kind {name!r}: reserved or duplicate attribute names {names}")
    _REGISTRY[name] = instance
    return instance


def get_layer_kind(name: str) -> LayerKind:
    """The registered kind called ``name``; ``KeyError`` naming the registered kinds if none."""
    if isinstance(name, str) and name not in _REGISTRY:
        load_plugins()
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise KeyError(
            f"unknown layer kind {name!r} (registered: {', '.join(_REGISTRY)})"
        ) from None


def layer_kinds() -> dict[str, LayerKind]:
    """The registered kinds by name, in registration order (a copy), plug-ins loaded."""
    load_plugins()
    return dict(_REGISTRY)


register_layer_kind(Dense)
# Image layers (channels-last): a space using them needs data with an image shape.
register_layer_kind(Conv2D)
register_layer_kind(Pool)
register_layer_kind(GlobalPool)
