"""Contract test suites for plug-ins, parametrised over each registry.

A component is tested the moment it is registered: every suite builds its parameter list from
its registry (never by hand), so the built-in components and any plug-in imported before the
test module is collected go through the same checks.

``evosearch.testing.layers``
    :class:`~evosearch.testing.layers.LayerKindContract`: finite-difference gradients of forward
    and backward, declared output shapes and parameter counts equal to the built arrays, mutation
    of every declared attribute keeps the genome valid.
``evosearch.testing.objectives``
    direction, finite values, known-before-training objectives computable from the genome
    alone, normalisation into [0, 1].
``evosearch.testing.strategies``
    the same seed gives the same run; a run stopped and resumed equals the uninterrupted one.
``evosearch.testing.backends``
    :class:`~evosearch.testing.backends.BackendContract`: the same results as the local backend,
    each task reported as it finishes, time limits and deadlines.
``evosearch.testing.export_formats``
    every export format: a tiny classifier, regressor and table model written and read back
    predict as the estimator does (classes equal, probabilities within 1e-5), and
    ``model.json`` names the format, its files and the package versions.

Use them from a test module after importing the plug-in::

    import my_layers  # registers the kind
    from evosearch.testing.layers import LayerKindContract

    class TestMyLayers(LayerKindContract): ...

The suites need pytest (and Hypothesis for the layer suite): install ``evosearch[test]``.
"""
