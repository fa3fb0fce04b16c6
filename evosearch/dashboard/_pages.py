"""The dashboard's HTML pages: shells that ``static/dashboard.js`` fills from the event streams.

Each page names what it shows in ``data-`` attributes of ``<body>``; the script and styles are
served from ``/static`` (shipped in the wheel), so nothing is fetched from elsewhere.
"""

from __future__ import annotations

import json
from html import escape

__all__ = ["compare_page", "list_page", "run_page"]


def _page(title: str, page: str, data: dict[str, object], body: str, directory: str) -> str:
    attributes = " ".join(
        f'data-{key}="{escape(json.dumps(value) if not isinstance(value, str) else value)}"'
        for key, value in data.items()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · evosearch dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/dashboard.css">
</head>
<body data-page="{page}" {attributes}>
<header><a href="/" class="home">evosearch dashboard</a>
<span class="dir">{escape(directory)}</span>
<span id="live" class="live" title="live updates">connecting…</span></header>
<main>
{body}
</main>
<script src="/static/plot.js"></script>
<script src="/static/dashboard.js"></script>
</body></html>
"""


def list_page(directory: str) -> str:
    """The list of runs under ``directory``."""
    body = """<h1>Runs</h1>
<p class="note">Every run folder under this directory, running or not; the page follows them
live. Tick two or more to compare them.</p>
<p><button id="compare" disabled>compare selected</button></p>
<table id="runs" class="sortable"><thead><tr>
<th></th><th data-key="name">run</th><th data-key="state">state</th><th data-key="data">data</th>
<th data-key="genome">genome</th><th data-key="objectives">objectives</th>
<th data-key="best_score" class="num">best score</th>
<th data-key="hypervolume" class="num">hypervolume</th>
<th data-key="generation">progress</th><th data-key="started">started</th>
<th data-key="seconds" class="num">duration</th><th data-key="host">host</th>
</tr></thead><tbody></tbody></table>
<p id="empty" class="note" hidden>No run folders here yet.</p>"""
    return _page("runs", "list", {}, body, directory)


def run_page(name: str, directory: str) -> str:
    """One run, ``name`` relative to ``directory``."""
    body = f"""<h1><span id="run-name">{escape(name)}</span>
<span id="state" class="state">…</span></h1>
<div id="problems" class="problems" hidden></div>
<section class="facts" id="facts"></section>
<section><div class="progress"><div id="progress-bar"></div></div>
<p id="progress" class="progress-text"></p>
<p class="continue">continue it: <code id="resume"></code></p></section>
<section class="plots">
<figure><figcaption>Pareto front: the archive (click a point to open the member), every
evaluation in grey</figcaption><canvas id="pareto" width="640" height="400"></canvas></figure>
<figure><figcaption>Best score by generation</figcaption>
<canvas id="best" width="420" height="190"></canvas>
<figcaption>Hypervolume by generation</figcaption>
<canvas id="hypervolume" width="420" height="190"></canvas></figure>
</section>
<section id="member" class="member" hidden></section>
<h2>Archive</h2>
<table id="archive" class="sortable"><thead></thead><tbody></tbody></table>
<h2>Failures</h2><div id="failures"></div>
<h2>Settings</h2><table id="settings" class="settings"><tbody></tbody></table>"""
    return _page(name, "run", {"run": name}, body, directory)


def compare_page(names: list[str], directory: str) -> str:
    """Runs ``names`` compared (``evosearch report RUN1 RUN2 ...``, live)."""
    body = f"""<h1>Comparison of {len(names)} runs</h1>
<div id="problems" class="problems" hidden></div>
<p class="note" id="compare-note"></p>
<section class="plots">
<figure><figcaption>Best score</figcaption><canvas id="cmp-best" width="520" height="260">
</canvas></figure>
<figure><figcaption>Hypervolume</figcaption><canvas id="cmp-hypervolume" width="520"
height="260"></canvas></figure>
<figure><figcaption>Final Pareto fronts</figcaption><canvas id="cmp-pareto" width="520"
height="260"></canvas></figure>
</section>
<p class="note">Curves: the median of each group's runs (the band: min to max) against
<select id="axis"><option value="seconds">wall-clock seconds</option>
<option value="evaluations">evaluations</option></select></p>
<h2>Runs</h2><table id="cmp-runs" class="sortable"><thead></thead><tbody></tbody></table>
<h2>Settings every run shares</h2><table id="cmp-common" class="settings"><tbody></tbody>
</table>"""
    return _page("comparison", "compare", {"runs": names}, body, directory)
