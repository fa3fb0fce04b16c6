"""The report's "Ensembles" section: the run's ensemble front (``RUN/ensemble.json``, runs
evolved with ``--ensemble``) as a table beside the best single model."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

__all__ = ["ensemble_section"]


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def ensemble_section(run: Path, score_name: str) -> str:
    """The section's HTML; empty where the run has no (readable) ``ensemble.json``."""
    path = Path(run) / "ensemble.json"
    try:
        ensemble = json.loads(path.read_text(encoding="utf-8"))
        front, single = ensemble["front"], ensemble["best_single"]
    except (OSError, ValueError, TypeError, KeyError):
        return ""
    names = [name for name in ensemble.get("objectives", {}) if name != "score"]
    head = "".join(f"<th>{_e(name)} (sum)</th>" for name in names)
    rows = []
    for entry in front:
        sizes = "".join(f"<td>{entry['objectives'][name]:,.6g}</td>" for name in names)
        members = ", ".join(
            f"<code>{_e(m['genome_hash'][:8])}</code> &times;{m['weight']:.2f}"
            for m in entry["members"]
        )
        mark = ' class="best"' if entry["members"] == ensemble.get("members") else ""
        rows.append(
            f"<tr{mark}><td>{entry['score']:.4f}</td>{sizes}"
            f"<td>{len(entry['members'])}</td><td>{members}</td></tr>"
        )
    return (
        f"<h2>Ensembles ({len(front)} on the ensemble front)</h2>"
        f'<p class="sub">Greedy ensemble selection over the out-of-fold predictions of '
        f"{ensemble.get('candidates', '?')} models; sizes are summed over members. Best single "
        f"model <code>{_e(single['genome_hash'][:8])}</code>: CV {_e(score_name)} "
        f"{single['score']:.4f}; the most accurate ensemble: {ensemble['score']:.4f} "
        "(<code>evosearch export RUN --ensemble</code>).</p>"
        f"<table><tr><th>CV {_e(score_name)}</th>{head}<th>models</th><th>members</th></tr>"
        + "".join(rows)
        + "</table>"
    )
