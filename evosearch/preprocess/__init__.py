"""Tabular preprocessing as genes of the search: imputation, encoding, scaling, class weights;
date columns expanded into calendar features (:class:`DateFeatures`).

A gene (:class:`PreprocessGene`, registered with :func:`register_gene`) names a choice and when
it matters; :func:`build_preprocessor` turns a genome's gene values into the scikit-learn
transformer in front of its network (fitted inside each training fold only), and
:func:`encoded_width` gives the network's input width before any training.

The genes and their registry import nothing heavy; the transformer machinery (scikit-learn) is
imported on first use of its names, so reading a search space or a run stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evosearch._lazy import lazy_exports
from evosearch.preprocess import genes as _genes  # noqa: F401  (registers the built-in genes)
from evosearch.preprocess.base import (
    PREPROCESS_GENES,
    DataProfile,
    PreprocessGene,
    gene_names,
    gene_values,
    get_gene,
    preprocess_genes,
    register_gene,
)

if TYPE_CHECKING:
    from evosearch.preprocess.dates import DATE_PARTS, DateFeatures, date_features
    from evosearch.preprocess.pipeline import (
        MISSING_LEVEL,
        OTHER_LEVEL,
        LevelMapper,
        build_preprocessor,
        encoded_width,
        encoding_levels,
        make_scaler,
    )
    from evosearch.preprocess.point_mass import PointMassIndicators

__all__ = [
    "DATE_PARTS",
    "MISSING_LEVEL",
    "OTHER_LEVEL",
    "PREPROCESS_GENES",
    "DataProfile",
    "DateFeatures",
    "LevelMapper",
    "PointMassIndicators",
    "PreprocessGene",
    "build_preprocessor",
    "date_features",
    "encoded_width",
    "encoding_levels",
    "gene_names",
    "gene_values",
    "get_gene",
    "make_scaler",
    "preprocess_genes",
    "register_gene",
]

# Imported on first use (see evosearch._lazy): scikit-learn only when a transformer is built.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        **{
            name: "pipeline"
            for name in (
                "MISSING_LEVEL",
                "OTHER_LEVEL",
                "LevelMapper",
                "build_preprocessor",
                "encoded_width",
                "encoding_levels",
                "make_scaler",
            )
        },
        **{name: "dates" for name in ("DATE_PARTS", "DateFeatures", "date_features")},
        "PointMassIndicators": "point_mass",
    },
)
