"""The dashboard in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

Skipped only where that browser is missing (``.ci/run`` installs it). Set ``EVOSEARCH_SHOTS``
to a folder to keep screenshots of the pages.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium")
pytest.importorskip("starlette")
playwright = pytest.importorskip("playwright.sync_api")

from dashboardtools import TINY_EVOLVE, copy_run, dashboard_server, fit_run, reseeded  # noqa: E402

from clitools import REPO, TINY_TOML  # noqa: E402

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = os.environ.get("EVOSEARCH_SHOTS")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser") / "runs"
    done = fit_run(root / "done")
    reseeded(done, root / "done2", 5)
    broken = copy_run(done, root / "broken")
    (broken / "archive.json").write_text('{"format_version": 4, "members": [')
    outside = root.parent / "outside"
    copy_run(done, outside)
    (root / "escape").symlink_to(outside, target_is_directory=True)
    return root


@pytest.fixture(scope="module")
def base(runs: Path):
    with dashboard_server(runs, interval=0.1) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any):
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, errors


def shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_list_and_run_pages_follow_a_live_evolve(page: Any, browser: Any, base: str, runs: Path):
    (runs.parent / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    page.goto(base + "/")
    page.wait_for_selector("tr[data-run='done']")
    page.evaluate("window.__kept = 1")  # gone if the page reloads
    command = [sys.executable, "-m", "evosearch.cli", "evolve", *TINY_EVOLVE]
    command += ["--population", "8", "--generations", "4", "--out", "runs/live"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        command, cwd=runs.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    run_page = page.context.new_page()
    states, generations, cells = set(), set(), set()
    try:
        deadline = time.monotonic() + 120
        opened = False
        while time.monotonic() < deadline:
            row = page.query_selector("tr[data-run='live']")
            if row is not None:
                states.add(row.get_attribute("class"))
                cells.add(row.query_selector(".progress-cell").inner_text())
                if not opened:
                    run_page.goto(base + "/run/live")
                    run_page.evaluate("window.__kept = 1")
                    opened = True
            if opened:
                generations.add(run_page.evaluate("document.body.dataset.generation || ''"))
                if run_page.evaluate("document.body.dataset.state") == "finished":
                    break
            time.sleep(0.05)
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""
    assert "state-running" in states
    assert len({g for g in generations if g}) >= 2, generations  # it moved without reload
    assert run_page.evaluate("document.body.dataset.generation") == "4"
    page.wait_for_function(
        "document.querySelector(\"tr[data-run='live'] .state\").textContent === 'finished'"
    )
    assert any("generation 4 of 4" in c for c in cells) or "generation 4 of 4" in (
        page.query_selector("tr[data-run='live'] .progress-cell").inner_text()
    )
    assert page.evaluate("window.__kept") == 1 and run_page.evaluate("window.__kept") == 1
    front = run_page.evaluate("document.getElementById('pareto')._plot.points().length")
    assert front >= 1
    assert int(run_page.evaluate("document.body.dataset.updates")) >= 2


def test_hover_and_click_a_pareto_point(page: Any, base: str) -> None:
    page.goto(base + "/run/done")
    page.wait_for_function("document.getElementById('pareto')._plot.points().length > 0")
    points = page.evaluate("document.getElementById('pareto')._plot.points()")
    box = page.locator("#pareto").bounding_box()
    point = points[-1]
    page.mouse.move(box["x"] + point["x"], box["y"] + point["y"])
    tip = page.locator(".plot-tip:not([hidden])")
    tip.wait_for(state="visible")
    text = tip.inner_text()
    assert point["item"]["describe"] in text and "folds:" in text and "params" in text
    shot(page, "run-hover")
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    panel = page.locator("#member")
    panel.wait_for(state="visible")
    page.wait_for_function(
        f"document.getElementById('member').dataset.hash === '{point['item']['hash']}'"
    )
    assert panel.locator("svg.layer-graph g.node").count() >= 3  # input, a layer, output
    assert "#member=" in page.url
    # The archive table sorts by a clicked column.
    page.click("#archive th[data-key='o:params']")
    page.click("#archive th[data-key='o:params']")  # descending
    sizes = page.eval_on_selector_all(
        "#archive tbody tr td:nth-child(3)",
        "cells => cells.map(c => +c.textContent.replace(/,/g, ''))",
    )
    assert sizes == sorted(sizes, reverse=True)
    assert "evosearch resume" in page.inner_text("#resume")
    shot(page, "run")


def test_compare_two_runs_from_the_list(page: Any, base: str) -> None:
    page.goto(base + "/")
    page.wait_for_selector("tr[data-run='done2']")
    page.check("tr[data-run='done'] input[type=checkbox]")
    page.check("tr[data-run='done2'] input[type=checkbox]")
    page.click("#compare")
    page.wait_for_url("**/compare?run=done&run=done2")
    page.wait_for_selector("#cmp-runs tbody tr")
    assert page.locator("#cmp-runs tbody tr").count() == 2
    assert page.locator("#problems").is_hidden()
    assert "random_state" in page.inner_text("#cmp-runs thead")
    assert page.evaluate("document.getElementById('cmp-best')._plot.drawn") >= 1
    page.select_option("#axis", "evaluations")
    shot(page, "compare")


def test_a_damaged_run_shows_as_damaged(page: Any, base: str) -> None:
    page.goto(base + "/run/broken")
    page.wait_for_function("document.body.dataset.state === 'damaged'")
    assert "archive.json" in page.inner_text("#problems")
    assert page.locator("#settings tbody tr").count() > 5  # what could be read is shown
    page.goto(base + "/")
    page.wait_for_selector("tr[data-run='broken'] .state.damaged")


@pytest.mark.parametrize("path", ["/run/..%2F..%2Fetc", "/run/escape", "/run/..%2Foutside"])
def test_paths_out_of_the_directory_are_404(page: Any, base: str, path: str) -> None:
    response = page.goto(base + path)
    assert response is not None and response.status == 404
