"""The built-in preprocessing genes: imputation, encoding, scaling and class weights.

=============  =====================================================  ==========================
gene           choices                                                drawn where
=============  =====================================================  ==========================
impute         mean, median, mean_indicator, median_indicator         numeric or date cells are
                                                                      missing
encode         onehot (rare levels grouped), ordinal                  categorical columns exist
scale          standard, robust, quantile (to a normal), none         the space allows more
                                                                      than ``standard``
class_weight   none, balanced (rows weighted by 1 / class size)       classes are imbalanced
=============  =====================================================  ==========================

``*_indicator`` adds a 0/1 column per numeric column that has missing cells in the table (not
per date column: a missing date's features are imputed, with no indicator).
"""

from __future__ import annotations

from evosearch.preprocess.base import DataProfile, PreprocessGene, register_gene

__all__ = ["ClassWeight", "Encode", "Impute", "Scale"]


@register_gene
class Impute(PreprocessGene):
    """How missing numeric cells (and dates' features) are filled (fitted on each training
    fold)."""

    name = "impute"
    choices = ("mean", "median", "mean_indicator", "median_indicator")
    default = "mean"
    default_domain = choices

    def relevant(self, profile: DataProfile) -> bool:
        return bool(profile.missing_numeric or profile.missing_dates)


@register_gene
class Encode(PreprocessGene):
    """How categorical columns become numbers."""

    name = "encode"
    choices = ("onehot", "ordinal")
    default = "onehot"
    default_domain = choices

    def relevant(self, profile: DataProfile) -> bool:
        return bool(profile.categorical)


@register_gene
class Scale(PreprocessGene):
    """How numeric columns are scaled (fitted on each training fold)."""

    name = "scale"
    choices = ("standard", "robust", "quantile", "none")
    default = "standard"
    # The mlp preset's results stay what they were: only standardisation unless asked.
    default_domain = ("standard",)

    def relevant(self, profile: DataProfile) -> bool:
        return True


@register_gene
class ClassWeight(PreprocessGene):
    """Whether the loss weights rows by the inverse size of their class."""

    name = "class_weight"
    choices = ("none", "balanced")
    default = "none"
    default_domain = choices

    def relevant(self, profile: DataProfile) -> bool:
        return profile.imbalanced()
