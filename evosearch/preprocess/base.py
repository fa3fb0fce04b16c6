"""The preprocessing gene contract, the data profile genes read, and the registry of genes.

A *preprocessing gene* is one choice about how a table's raw columns become the network's
input (or, for ``class_weight``, how its rows count in the loss): a name (its key in the
search space's ``[preprocessing]`` section and in the genome), the values it knows, the value a
genome without it gets, and when it can change the model at all. A gene is drawn and mutated
only where it can (:meth:`PreprocessGene.relevant`, e.g. imputation only for data with missing
cells) and only where the space gives it more than its default, so a run on data that needs
none of them draws no random number for them and gives the results it always gave.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from evosearch.data import CATEGORICAL, DATE, NUMERIC, Column, Dataset
from evosearch.registry import Registry

__all__ = [
    "PREPROCESS_GENES",
    "DataProfile",
    "PreprocessGene",
    "gene_names",
    "get_gene",
    "preprocess_genes",
    "register_gene",
]


@dataclass(frozen=True)
class DataProfile:
    """What decides which genes matter and how wide the network's input is.

    Attributes
    ----------
    columns : tuple of Column or None
        The table's columns; None for a plain float matrix.
    n_features : int
        Raw feature columns.
    n_rows : int
    task : str
    class_counts : tuple of int
        Rows per class (classification), else empty.
    point_masses : tuple of (int, float)
        ``(index among the numeric columns, value)`` of the numeric columns with a point mass
        (:attr:`evosearch.data.Dataset.point_masses`).
    """

    columns: tuple[Column, ...] | None
    n_features: int
    n_rows: int
    task: str
    class_counts: tuple[int, ...] = ()
    point_masses: tuple[tuple[int, float], ...] = ()

    @classmethod
    def of(cls, dataset: Dataset) -> DataProfile:
        """The profile of a dataset."""
        counts: tuple[int, ...] = ()
        if dataset.task == "classification":
            counts = tuple(int(c) for c in np.unique(dataset.y, return_counts=True)[1])
        return cls(
            dataset.columns,
            dataset.n_features,
            dataset.n_samples,
            dataset.task,
            counts,
            dataset.point_masses,
        )

    @property
    def numeric(self) -> list[Column]:
        """The numeric columns (every column of a plain matrix counts, with no missing cell)."""
        if self.columns is None:
            return [Column(f"x{i}", NUMERIC) for i in range(self.n_features)]
        return [c for c in self.columns if c.kind == NUMERIC]

    @property
    def categorical(self) -> list[Column]:
        return [c for c in self.columns or () if c.kind == CATEGORICAL]

    @property
    def missing_numeric(self) -> list[Column]:
        """Numeric columns with missing cells."""
        return [c for c in self.numeric if c.n_missing]

    @property
    def dates(self) -> list[Column]:
        """The date columns (each expanded into numeric features)."""
        return [c for c in self.columns or () if c.kind == DATE]

    @property
    def missing_dates(self) -> list[Column]:
        """Date columns with missing cells (their features are imputed)."""
        return [c for c in self.dates if c.n_missing]

    def imbalanced(self) -> bool:
        """Classification whose smallest class has under half the rows of the largest."""
        return bool(self.class_counts) and 2 * min(self.class_counts) < max(self.class_counts)


class PreprocessGene(ABC):
    """Contract of a preprocessing gene (a registered subclass is one choice of the search).

    Class attributes
    ----------------
    name : str
        Key in the ``[preprocessing]`` section and in ``Genome.preprocessing``.
    choices : tuple of str
        Every value the gene knows.
    default : str
        What a genome that does not carry the gene gets.
    default_domain : tuple of str
        The choices of a search space that does not name the gene.
    """

    name: ClassVar[str]
    choices: ClassVar[tuple[str, ...]]
    default: ClassVar[str]
    default_domain: ClassVar[tuple[str, ...]]

    @abstractmethod
    def relevant(self, profile: DataProfile) -> bool:
        """Whether the gene can change the model on data of this profile."""

    def __repr__(self) -> str:
        return f"<preprocessing gene {self.name!r}>"


def _check_gene(name: str, gene: PreprocessGene) -> None:
    if gene.default not in gene.choices or not set(gene.default_domain) <= set(gene.choices):
        raise ValueError(f"gene {name!r}: default and domain must be among its choices")


#: The preprocessing genes by name, in registration (= drawing) order; a miss is a
#: ``KeyError`` (:class:`~evosearch.registry.UnknownNameError`).
PREPROCESS_GENES: Registry[PreprocessGene] = Registry(
    "preprocessing gene", base=PreprocessGene, instances=True, validate=_check_gene
)


def register_gene(gene: type[PreprocessGene]) -> type[PreprocessGene]:
    """Register a gene class (usable as a decorator); genes are drawn in registration order.

    Raises
    ------
    TypeError
        If ``gene`` is not a :class:`PreprocessGene` with a name.
    ValueError
        If its default or default domain is not among its choices.
    """
    return PREPROCESS_GENES.register(gene)


def preprocess_genes() -> dict[str, PreprocessGene]:
    """The registered genes by name, in registration (= drawing) order."""
    return PREPROCESS_GENES.as_dict()


def gene_names() -> list[str]:
    """Names of the registered genes, in drawing order."""
    return PREPROCESS_GENES.names()


def get_gene(name: str) -> PreprocessGene:
    """The gene called ``name``.

    Raises
    ------
    KeyError
        One line naming the known genes and the closest names.
    """
    return PREPROCESS_GENES.get(name)


def gene_values(genes: dict[str, Any], names: Sequence[str] | None = None) -> dict[str, str]:
    """Every gene's value: the genome's where it has one, else the gene's default."""
    return {
        n: str(genes.get(n, PREPROCESS_GENES.get(n).default))
        for n in (names or PREPROCESS_GENES.names())
    }
