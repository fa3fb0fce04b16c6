"""The live dashboard on a large run: time to first paint and the cost of one update.

A real small run (iris, the tiny space, population 10) is fitted, then inflated into a run
folder of ``--evaluations`` journal lines (default 50,000): its journal records copied with new
generation numbers, distinct hashes and jittered scores and sizes (a cloud like a real long
run's), one ``generations.jsonl`` line per generation, its archive. The dashboard serves it
(``evosearch.dashboard.create_app`` under uvicorn, polling every 0.5 s) and Debian's
``/usr/bin/chromium`` opens the run page through Playwright.

Measured:

* **server: first read** of the folder (``RunState.refresh``: every journal line parsed once)
  and the first payload's size;
* **first paint, cold**: from the server's start to the Pareto plot drawn with every evaluation
  (the page opened at once, so it waits for the server's first read of the journal; also
  ``performance.now()`` from navigation start when the first event has been handled and the
  plot drawn);
* **first paint, warm**: the same page loaded again (the server has the run in memory);
* **per update**, ``--updates`` times: one generation's evaluations and its generation line
  appended to the folder, then: the server's incremental refresh and payload, the bytes sent,
  the browser's handling and the Pareto plot's redraw, and the wall time from the write to the
  page having it (which includes waiting for the next poll, 0.25 s on average).

Run: ``.venv/bin/python benchmarks/dashboard_load.py [--evaluations 50000] [--updates 10]``
(about a minute; needs the ``dashboard`` extra, playwright and /usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import machine_line

from evosearch import Evolver
from evosearch.testing._tiny import TINY_TOML, iris

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def source_run(folder: Path) -> Path:
    space = folder / "tiny.toml"
    space.write_text(TINY_TOML, encoding="utf-8")
    out = folder / "source"
    Evolver(genome=str(space), population_size=10, generations=2, cv=2, n_jobs=1, out=str(out)).fit(
        *iris()
    )
    return out


def inflate(source: Path, target: Path, evaluations: int, population: int = 50) -> int:
    """Write a run folder of ``evaluations`` journal lines built from ``source``'s; returns
    its last generation."""
    rng = np.random.default_rng(0)
    target.mkdir(parents=True)
    records = [json.loads(line) for line in (source / "journal.jsonl").read_text().splitlines()]
    last = (evaluations - 1) // population
    info = json.loads((source / "run.json").read_text())
    info["settings"]["generations"] = last
    info["settings"]["population_size"] = population
    (target / "run.json").write_text(json.dumps(info))
    scores = rng.beta(8, 2, evaluations)
    sizes = np.exp(rng.normal(np.log(120), 0.8, evaluations)).astype(int) + 10
    with (target / "journal.jsonl").open("w", encoding="utf-8") as journal:
        for index in range(evaluations):
            record = dict(records[index % len(records)])
            record["generation"] = index // population
            record["genome_hash"] = f"{record['genome_hash'][:16]}{index:08x}"
            record["score"] = float(scores[index])
            record["n_params"] = int(sizes[index])
            journal.write(json.dumps(record) + "\n")
    generation = json.loads((source / "generations.jsonl").read_text().splitlines()[-1])
    with (target / "generations.jsonl").open("w", encoding="utf-8") as lines:
        for number in range(last + 1):
            lines.write(json.dumps(generation_line(generation, number, last)) + "\n")
    (target / "archive.json").write_text((source / "archive.json").read_text())
    return last


def generation_line(template: dict[str, Any], number: int, last: int) -> dict[str, Any]:
    progress = (number + 1) / (last + 1)
    return {
        **template,
        "generation": number,
        "best_score": 0.9 + 0.09 * progress,
        "hypervolume": 0.6 + 0.3 * progress,
        "evaluations": 50,
    }


def serve_in_thread(root: Path) -> tuple[str, Any, Any]:
    import uvicorn

    from evosearch.dashboard import create_app
    from evosearch.dashboard.server import bind

    sock = bind("127.0.0.1", 0)
    app = create_app(root, interval=0.5)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server, thread


PAINTED = (
    "document.body.dataset.updates >= '1' && document.getElementById('pareto')._plot.drawn >= 1"
)


def first_paint(page: Any, url: str) -> float:
    page.goto(url)
    page.wait_for_function(PAINTED, timeout=60_000)
    return float(page.evaluate("performance.now()")) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=50_000)
    parser.add_argument("--updates", type=int, default=10)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from evosearch.dashboard._runstate import Cursor, RunState

    print(machine_line())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = source_run(folder)
        root = folder / "runs"
        run = root / "big"
        last = inflate(source, run, args.evaluations)
        size = (run / "journal.jsonl").stat().st_size
        print(
            f"run folder: {args.evaluations:,} journal lines ({size / 1e6:.1f} MB), "
            f"{last + 1:,} generations"
        )
        state = RunState("big", run, "here")
        started = time.perf_counter()
        state.refresh()
        read = time.perf_counter() - started
        started = time.perf_counter()
        payload, cursor = state.payload(Cursor())
        from evosearch.dashboard.app import dumps

        text = dumps(payload)
        build = time.perf_counter() - started
        print(
            f"server, first read of the folder: {read:.2f} s; first payload built and "
            f"encoded in {build:.2f} s, {len(text) / 1e6:.2f} MB"
        )

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.goto("about:blank")
            # Cold: the server starts now and the page is opened at once, so the first paint
            # waits for the server's first read of the folder.
            started = time.perf_counter()
            url, server, thread = serve_in_thread(root)
            cold_page = first_paint(page, f"{url}/run/big")
            cold = time.perf_counter() - started
            warm = [first_paint(page, f"{url}/run/big") for _ in range(3)]
            print(
                f"first paint, every point drawn: cold {cold:.2f} s from the server's start "
                f"({cold_page:.2f} s from navigation start); warm {statistics.median(warm):.2f} s "
                "from navigation start (median of 3)"
            )
            rows = []
            template = json.loads((run / "generations.jsonl").read_text().splitlines()[-1])
            journal = (run / "journal.jsonl").read_text().splitlines()[:50]
            for number in range(args.updates):
                seen = int(page.evaluate("document.body.dataset.updates"))
                last += 1
                written = time.perf_counter()
                with (run / "journal.jsonl").open("a") as stream:
                    for line in journal:
                        stream.write(json.dumps({**json.loads(line), "generation": last}) + "\n")
                with (run / "generations.jsonl").open("a") as stream:
                    stream.write(json.dumps(generation_line(template, last, last)) + "\n")
                page.wait_for_function(f"+document.body.dataset.updates > {seen}")
                latency = time.perf_counter() - written
                started = time.perf_counter()
                state.refresh()
                payload, cursor = state.payload(cursor)
                server_s = time.perf_counter() - started
                rows.append(
                    (
                        latency,
                        server_s,
                        int(page.evaluate("document.body.dataset.updateBytes")),
                        float(page.evaluate("document.body.dataset.handleMs")),
                        float(page.evaluate("document.getElementById('pareto')._plot.drawMs")),
                    )
                )
                del number
            browser.close()
        server.config.app.state.watcher.stop()
        server.should_exit = True
        thread.join(timeout=5)
    med = [statistics.median(column) for column in zip(*rows, strict=True)]
    print(f"per update (one generation: 50 evaluations + its line; median of {len(rows)}):")
    print(f"  write to page updated   {med[0]:.3f} s (includes the wait for the next 0.5 s poll)")
    print(f"  server refresh+payload  {med[1] * 1000:.1f} ms")
    print(f"  bytes sent              {med[2]:,}")
    print(f"  browser handling        {med[3]:.1f} ms")
    print(f"  Pareto redraw           {med[4]:.1f} ms ({args.evaluations:,}+ points)")


if __name__ == "__main__":
    main()
