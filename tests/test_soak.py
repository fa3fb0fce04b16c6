"""The soak (benchmarks/soak.py) for a minute and a half: a Dask search whose workers are killed,
whose driver is stopped with SIGTERM and resumed and whose disk fills up once ends with the
archive of an undisturbed run and a journal without duplicate or missing records."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed")

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.slow  # minutes: 90 s of chaos, the finish, then an undisturbed run
def test_soak_under_chaos_ends_like_an_undisturbed_run(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import soak

    try:
        events: list[str] = []
        report = soak.soak(1.5, tmp_path, kill_every=(3.0, 6.0), log=events.append)
    finally:
        sys.modules.pop("soak", None)
    detail = "\n".join(events)
    # The chaos stops the driver only once it is journalling, which a loaded machine delays:
    # at least one SIGTERM (two are planned), the full disk once where it can be simulated.
    assert report.worker_kills >= 3, detail
    assert 1 <= report.sigterms <= 2, detail
    assert report.disk_fills == (0 if report.disk == "none" else 1), detail
    assert report.unexpected_exits == [], detail
    assert report.journal_records > 0
    assert (report.duplicates, report.missing, report.extra, report.failed) == (0, 0, 0, 0)
    assert report.journal_equal and report.archive_equal and report.generations_equal, detail
    assert report.ok
