"""The dashboard's server without a browser: JSON endpoints, event streams, safety, the CLI."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from dashboardtools import (  # noqa: E402
    append_evaluations,
    copy_run,
    dashboard_server,
    fit_run,
    reseeded,
)

from clitools import REPO, assert_usage_error, evosearch, snapshot  # noqa: E402
from evosearch.dashboard._files import JsonLines, lock_state  # noqa: E402
from evosearch.runs.lock import RunLock  # noqa: E402


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """runs/a and runs/b (two seeds of one setting), a damaged copy, a corrupt run.json."""
    work = tmp_path_factory.mktemp("dash")
    a = fit_run(work / "runs" / "a")
    reseeded(a, work / "runs" / "b", 7)
    broken = copy_run(a, work / "runs" / "broken")
    lines = (broken / "journal.jsonl").read_text().splitlines(keepends=True)
    (broken / "journal.jsonl").write_text(lines[0] + "{not json\n" + "".join(lines[1:]))
    failed = copy_run(a, work / "runs" / "failed")
    records = [json.loads(line) for line in (failed / "journal.jsonl").read_text().splitlines()]
    error = "DivergenceError: training loss became nan in epoch 2"
    (failed / "journal.jsonl").write_text(
        "".join(json.dumps({**r, "error": error, "fold_scores": []}) + "\n" for r in records)
    )
    (work / "runs" / "corrupt").mkdir()
    (work / "runs" / "corrupt" / "run.json").write_text('{"settings": ')
    (work / "runs" / "nested").mkdir()
    copy_run(a, work / "runs" / "nested" / "c")
    return work / "runs"


@pytest.fixture(scope="module")
def server(runs: Path):
    with dashboard_server(runs) as url:
        yield url


def read_event(lines, name: str) -> dict:
    """The data of the next event ``name`` on an event stream's lines."""
    event = None
    for line in lines:
        if line.startswith("event: "):
            event = line[len("event: ") :]
        elif line.startswith("data: ") and event == name:
            return json.loads(line[len("data: ") :])
    raise AssertionError("stream ended")


def wait_for_run(server: str, name: str) -> None:
    """Until the server's poll has found run ``name``."""
    deadline = time.monotonic() + 20
    while name not in {run["name"] for run in httpx.get(f"{server}/api/runs").json()["runs"]}:
        assert time.monotonic() < deadline, f"run {name} never appeared"
        time.sleep(0.05)


def test_list_shows_every_run_with_its_state(server: str, runs: Path) -> None:
    error = "DivergenceError: training loss became nan in epoch 2"
    before = snapshot(runs)
    listing = httpx.get(f"{server}/api/runs").json()["runs"]
    by_name = {run["name"]: run for run in listing}
    assert set(by_name) == {"a", "b", "broken", "corrupt", "failed", "nested/c"}
    a = by_name["a"]
    assert a["state"] == "finished" and a["generation"] == 2 and a["planned"] == 2
    assert a["rows"] == 150 and a["objectives"] == ["score", "params"]
    assert 0 < a["best_score"] <= 1 and a["hypervolume"] > 0 and a["evaluations"] > 0
    assert by_name["broken"]["state"] == "damaged"
    assert "journal.jsonl:2" in by_name["broken"]["problems"][0]
    assert by_name["failed"]["state"] == "failed"
    assert by_name["failed"]["failures"] == by_name["failed"]["evaluations"] > 0
    failures = httpx.get(f"{server}/api/run", params={"name": "failed"}).json()["failures"]
    assert set(failures["causes"]) == {"divergence"} and failures["recent"][0]["error"] == error
    assert by_name["corrupt"]["state"] == "damaged"
    assert "run.json" in by_name["corrupt"]["problems"][0]
    # Read only: no file of any run changed, no lock taken.
    assert snapshot(runs) == before
    assert not list(runs.rglob(".lock"))


def test_run_payload_and_member(server: str) -> None:
    data = httpx.get(f"{server}/api/run", params={"name": "a"}).json()
    assert data["reset"] and data["summary"]["name"] == "a"
    n = data["summary"]["evaluations"] - data["summary"]["failures"]
    assert len(data["candidates"]["score"]) == n
    assert data["front"] and data["settings"]["generations"] == 2
    member = data["front"][0]
    detail = httpx.get(f"{server}/api/member", params={"run": "a", "hash": member["hash"]})
    assert detail.status_code == 200
    detail = detail.json()
    assert detail["in_archive"] and detail["describe"] == member["describe"]
    kinds = {node["kind"] for node in detail["graph"]["nodes"]}
    assert {"input", "output", "dense"} <= kinds
    missing = httpx.get(f"{server}/api/member", params={"run": "a", "hash": "nope"})
    assert missing.status_code == 404


def test_comparison_endpoint(server: str) -> None:
    data = httpx.get(f"{server}/api/compare", params=[("run", "a"), ("run", "b")]).json()
    assert "problem" not in data
    assert [r["run"] for r in data["runs"]] == ["a", "b"]
    assert data["differing"] == ["random_state"] and len(data["groups"]) == 1
    curve = data["groups"][0]["curves"]["best_score"]["evaluations"]
    assert curve["x"] and len(curve["x"]) == len(curve["median"])
    damaged = httpx.get(f"{server}/api/compare", params=[("run", "a"), ("run", "corrupt")])
    assert "cannot be compared" in damaged.json()["problem"]
    one = httpx.get(f"{server}/api/compare", params=[("run", "a")])
    assert one.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/run/..%2F..%2Fetc",
        "/run/../../etc",
        "/run/%2e%2e/%2e%2e/etc/passwd",
        "/run/a/../../x",
        "/run/outside",
        "/run/nested",
        "/api/run?name=..%2Fa",
        "/api/run?name=%2Fetc",
        "/api/member?run=..&hash=x",
        "/compare?run=a&run=..%2F..%2Fetc",
        "/static/..%2F..%2Fapp.py",
        "/static/../app.py",
    ],
)
def test_paths_outside_the_directory_are_404(server: str, runs: Path, path: str) -> None:
    outside = runs.parent / "elsewhere"
    if not outside.exists():
        shutil.copytree(runs / "a", outside, ignore=shutil.ignore_patterns("weights"))
        (runs / "outside").symlink_to(outside, target_is_directory=True)
    with httpx.Client() as client:
        # Sent as written: no client-side normalisation of the dots.
        request = client.build_request("GET", server)
        request.url = request.url.copy_with(raw_path=path.encode())
        response = client.send(request)
    assert response.status_code == 404, path
    listing = httpx.get(f"{server}/api/runs").json()["runs"]
    assert "outside" not in {run["name"] for run in listing}


def test_other_host_headers_are_refused(server: str) -> None:
    response = httpx.get(f"{server}/api/runs", headers={"Host": "evil.example"})
    assert response.status_code == 400


def test_event_stream_sends_only_new_records(server: str, runs: Path) -> None:
    live = copy_run(runs / "a", runs / "live")
    wait_for_run(server, "live")
    try:
        with httpx.stream("GET", f"{server}/api/events/run", params={"name": "live"}) as stream:
            lines = stream.iter_lines()
            first = read_event(lines, "run")
            assert first["reset"] and first["front"]
            count = len(first["candidates"]["score"])
            append_evaluations(live, 3)
            update = read_event(lines, "run")
            assert not update["reset"]
            assert len(update["candidates"]["score"]) == 3
            assert update["summary"]["evaluations"] == count + 3
            assert "front" not in update  # the archive did not change
            # A half-written line is not sent until its newline arrives.
            text = (live / "journal.jsonl").read_text().splitlines()[0]
            with (live / "journal.jsonl").open("a") as journal:
                journal.write(text[:40])
                journal.flush()
                time.sleep(0.4)
                journal.write(text[40:] + "\n")
            # An update may come for the cut-off line (the page says so), never with it.
            received = []
            while not received:
                update = read_event(lines, "run")
                received += update["candidates"]["score"]
            assert len(received) == 1
    finally:
        shutil.rmtree(live)


def test_list_stream_sees_a_new_run(server: str, runs: Path) -> None:
    with httpx.stream("GET", f"{server}/api/events/runs") as stream:
        lines = stream.iter_lines()
        names = {run["name"] for run in read_event(lines, "runs")}
        assert "fresh" not in names
        copy_run(runs / "b", runs / "fresh")
        try:
            for _ in range(20):
                names = {run["name"] for run in read_event(lines, "runs")}
                if "fresh" in names:
                    break
            assert "fresh" in names
        finally:
            shutil.rmtree(runs / "fresh")


def test_running_state_reads_the_lock_without_taking_it(tmp_path: Path, runs: Path) -> None:
    run = copy_run(runs / "a", tmp_path / "r")
    assert lock_state(run, "thishost") == (False, {})
    lock = RunLock.acquire(run, "evolve")
    try:
        held, holder = lock_state(run, __import__("socket").gethostname())
        time.sleep(0.25)  # the flock table is read at most every 0.2 s
        held, holder = lock_state(run, __import__("socket").gethostname())
        assert held and holder["command"] == "evolve"
    finally:
        lock.release()
    time.sleep(0.25)
    assert lock_state(run, "x")[0] is False


def test_journal_reader_restarts_when_the_file_is_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a"')
    lines = JsonLines(path, lambda record, where: record)
    records, restarted = lines.read_new()
    assert [r for _, _, r in records] == [{"a": 1}, {"a": 2}] and lines.partial
    path.write_text('{"a": 9}\n')  # shorter: a repair rewrote it
    records, restarted = lines.read_new()
    assert restarted and [r for _, _, r in records] == [{"a": 9}]


def test_cli_refuses_a_missing_directory(tmp_path: Path) -> None:
    result = evosearch("dashboard", "missing_dir", cwd=tmp_path)
    assert_usage_error(result, "missing_dir", "not found")
    result = evosearch("dashboard", "--port", "99999", cwd=tmp_path)
    assert_usage_error(result, "port")


def test_cli_warns_on_a_public_address_and_stops_cleanly(tmp_path: Path, runs: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "evosearch.cli", "dashboard", str(runs), "--host", "0.0.0.0"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stdout is not None
        warning, address = process.stdout.readline(), process.stdout.readline()
        assert warning.startswith("warning: listening on 0.0.0.0") and "no login" in warning
        assert "http://0.0.0.0:" in address
        port = address.split("0.0.0.0:")[1].split("/")[0]
        # Ctrl-C while a page follows the runs: one line, exit 0, no traceback.
        with httpx.stream("GET", f"http://127.0.0.1:{port}/api/events/runs") as stream:
            read_event(stream.iter_lines(), "runs")
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert stdout.strip() == "evosearch dashboard: stopped" and "Traceback" not in stderr


def test_serve_prints_the_address_then_serves(tmp_path: Path, runs: Path) -> None:
    code = (
        "import sys; from evosearch.dashboard import serve; "
        f"serve({str(runs)!r}, port=None, host='127.0.0.1')"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("evosearch dashboard: ") and "http://127.0.0.1:" in line
        url = line.split(" at ")[1].split()[0]
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(url + "api/runs")
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert response.status_code == 200
        page = httpx.get(url).text
        assert "/static/dashboard.js" in page and "http" not in page.split("<main>")[1]
    finally:
        process.terminate()
        process.communicate(timeout=20)


def test_skimmer_leaves_the_genome_out_and_gives_way_to_older_lines() -> None:
    from evosearch.dashboard._files import Skimmer
    from evosearch.runs.migrations import FORMAT_VERSION

    skim = Skimmer(b"genome", b"genome_hash", FORMAT_VERSION)
    line = {"format_version": FORMAT_VERSION, "generation": 1, "genome": {"graph": {"x": ", "}}}
    line |= {"genome_hash": "h", "score": 0.5}
    records = skim.records([json.dumps(line).encode()] * 2)
    assert records == [{k: v for k, v in line.items() if k != "genome"}] * 2
    older = json.dumps({**line, "format_version": 1}).encode()
    assert skim.records([json.dumps(line).encode(), older]) is None  # migrated whole instead
    assert skim.records([json.dumps({"format_version": FORMAT_VERSION}).encode()]) is None


def test_evolve_says_how_to_watch_the_run() -> None:
    from evosearch.cli._output import watch_note

    assert watch_note(Path("runs/20260101-mlp-s0")) == "watch it live: evosearch dashboard runs/"
    assert watch_note(Path("mine")) == "watch it live: evosearch dashboard ./"


def test_comparison_stream_follows_its_runs(server: str, runs: Path) -> None:
    live = copy_run(runs / "b", runs / "live-b")
    wait_for_run(server, "live-b")
    try:
        params = [("run", "a"), ("run", "live-b")]
        with httpx.stream("GET", f"{server}/api/events/compare", params=params) as stream:
            lines = stream.iter_lines()
            first = read_event(lines, "compare")
            assert [r["run"] for r in first["runs"]] == ["a", "live-b"]
            before = first["runs"][1]["final"]["generations"]
            generations = (live / "generations.jsonl").read_text().splitlines()
            line = json.loads(generations[-1])
            with (live / "generations.jsonl").open("a") as stream_file:
                stream_file.write(json.dumps({**line, "generation": before + 1}) + "\n")
            update = read_event(lines, "compare")
            assert update["runs"][1]["final"]["generations"] == before + 1
    finally:
        shutil.rmtree(live)
