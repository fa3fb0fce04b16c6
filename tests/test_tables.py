"""Tables: preprocessing genes, fold-local preprocessing (no leakage), input widths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import cross_val_score

from evosearch import Evolver
from evosearch.data import check_dataset
from evosearch.evaluation import Evaluator, build_estimator, task_seed
from evosearch.preprocess import DataProfile, build_preprocessor, encoded_width
from evosearch.space import Genome, InnovationCounter, SearchSpace, mutate
from evosearch.space.operators import cx_aligned, mut_preprocessing
from evosearch.space.preprocessing import active_genes
from evosearch.testing._tables import mixed_table
from evosearch.testing._tiny import TINY_HYPER, TINY_TOML, iris


@pytest.fixture(scope="module")
def table():
    X, y = mixed_table(60)
    return check_dataset(X, y, n_splits=3)


def tiny(tmp_path: Path, extra: str = "") -> SearchSpace:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_TOML + extra, encoding="utf-8")
    return SearchSpace.from_toml(path)


def table_genome(profile: DataProfile, genes: dict[str, str]) -> Genome:
    genome = Genome.chain(1, 2, [{"units": 4, "activation": "tanh", "dropout": 0.0}], TINY_HYPER)
    genome.preprocessing = dict(genes)
    genome.graph.nodes[0]["units"] = encoded_width(profile, genes)
    return genome


GENES = [
    {"impute": "mean", "encode": "onehot"},
    {"impute": "median_indicator", "encode": "ordinal", "scale": "quantile"},
    {"impute": "mean_indicator", "encode": "onehot", "scale": "robust", "class_weight": "balanced"},
    {"impute": "median", "encode": "ordinal", "scale": "none"},
]


@pytest.mark.parametrize("genes", GENES)
def test_encoded_width_is_the_transformer_output_width(table, genes) -> None:
    profile = DataProfile.of(table)
    out = build_preprocessor(profile, genes).fit_transform(table.X)
    assert out.shape == (table.n_samples, encoded_width(profile, genes))
    assert np.isfinite(out).all()


@pytest.mark.parametrize("genes", GENES[:2])
def test_cv_score_equals_cross_val_score_of_the_same_pipeline(table, genes) -> None:
    profile = DataProfile.of(table)
    genome = table_genome(profile, genes)
    evaluator = Evaluator(table.X, table.y, table.task, cv=3, n_jobs=1, seed=5, profile=profile)
    result = evaluator.evaluate([genome])[0]
    assert result.ok, result.error
    for fold, split in enumerate(evaluator.folds):
        seed = task_seed(5, genome.canonical_hash(), fold)
        pipeline = build_estimator(genome, table.task, seed, profile=profile)
        expected = cross_val_score(pipeline, table.X, table.y, cv=[split])
        assert result.fold_scores[fold] == pytest.approx(expected[0], abs=0)


def test_preprocessing_fitted_on_a_fold_never_sees_its_test_rows(table) -> None:
    profile = DataProfile.of(table)
    genome = table_genome(profile, {"impute": "median_indicator", "encode": "onehot"})
    train, test = Evaluator(table.X, table.y, table.task, cv=3, n_jobs=1, profile=profile).folds[0]
    X = table.X.copy()
    X.loc[test, "size"] = 1e6  # test rows that would drag every statistic if they leaked
    model = build_estimator(genome, table.task, 0, profile=profile)
    model.fit(X.iloc[train], table.y[train])
    numeric = model.named_steps["prep"].named_transformers_["numeric"]
    seen = X.iloc[train][["size", "weight"]]
    np.testing.assert_allclose(numeric["impute"].statistics_, seen.median().to_numpy())
    assert numeric["scale"].mean_[0] < 10  # the standardiser saw no 1e6


def test_genes_are_active_only_where_they_can_change_the_model(tmp_path, table) -> None:
    space = tiny(tmp_path)
    X, y = iris()
    plain = DataProfile.of(check_dataset(X, y))
    assert active_genes(space.preprocessing, plain) == {}
    assert list(active_genes(space.preprocessing, DataProfile.of(table))) == ["impute", "encode"]
    imbalanced = DataProfile.of(check_dataset(X[:110], y[:110]))  # 50, 50, 10 rows
    assert list(active_genes(space.preprocessing, imbalanced)) == ["class_weight"]
    scaled = tiny(tmp_path, '\n[preprocessing]\nscale = ["standard", "robust"]\n')
    assert list(active_genes(scaled.preprocessing, plain)) == ["scale"]


def test_a_genome_without_genes_keeps_its_json_and_hash() -> None:
    genome = Genome.chain(4, 3, [], TINY_HYPER)
    assert "preprocessing" not in genome.to_json()
    with_genes = genome.copy()
    with_genes.preprocessing = {"scale": "robust"}
    assert with_genes.canonical_hash() != genome.canonical_hash()
    assert not with_genes.equivalent(genome)
    back = Genome.from_json(with_genes.to_json())
    assert back.preprocessing == {"scale": "robust"}
    assert back.canonical_hash() == with_genes.canonical_hash()
    assert "scale=robust" in back.describe()


def test_preprocessing_mutates_and_crosses_over(tmp_path, table) -> None:
    space = tiny(tmp_path)
    profile = DataProfile.of(table)
    rng = np.random.default_rng(0)
    a = table_genome(profile, {"impute": "mean", "encode": "onehot"})
    b = table_genome(profile, {"impute": "median", "encode": "ordinal"})
    changed = mut_preprocessing(a, space, rng, InnovationCounter(10))
    assert changed.preprocessing != a.preprocessing
    mixes = {tuple(cx_aligned(a, b, space, rng).preprocessing.values()) for _ in range(30)}
    assert len(mixes) == 4
    names = {mutate(a, space, rng, InnovationCounter(10))[1] for _ in range(60)}
    assert "preprocessing" in names


def test_evolver_searches_a_dataframe_and_predicts_raw_rows(tmp_path, table) -> None:
    X, y = mixed_table(60)
    evolver = Evolver(
        tiny(tmp_path), population_size=2, generations=1, n_jobs=1, cv=3, eval_timeout=None
    )
    evolver.fit(X, y)
    profile = DataProfile.of(evolver.dataset_)
    for member in evolver.archive_:
        genome = Genome.from_json(member.genome)
        assert set(genome.preprocessing) == {"impute", "encode"}
        assert genome.n_inputs == encoded_width(profile, genome.preprocessing)
    predictions = evolver.predict(X.iloc[:5])
    assert set(predictions) <= {"yes", "no"}


def test_folds_never_split_a_group() -> None:
    from evosearch.evaluation import make_folds

    X, y = iris()
    groups = np.arange(150) // 10  # 15 groups of 10 rows
    for task in ("classification", "regression"):
        for train, test in make_folds(X, y, task, 3, 0, groups):
            assert not set(groups[train]) & set(groups[test])


def test_sample_weight_counts_in_the_score_and_the_loss(table) -> None:
    profile = DataProfile.of(table)
    genome = table_genome(profile, {"impute": "mean", "encode": "onehot"})
    weights = np.where(table.y == "yes", 5.0, 0.2)
    plain = Evaluator(table.X, table.y, table.task, cv=3, n_jobs=1, profile=profile)
    weighted = Evaluator(
        table.X, table.y, table.task, cv=3, n_jobs=1, profile=profile, sample_weight=weights
    )
    a, b = plain.evaluate([genome])[0], weighted.evaluate([genome])[0]
    assert a.ok and b.ok and a.fold_scores != b.fold_scores
    train, test = weighted.folds[0]
    model = build_estimator(
        genome, table.task, task_seed(0, genome.canonical_hash(), 0), None, profile
    )
    model.fit(table.X.iloc[train], table.y[train], net__sample_weight=weights[train])
    expected = model.score(table.X.iloc[test], table.y[test], sample_weight=weights[test])
    assert b.fold_scores[0] == pytest.approx(expected, abs=0)


def test_balanced_class_weight_favours_the_small_class() -> None:
    from evosearch.nn import GraphNetClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(220, 2))
    y = np.where(X[:, 0] + 0.5 * rng.normal(size=220) > 1.2, 1, 0)  # about 1 in 8 rows
    kwargs = {"learning_rate": 0.02, "max_epochs": 60, "random_state": 0, "early_stopping": False}
    plain = GraphNetClassifier(**kwargs).fit(X, y)
    balanced = GraphNetClassifier(class_weight="balanced", **kwargs).fit(X, y)
    assert (balanced.predict(X) == 1).sum() > (plain.predict(X) == 1).sum()


def test_evolver_with_groups_and_weights_and_imbalance(tmp_path) -> None:
    X, y = iris()
    keep = np.r_[0:50, 50:100, 100:110]  # 50, 50, 10 rows: imbalanced
    groups = np.arange(keep.size) % 5
    evolver = Evolver(
        tiny(tmp_path), population_size=2, generations=1, n_jobs=1, cv=3, eval_timeout=None,
        holdout=0.3,
    )  # fmt: skip
    evolver.fit(X[keep], y[keep], groups=groups, sample_weight=np.ones(keep.size))
    genomes = [Genome.from_json(m.genome) for m in evolver.archive_]
    assert all(set(g.preprocessing) == {"class_weight"} for g in genomes)
    searched = set(evolver.dataset_.groups.tolist())
    assert len(searched) == 3  # two whole groups held out
    assert evolver.dataset_.n_samples == 22 * 3
    assert all(m.holdout_score is not None for m in evolver.archive_)


def test_a_csv_table_run_resumes_from_its_file(tmp_path) -> None:
    from evosearch.data import load_dataset

    X, y = mixed_table(45)
    X.assign(label=y).to_csv(tmp_path / "t.csv", index=False)
    (tmp_path / "t.csv").write_text(
        (tmp_path / "t.csv").read_text().replace(",,", ",?,", 3), encoding="utf-8"
    )
    dataset = load_dataset(str(tmp_path / "t.csv"), n_splits=3, na_values=["?"])
    settings = {"population_size": 2, "n_jobs": 1, "eval_timeout": None}
    first = Evolver(tiny(tmp_path), generations=1, out=tmp_path / "run", **settings)
    first.fit_dataset(dataset)
    resumed = Evolver.resume(tmp_path / "run", generations=2)
    assert resumed.dataset_.fingerprint() == dataset.fingerprint()
    assert len(resumed.history_) == 3


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_variation_keeps_genes_in_the_space_and_the_width_encoded(seed: int) -> None:
    from evosearch.search._breeding import initial_population
    from evosearch.search.strategies import BreedingContext

    X, y = mixed_table(40, seed=seed % 7)
    # A point mass (0.0 in half the rows, 20 other values) for the point_mass gene to flag.
    X["rain"] = np.where(np.arange(40) % 2 == 0, 0.0, np.arange(40) / 4.0 + 0.5)
    profile = DataProfile.of(check_dataset(X, y))
    assert profile.point_masses
    genes = {"scale": ["standard", "none"], "point_mass": ["none", "indicator"]}
    space = SearchSpace.from_dict({**SearchSpace.load("mlp").to_dict(), "preprocessing": genes})
    rng = np.random.default_rng(seed)
    innovations = InnovationCounter()
    context = BreedingContext(
        space, rng, innovations, None, lambda g: True, (1.0, -1.0), 0.5, profile.n_features, 2,
        profile=profile,
    )  # fmt: skip
    a, b = initial_population(context, [], 4)[:2]
    for _ in range(5):
        child = cx_aligned(a, b, space, rng) if rng.random() < 0.5 else a
        a, b = context.fit_input(mutate(child, space, rng, innovations)[0]), a
        a.validate(space)
        active = set(active_genes(space.preprocessing, profile))
        assert set(a.preprocessing) == active >= {"scale", "point_mass"}
        assert a.n_inputs == encoded_width(profile, a.preprocessing)


def test_role_columns_must_differ_and_weights_must_be_present(tmp_path) -> None:
    from evosearch.data import load_dataset
    from evosearch.errors import DataError

    path = tmp_path / "t.csv"
    path.write_text("a,w,g,y\n1,1,p,0\n2,,p,1\n3,2,q,0\n4,1,q,1\n5,1,r,0\n6,1,r,1\n")
    with pytest.raises(DataError, match="--groups and --sample-weight columns must differ"):
        load_dataset(str(path), target="y", groups="g", sample_weight="g")
    with pytest.raises(DataError, match=r"'w' of .* has a missing value \(line 3\)"):
        load_dataset(str(path), target="y", sample_weight="w")


def test_quantile_scaling_of_many_rows_does_not_read_global_random_state() -> None:
    # Above 10,000 rows scikit-learn subsamples before taking quantiles; a run must not depend
    # on whatever numpy's global state happens to be.
    from evosearch.preprocess import make_scaler

    rows = np.random.default_rng(3).lognormal(size=(12_000, 2))
    fitted = []
    saved = np.random.get_state()  # noqa: NPY002
    try:
        for global_seed in (1, 2):
            np.random.seed(global_seed)  # noqa: NPY002 -- the global state is what is tested
            fitted.append(make_scaler("quantile", len(rows)).fit(rows).quantiles_)
    finally:
        np.random.set_state(saved)  # noqa: NPY002
    np.testing.assert_array_equal(fitted[0], fitted[1])
