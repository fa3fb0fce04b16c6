"""The ``[preprocessing]`` section of a search space, and the preprocessing genes of genomes.

The section lists the choices of each registered preprocessing gene
(:mod:`evosearch.preprocess`)::

    [preprocessing]
    impute = ["mean", "median", "mean_indicator", "median_indicator"]
    encode = ["onehot", "ordinal"]
    scale = ["standard"]            # the mlp preset: add "robust", "quantile", "none" to search
    class_weight = ["none", "balanced"]

A key left out takes the gene's default domain. A genome carries a gene only where it is
*active*: relevant to the data (imputation only with missing numeric cells, encoding only with
categorical columns, class weights only for imbalanced classes) and given more than the gene's
default by the space. Elsewhere the gene's default applies, nothing is drawn, and the genome
(its JSON, its hash) is what it was before preprocessing genes existed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from evosearch.preprocess import DataProfile, get_gene, preprocess_genes

__all__ = ["active_genes", "parse_preprocessing", "sample_preprocessing"]

Parse = Callable[[str, str, Any, tuple], Any]


def parse_preprocessing(source: str, table: dict[str, Any], parse: Parse) -> dict[str, Any]:
    """Every registered gene's domain (a ``Choice``) from the section's table.

    ``parse(source, key, raw, rule)`` is the space's parameter parser (it names the key in its
    errors); unknown keys were refused by the caller.
    """
    return {
        name: parse(
            source,
            f"preprocessing.{name}",
            table.get(name, list(gene.default_domain)),
            ("string", None, None, gene.choices),
        )
        for name, gene in preprocess_genes().items()
    }


def active_genes(domains: dict[str, Any], profile: DataProfile | None) -> dict[str, Any]:
    """The genes a genome carries on data of ``profile``: relevant and searched (see above)."""
    if profile is None:
        return {}
    active = {}
    for name, domain in domains.items():
        gene = get_gene(name)
        if gene.relevant(profile) and tuple(domain.values) != (gene.default,):
            active[name] = domain
    return active


def sample_preprocessing(active: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """Draw the active genes (in registration order); a one-choice domain draws nothing."""
    return {
        name: domain.values[0] if len(domain.values) == 1 else domain.sample(rng)
        for name, domain in active.items()
    }
