"""Point masses: found on the whole table, a 0/1 column each under the ``point_mass`` gene, on
in the mlp presets and off in spaces (and runs) that do not name it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evosearch import Evolver
from evosearch.data import check_dataset, load_dataset
from evosearch.data.point_masses import point_masses
from evosearch.preprocess import DataProfile, build_preprocessor, encoded_width
from evosearch.space import Genome, SearchSpace
from evosearch.space.preprocessing import active_genes
from evosearch.testing._tiny import TINY_TOML, iris


def rainfall(n_rows: int = 90, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Days of weather: ``rain`` is exactly 0 on about 60 % of them; the class is wet or dry
    with a windy twist, and ``month`` is text; two rain cells are blank."""
    rng = np.random.default_rng(seed)
    rain = np.where(rng.random(n_rows) < 0.6, 0.0, rng.gamma(2.0, 3.0, n_rows).round(1) + 0.1)
    wind = rng.normal(3.0, 1.0, n_rows)
    month = rng.choice(np.array(["jan", "feb", "mar"], dtype=object), n_rows)
    label = np.where(rain > 0, "wet", np.where(wind > 3.5, "windy", "dry"))
    frame = pd.DataFrame({"rain": rain, "wind": wind, "month": month})
    frame.loc[[4, 9], "rain"] = np.nan
    return frame, label


def test_a_point_mass_is_a_dominant_value_among_many() -> None:
    rain = np.r_[np.zeros(60), np.arange(1.0, 41.0)]
    # A value measured to a resolution: the most frequent one only twice the next one's count.
    resolution = np.r_[np.full(20, 3.0), np.full(10, 2.8), np.arange(70) / 10.0 + 5.0]
    levels = np.r_[np.zeros(60), np.tile(np.arange(1.0, 5.0), 10)]  # 5 levels: categorical-like
    blanks = np.r_[np.full(50, np.nan), np.zeros(20), np.arange(1.0, 31.0)]
    matrix = np.column_stack([rain, resolution, levels, blanks, np.full(100, np.nan)])
    assert point_masses(matrix) == ((0, 0.0), (3, 0.0))
    # Sparse data (pixels given as a table): the background value in most columns, no flags.
    pixels = np.where(np.arange(100)[:, None] % 3 == 0, np.arange(100.0)[:, None] / 100 + 0.5, 0.0)
    assert point_masses(np.repeat(pixels, 10, axis=1)) == ()
    assert len(point_masses(np.repeat(pixels, 4, axis=1))) == 4  # up to four always kept
    assert point_masses(iris()[0]) == ()  # sepal width's 3.0 cm is a resolution peak


def test_datasets_carry_the_point_masses_of_all_their_rows() -> None:
    frame, label = rainfall()
    table = check_dataset(frame, label, n_splits=3)
    assert table.is_table and table.point_masses == ((0, 0.0),)  # rain, among numeric columns
    plain = check_dataset(frame[["wind", "rain"]].fillna(0.0), label, n_splits=3)
    assert not plain.is_table and plain.point_masses == ((1, 0.0),)
    assert table.subset(np.arange(10)).point_masses == table.point_masses
    assert load_dataset("digits").point_masses == ()  # images: pixels stay pixels
    assert load_dataset("iris").point_masses == ()


def transformed(prep: object, X: object) -> np.ndarray:
    """``X`` through a fresh preprocessor (``"passthrough"``: a plain matrix left as it is)."""
    return np.asarray(X, dtype=float) if prep == "passthrough" else prep.fit_transform(X)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "genes",
    [
        {"point_mass": "indicator"},
        {"point_mass": "indicator", "impute": "median_indicator", "scale": "quantile"},
        {"point_mass": "indicator", "encode": "ordinal", "scale": "none"},
        {"point_mass": "none"},
    ],
)
def test_each_point_mass_adds_one_flag_column(genes: dict[str, str]) -> None:
    frame, label = rainfall()
    for data in (frame, frame[["rain", "wind"]].fillna(0.0)):
        dataset = check_dataset(data, label, n_splits=3)
        profile = DataProfile.of(dataset)
        out = transformed(build_preprocessor(profile, genes), dataset.X)
        assert out.shape == (len(label), encoded_width(profile, genes))
        bare = transformed(build_preprocessor(profile, {**genes, "point_mass": "none"}), dataset.X)
        assert out.shape[1] - bare.shape[1] == (genes["point_mass"] == "indicator")
    if genes["point_mass"] == "indicator" and genes.get("scale") == "none":
        rain = frame["rain"].fillna(0.0).to_numpy()  # as the plain matrix has it
        flags = out[:, 2]  # the plain matrix: rain, wind, then rain's flag
        np.testing.assert_array_equal(flags, (rain == 0.0).astype(float))


def test_the_mlp_presets_name_the_gene_and_other_spaces_have_it_off(tmp_path: Path) -> None:
    frame, label = rainfall()
    profile = DataProfile.of(check_dataset(frame, label, n_splits=3))
    for preset in ("mlp", "mlp-compressed"):
        space = SearchSpace.load(preset)
        assert space.preprocessing["point_mass"].values == ("indicator",)
        assert "point_mass" in active_genes(space.preprocessing, profile)
    # A space without the gene (a run.json written before it existed): off, never active.
    old = SearchSpace.load("mlp").to_dict()
    del old["preprocessing"]["point_mass"]
    assert "point_mass" not in active_genes(SearchSpace.from_dict(old).preprocessing, profile)
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_TOML, encoding="utf-8")
    assert SearchSpace.from_toml(path).preprocessing["point_mass"].values == ("none",)


def test_a_search_flags_the_point_mass_and_resumes_as_it_ran(tmp_path: Path) -> None:
    frame, label = rainfall(120)
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_TOML + '\n[preprocessing]\npoint_mass = ["indicator"]\n', "utf-8")
    settings = {"genome": str(path), "population_size": 4, "n_jobs": 1, "random_state": 3}
    whole = Evolver(generations=2, out=tmp_path / "whole", **settings).fit(frame, label)
    best = whole.best_genome_
    assert best.preprocessing["point_mass"] == "indicator"
    assert best.n_inputs == encoded_width(DataProfile.of(whole.dataset_), best.preprocessing)
    bare = {**best.preprocessing, "point_mass": "none"}
    assert best.n_inputs == encoded_width(DataProfile.of(whole.dataset_), bare) + 1
    assert set(whole.predict(frame.iloc[:5])) <= {"wet", "windy", "dry"}
    Evolver(generations=1, out=tmp_path / "cut", **settings).fit(frame, label)
    resumed = Evolver.resume(tmp_path / "cut", X=frame, y=label, generations=2)
    assert [m.genome_hash for m in resumed.archive_.members] == [
        m.genome_hash for m in whole.archive_.members
    ]
    assert [m.objectives for m in resumed.archive_.members] == [
        m.objectives for m in whole.archive_.members
    ]


def test_a_plain_matrix_search_counts_the_flags_in_its_genomes(tmp_path: Path) -> None:
    frame, label = rainfall(120)
    X = frame[["rain", "wind"]].fillna(0.0).to_numpy()
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_TOML + '\n[preprocessing]\npoint_mass = ["indicator"]\n', "utf-8")
    evolver = Evolver(genome=str(path), population_size=4, generations=2, n_jobs=1).fit(X, label)
    assert evolver.dataset_.columns is None and evolver.dataset_.point_masses == ((0, 0.0),)
    for member in evolver.archive_.members:  # the params objective counts the flag's weights
        genome = Genome.from_json(member.genome)
        assert genome.preprocessing["point_mass"] == "indicator" and genome.n_inputs == 3
        assert member.objectives[1] == genome.n_params()
    assert evolver.best_estimator_[-1].n_features_in_ == evolver.best_genome_.n_inputs == 3


def test_the_command_names_the_point_mass_and_its_export_predicts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from evosearch.cli.main import main

    monkeypatch.chdir(tmp_path)
    frame, label = rainfall(90)
    frame.assign(sky=label).to_csv("days.csv", index=False)
    status = main(
        ["evolve", "--data", "days.csv", "--target", "sky", "--population", "4",
         "--generations", "1", "--n-jobs", "1", "--out", "run"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert status == 0
    assert "point masses (one value in many rows): rain = 0;" in out
    assert "point_mass=indicator" in out
    # The numpy-only format has the most hand-written code for it (every format: the contract
    # suite, tests/test_export_format_contract.py).
    assert main(["export", "run", "--format", "python", "--out", "model"]) == 0
    assert main(["predict", "model", "days.csv", "--out", "p.csv"]) == 0
    rows = (tmp_path / "p.csv").read_text().splitlines()
    assert rows[0] == "sky" and set(rows[1:]) <= {"wet", "windy", "dry"} and len(rows) == 91


def test_a_plain_matrix_run_with_flags_resumes_from_its_folder(tmp_path: Path) -> None:
    frame, label = rainfall(120)
    X = frame[["rain", "wind"]].fillna(0.0).to_numpy()
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_TOML + '\n[preprocessing]\npoint_mass = ["indicator"]\n', "utf-8")
    settings = {"genome": str(path), "population_size": 4, "n_jobs": 1, "random_state": 1}
    whole = Evolver(generations=2, out=tmp_path / "whole", **settings).fit(X, label)
    Evolver(generations=1, out=tmp_path / "cut", **settings).fit(X, label)
    resumed = Evolver.resume(tmp_path / "cut", X=X, y=label, generations=2)
    assert [(m.genome_hash, m.objectives) for m in resumed.archive_.members] == [
        (m.genome_hash, m.objectives) for m in whole.archive_.members
    ]
