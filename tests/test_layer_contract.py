"""Every registered layer kind honours the LayerKind contract (evosearch.testing.layers).

The toy kind of ``toy_layer`` is imported first, so the suite runs over it as well as ``dense``.
"""

from __future__ import annotations

import toy_layer  # noqa: F401  (registers the toy kind before collection)

from evosearch.testing.layers import LayerKindContract


class TestLayerKinds(LayerKindContract):
    pass
