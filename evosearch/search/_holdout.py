"""The holdout check: rows kept out of the search, scored by each archive member at the end."""

from __future__ import annotations

from collections.abc import Mapping

from evosearch.data import Dataset
from evosearch.errors import SettingsError
from evosearch.evaluation import Fidelity, fold_score
from evosearch.objectives import Scoring
from evosearch.search.archive import ParetoArchive
from evosearch.search.inheritance import FoldWeights
from evosearch.search.refit import refit_member

__all__ = ["score_holdout", "split_holdout"]


def split_holdout(
    dataset: Dataset, fraction: float | None, seed: int
) -> tuple[Dataset, Dataset | None]:
    """Split off ``fraction`` of the rows (stratified for classification, drawn with ``seed``).

    Returns
    -------
    (Dataset, Dataset or None)
        The rows the search sees and the held-out rows (None, and all rows searched, when
        ``fraction`` is None). With groups, whole groups are held out.

    Raises
    ------
    SettingsError
        If the data cannot be split so (e.g. a class too small).
    """
    if fraction is None:
        return dataset, None
    from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit, StratifiedShuffleSplit

    if dataset.groups is not None:  # held-out groups are never seen by the search
        splitter = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
    else:
        splitter = (StratifiedShuffleSplit if dataset.task == "classification" else ShuffleSplit)(
            n_splits=1, test_size=fraction, random_state=seed
        )
    try:
        search_rows, held_rows = next(splitter.split(dataset.X, dataset.y, dataset.groups))
    except ValueError as exc:
        raise SettingsError(f"holdout={fraction} cannot split this data: {exc}") from None
    held = dataset.subset(held_rows, name=f"{dataset.name} holdout")
    return dataset.subset(search_rows), held


def score_holdout(
    archive: ParetoArchive,
    search: Dataset,
    held: Dataset,
    seed: int,
    cv: int,
    scoring: Scoring = None,
    fidelity: Fidelity | None = None,
    starts: Mapping[str, tuple[int, FoldWeights]] | None = None,
    scale_target: bool = True,
) -> None:
    """Refit every archive member on the search rows and set its ``holdout_score``
    (``scoring``'s score, else accuracy / R²); ``fidelity``: the epochs a fidelity plan caps;
    ``starts``: per member's hash the CV network its refit starts from, as an export's does
    (:func:`~evosearch.search.refit.refit_starts`); ``scale_target``: the run's setting."""
    for entry in archive:
        start = None if starts is None else starts.get(entry.genome_hash)
        model = refit_member(entry, search, seed, cv, fidelity, start, scale_target)
        entry.holdout_score = fold_score(model, held.X, held.y, scoring, held.sample_weight)
