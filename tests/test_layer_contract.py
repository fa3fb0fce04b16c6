"""Every registered layer kind honours the LayerKind contract (evosearch.testing.layers).

The toy kind of ``toy_layer`` is imported first, so the suite runs over it as well as ``dense``.
"""

from __future__ import annotations

import pytest
import toy_layer  # registers the toy kind before collection

from evosearch import Genome, SearchSpace
from evosearch.errors import InvalidGenomeError, SearchSpaceError
from evosearch.nn import (
    LayerAttribute,
    count_parameters,
    get_layer_kind,
    layer_kinds,
    register_layer_kind,
)
from evosearch.testing.layers import LayerKindContract


class TestLayerKinds(LayerKindContract):
    pass


# --------------------------------------------------------------------------- the registry
def test_registry_lists_and_finds_kinds_by_name():
    assert list(layer_kinds())[:1] == ["dense"]
    assert "wave" in layer_kinds()
    assert get_layer_kind("wave") is layer_kinds()["wave"]
    with pytest.raises(KeyError) as refused:
        get_layer_kind("conv")
    line = str(refused.value)  # one line, not a KeyError's quoted key
    assert line.startswith("unknown layer kind 'conv': choose from dense, conv2d, ") and (
        "(did you mean 'conv2d'?)" in line
    )


@pytest.mark.parametrize("attribute", ["kind", "id", "add_layer", "hyperparameter"])
def test_registry_refuses_reserved_attribute_names(attribute):
    class Clash(toy_layer.Wave):
        name = "clash"
        attributes = (LayerAttribute(attribute, "number", (1.0,)),)

    with pytest.raises(ValueError, match="reserved"):
        register_layer_kind(Clash)
    assert "clash" not in layer_kinds()


def test_unknown_kinds_are_refused_by_networks_genomes_and_spaces():
    architecture = {"layers": [{"id": 2, "kind": "conv", "units": 4}], "edges": [[0, 2], [2, 1]]}
    with pytest.raises(ValueError, match="invalid architecture: layer 2: unknown layer kind"):
        count_parameters(architecture, 4, 3)
    with pytest.raises(SearchSpaceError, match=r"layers\.conv"):
        SearchSpace.from_dict({"layers": {"conv": {}}})
    genome = Genome.chain(4, 3, [{"kind": "wave", "omega": 1.0}], {})
    genome.validate()
    genome.graph.nodes[2]["kind"] = "conv"
    with pytest.raises(InvalidGenomeError, match="kind 'conv'"):
        genome.validate()
