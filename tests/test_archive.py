"""Tests for evosearch.search.archive: dominance rules, hypervolume, JSON round trip."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import toy_objective  # noqa: F401  (registers the "depth" objective)
from hypothesis import given, settings
from hypothesis import strategies as st

from evosearch.search.archive import ArchiveEntry, ParetoArchive, hypervolume_2d


def entry3(h: str, score: float, n_params: float, depth: float) -> ArchiveEntry:
    return ArchiveEntry({}, h, (score, n_params, depth))


def entry(h: str, score: float, n_params: float, generation: int = 0, **kw) -> ArchiveEntry:
    return ArchiveEntry(
        genome={"id": h, "layers": [{"id": 2, "units": 8}]},
        genome_hash=h,
        objectives=(score, n_params),
        fold_scores=kw.get("fold_scores", [score, score]),
        generation=generation,
        parents=kw.get("parents", []),
    )


def hashes(archive: ParetoArchive) -> list[str]:
    return [m.genome_hash for m in archive.members]


# ----------------------------------------------------------------------------- dominance


def test_update_keeps_non_dominated_sorted_by_params() -> None:
    archive = ParetoArchive()
    added = archive.update(
        [entry("a", 0.9, 1000), entry("b", 0.8, 5000), entry("c", 0.95, 9000), entry("d", 0.5, 10)]
    )
    assert added == 3
    assert hashes(archive) == ["d", "a", "c"]
    assert len(archive) == 3
    assert [m.genome_hash for m in archive] == ["d", "a", "c"]
    assert "a" in archive and "b" not in archive


def test_later_dominated_entry_is_rejected() -> None:
    archive = ParetoArchive()
    archive.update([entry("a", 0.9, 1000)])
    assert archive.update([entry("b", 0.85, 2000, generation=5)]) == 0
    assert archive.update([entry("c", 0.9, 1000.5, generation=6)]) == 0
    assert hashes(archive) == ["a"]


def test_dominating_entry_evicts() -> None:
    archive = ParetoArchive()
    archive.update([entry("a", 0.9, 1000), entry("b", 0.95, 5000), entry("c", 0.5, 10)])
    assert archive.update([entry("d", 0.96, 900, generation=3)]) == 1
    assert hashes(archive) == ["c", "d"]


def test_equal_objectives_keep_the_older_member() -> None:
    archive = ParetoArchive()
    archive.update([entry("old", 0.9, 1000)])
    assert archive.update([entry("new", 0.9, 1000, generation=4)]) == 0
    assert hashes(archive) == ["old"]


def test_known_hash_is_ignored() -> None:
    archive = ParetoArchive()
    archive.update([entry("a", 0.9, 1000)])
    assert archive.update([entry("a", 0.99, 10)]) == 0
    assert archive.members[0].objectives == (0.9, 1000.0)


def test_update_counts_only_entries_still_present() -> None:
    archive = ParetoArchive()
    assert archive.update([entry("a", 0.8, 100), entry("b", 0.9, 50)]) == 1
    assert hashes(archive) == ["b"]


def test_weights_are_respected() -> None:
    archive = ParetoArchive(weights=(-1.0, -1.0))  # minimise both
    archive.update([entry("a", 0.1, 10), entry("b", 0.2, 20), entry("c", 0.05, 30)])
    assert hashes(archive) == ["a", "c"]


def test_bad_entries_raise() -> None:
    archive = ParetoArchive()
    with pytest.raises(ValueError, match="NaN"):
        archive.update([entry("a", math.nan, 10)])
    with pytest.raises(ValueError, match="objectives"):
        archive.update([ArchiveEntry({}, "b", (0.5,))])
    with pytest.raises(ValueError):
        ParetoArchive(weights=(1.0, 0.0))
    with pytest.raises(ValueError):
        ParetoArchive(param_reference=1.0)


def test_best() -> None:
    archive = ParetoArchive(weights=(1.0, -1.0, -1.0))
    archive.update(
        [
            ArchiveEntry({}, "a", (0.9, 1000, 5.0)),
            ArchiveEntry({}, "b", (0.9, 500, 7.0)),
            ArchiveEntry({}, "c", (0.7, 100, 1.0)),
        ]
    )
    assert archive.best().genome_hash == "b"  # tie on score -> fewer params
    assert archive.best(1).genome_hash == "c"
    assert archive.best(2).genome_hash == "c"
    with pytest.raises(ValueError):
        archive.best(3)
    with pytest.raises(ValueError, match="empty"):
        ParetoArchive().best()


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 10), st.integers(1, 10), st.integers(0, 30)),
        max_size=40,
    )
)
def test_all_time_non_dominated_property(points) -> None:
    archive = ParetoArchive()
    offered = []
    for batch_start in range(0, len(points), 7):  # several generations
        batch = [
            entry(f"h{i}-{p[2]}", p[0] / 10, p[1] * 100, generation=batch_start)
            for i, p in enumerate(points[batch_start : batch_start + 7], start=batch_start)
        ]
        archive.update(batch)
        offered.extend(batch)
    weighted = [(m.objectives[0], -m.objectives[1]) for m in archive.members]
    for i, a in enumerate(weighted):
        for j, b in enumerate(weighted):
            if i != j:
                assert a != b
                assert not (a[0] >= b[0] and a[1] >= b[1])
    # Every entry ever offered is a member or weakly dominated by a member.
    for e in offered:
        w = (e.objectives[0], -e.objectives[1])
        assert any(m[0] >= w[0] and m[1] >= w[1] for m in weighted)
    params = [m.objectives[1] for m in archive.members]
    assert params == sorted(params)


# ----------------------------------------------------------------------------- hypervolume


@pytest.mark.parametrize(
    ("points", "reference", "expected"),
    [
        ([], (0, 0), 0.0),
        ([[1.0, 1.0]], (0, 0), 1.0),
        ([[2.0, 3.0]], (1, 1), 2.0),
        ([[1.0, 2.0], [2.0, 1.0]], (0, 0), 3.0),
        ([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]], (0, 0), 6.0),
        ([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [1.0, 1.0], [2.0, 2.0]], (0, 0), 6.0),
        ([[0.5, 0.5], [-1.0, 4.0]], (0, 0), 0.25),
        ([[1.0, 1.0]], (2, 0), 0.0),
    ],
)
def test_hypervolume_2d_hand_computed(points, reference, expected) -> None:
    assert hypervolume_2d(np.array(points, dtype=float), reference) == pytest.approx(expected)


def test_hypervolume_2d_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError):
        hypervolume_2d(np.ones((2, 3)), (0, 0))
    with pytest.raises(ValueError):
        hypervolume_2d(np.ones((2, 2)), (0, 0, 0))
    with pytest.raises(ValueError):
        hypervolume_2d(np.array([[np.nan, 1.0]]), (0, 0))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(-2, 12), st.integers(-2, 12)), max_size=15))
def test_hypervolume_2d_matches_grid_count(points) -> None:
    # With integer coordinates the dominated region is a union of unit cells: cell (i, j)
    # is covered when some point has x >= i + 1 and y >= j + 1.
    pts = np.array(points, dtype=float).reshape(-1, 2)
    cells = sum(
        1 for i in range(12) for j in range(12) if any(x >= i + 1 and y >= j + 1 for x, y in points)
    )
    assert hypervolume_2d(pts, (0.0, 0.0)) == pytest.approx(cells)
    # Order does not matter.
    assert hypervolume_2d(pts[::-1], (0.0, 0.0)) == pytest.approx(cells)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0)),
        min_size=1,
        max_size=8,
    )
)
def test_hypervolume_2d_matches_monte_carlo(points) -> None:
    pts = np.array(points)
    samples = np.random.default_rng(0).random((20000, 2))
    covered = (
        (samples[:, None, 0] < pts[None, :, 0]) & (samples[:, None, 1] < pts[None, :, 1])
    ).any(axis=1)
    assert hypervolume_2d(pts, (0.0, 0.0)) == pytest.approx(covered.mean(), abs=0.02)


def test_archive_hypervolume_normalisation() -> None:
    archive = ParetoArchive(param_reference=1e4)
    assert archive.hypervolume() == 0.0
    # c = 1 - log10(100) / log10(1e4) = 0.5
    archive.update([entry("a", 0.8, 100)])
    assert archive.hypervolume() == pytest.approx(0.8 * 0.5)
    # (1.2 -> 1, c = 1 - 3/4 = 0.25) adds the strip (1 - 0.8) * 0.25
    archive.update([entry("b", 1.2, 1000)])
    assert archive.hypervolume() == pytest.approx(0.8 * 0.5 + 0.2 * 0.25)
    # Negative scores and parameter counts beyond the reference add nothing.
    archive.update([entry("c", -0.5, 1), entry("d", 1.5, 1e6)])
    assert archive.hypervolume() == pytest.approx(0.8 * 0.5 + 0.2 * 0.25)
    # One parameter maps to c = 1.
    archive.update([entry("e", 0.1, 0)])
    assert archive.hypervolume() == pytest.approx(0.1 * 1.0 + 0.7 * 0.5 + 0.2 * 0.25)
    assert 0.0 <= archive.hypervolume() <= 1.0


def test_hypervolume_needs_objective_names() -> None:
    with pytest.raises(ValueError, match="names"):
        ParetoArchive(weights=(1.0, -1.0, -1.0)).hypervolume()
    with pytest.raises(ValueError, match="names"):
        ParetoArchive(weights=(1.0, 1.0)).hypervolume()
    with pytest.raises(ValueError, match="2 objective names for 3 weights"):
        ParetoArchive(weights=(1.0, -1.0, -1.0), objectives=("score", "params"))


def test_hypervolume_in_three_dimensions() -> None:
    archive = ParetoArchive(
        weights=(1.0, -1.0, -1.0), param_reference=1e4, objectives=("score", "params", "depth")
    )
    assert archive.objective_names == ("score", "params", "depth")
    # depth normalises to 1 - depth / 10 (tests/toy_objective.py).
    archive.update([entry3("a", 0.8, 100, 2), entry3("b", 0.6, 10, 5)])
    a = 0.8 * 0.5 * 0.8
    b = 0.6 * 0.75 * 0.5
    overlap = 0.6 * 0.5 * 0.5
    assert archive.hypervolume() == pytest.approx(a + b - overlap)
    data = json.loads(json.dumps(archive.to_dict()))
    assert data["objectives"] == ["score", "params", "depth"]
    assert ParetoArchive.from_dict(data).hypervolume() == archive.hypervolume()


def test_default_archive_json_has_no_objectives_key_and_old_names_load() -> None:
    archive = ParetoArchive()
    assert "objectives" not in archive.to_dict()
    old = ParetoArchive(objectives=("score", "n_params"))
    assert old.objective_names == ("score", "params")
    assert old.objective("n_params") == 1


def test_moocore_agrees_with_the_2d_sweep() -> None:
    moocore = pytest.importorskip("moocore")
    rng = np.random.default_rng(0)
    pts = rng.random((20, 2))
    exact = moocore.hypervolume(pts, ref=np.zeros(2), maximise=True)
    assert hypervolume_2d(pts, (0.0, 0.0)) == pytest.approx(exact, rel=1e-12)


# ----------------------------------------------------------------------------- JSON


def test_json_round_trip() -> None:
    archive = ParetoArchive(param_reference=1e6)
    archive.update(
        [
            entry("a", 0.9, 1000, generation=2, parents=["p", "q"], fold_scores=[0.8, 1.0]),
            entry("b", 0.95, 5000, generation=3, parents=["a"]),
            entry("c", 0.5, 10),
        ]
    )
    data = json.loads(json.dumps(archive.to_dict()))
    assert data["format_version"] == 4
    restored = ParetoArchive.from_dict(data)
    assert restored.members == archive.members
    assert restored.weights == archive.weights
    assert restored.param_reference == archive.param_reference
    assert restored.hypervolume() == archive.hypervolume()
    assert restored.to_dict() == archive.to_dict()


def test_entry_round_trip_normalises_types() -> None:
    e = ArchiveEntry({"x": [1, 2]}, "h", (1, 2000), [1, 0.5], 3, ["p"])
    assert e.objectives == (1.0, 2000.0)
    assert ArchiveEntry.from_dict(json.loads(json.dumps(e.to_dict()))) == e


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda d: d.update(format_version=5), "format_version"),
        (lambda d: d.pop("members"), "members"),
        (lambda d: d["members"][0].pop("objectives"), "objectives"),
        (lambda d: d["members"].append(dict(d["members"][0])), "twice"),
        (lambda d: d["members"][1].update(objectives=[0.1, 2000.0]), "non-dominated"),
        (lambda d: d["members"][0].update(generation="x"), "malformed"),
    ],
)
def test_from_dict_rejects_corrupt_data(mutate, match: str) -> None:
    archive = ParetoArchive()
    archive.update([entry("a", 0.5, 10), entry("b", 0.9, 1000)])
    data = archive.to_dict()
    mutate(data)
    with pytest.raises(ValueError, match=match):
        ParetoArchive.from_dict(data)
