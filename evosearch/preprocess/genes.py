"""The built-in preprocessing genes: imputation, encoding, scaling, class weights and point masses.

=============  =====================================================  ==========================
gene           choices                                                drawn where
=============  =====================================================  ==========================
impute         mean, median, mean_indicator, median_indicator         numeric or date cells are
                                                                      missing
encode         onehot (rare levels grouped), ordinal                  categorical columns exist
scale          standard, robust, quantile (to a normal), none         the space allows more
                                                                      than ``standard``
class_weight   none, balanced (rows weighted by 1 / class size)       classes are imbalanced
point_mass     none, indicator (a 0/1 column beside each numeric      a numeric column has a
               column with a point mass: ``value == mass``)           point mass
=============  =====================================================  ==========================

``*_indicator`` adds a 0/1 column per numeric column that has missing cells in the table (not
per date column: a missing date's features are imputed, with no indicator). ``point_mass`` is
off in a space that does not name it (so runs recorded before it stay what they were); the mlp
presets name it with the one choice ``indicator``: :mod:`evosearch.data.point_masses` says
which columns have a point mass.
"""

from __future__ import annotations

from evosearch.preprocess.base import DataProfile, PreprocessGene, register_gene

__all__ = ["ClassWeight", "Encode", "Impute", "PointMass", "Scale"]


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


@register_gene
class PointMass(PreprocessGene):
    """Whether each numeric column with a point mass gets a 0/1 column ``value == mass``
    beside it (after imputation, before scaling)."""

    name = "point_mass"
    choices = ("none", "indicator")
    default = "none"
    # Off unless a space names it: a run.json recorded before the gene existed has no entry
    # for it and must resume as it ran. The mlp presets name it.
    default_domain = ("none",)

    def relevant(self, profile: DataProfile) -> bool:
        return bool(profile.point_masses)
