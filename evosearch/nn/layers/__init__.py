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
from evosearch.registry import Registry

__all__ = [
    "ACTIVATIONS",
    "DEFAULT_LAYER_KIND",
    "LAYER_KINDS",
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


def _check_kind(name: str, kind: LayerKind) -> None:
    if not name.isidentifier() or name in ("input", "output"):
        raise ValueError(f"a layer kind needs an identifier as its name, got {name!r}")
    names = kind.attribute_names()
    clashes = sorted(set(names) & _RESERVED)
    if clashes or len(set(names)) != len(names):
        raise ValueError(f"layer kind {name!r}: reserved or duplicate attribute names {names}")


#: The layer kinds by name (``dense`` first); a miss is a ``KeyError`` (:class:`UnknownNameError`).
LAYER_KINDS: Registry[LayerKind] = Registry(
    "layer kind", base=LayerKind, instances=True, validate=_check_kind
)


def register_layer_kind(kind: type[LayerKind] | LayerKind) -> LayerKind:
    """Register a layer kind under its ``name`` (again: replaces it) and return the instance.

    Parameters
    ----------
    kind : LayerKind subclass or instance

    Raises
    ------
    TypeError
        If ``kind`` is not a :class:`LayerKind` or has no name.
    ValueError
        If its name is not an identifier or is ``input``/``output``, or it has a reserved or
        duplicate attribute name.
    """
    instance = kind() if isinstance(kind, type) else kind
    LAYER_KINDS.register(instance)
    return instance


def get_layer_kind(name: str) -> LayerKind:
    """The registered kind called ``name``.

    Raises
    ------
    UnknownNameError
        A ``KeyError`` of one line naming the registered kinds, if there is none.
    """
    return LAYER_KINDS.get(name)


def layer_kinds() -> dict[str, LayerKind]:
    """The registered kinds by name, in registration order (a copy), plug-ins loaded."""
    load_plugins()
    return LAYER_KINDS.as_dict()


register_layer_kind(Dense)
# Image layers (channels-last): a space using them needs data with an image shape.
register_layer_kind(Conv2D)
register_layer_kind(Pool)
register_layer_kind(GlobalPool)
