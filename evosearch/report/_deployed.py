"""The report's "Deployed size" section: the chosen members' export sizes beside ``bytes``.

Computed when the report is written (:func:`evosearch.search.deployed.deployed_sizes`: a quick
fit of each member, exported into a temporary folder), never stored in the run folder.
"""

from __future__ import annotations

import html
from typing import Any

from evosearch.runs import RunRecord
from evosearch.search import ParetoArchive

__all__ = ["deployed_section"]

_ROLES = ("best", "knee", "smallest")


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def deployed_section(record: RunRecord, archive: ParetoArchive, chosen: dict[str, Any]) -> str:
    """An HTML section: per chosen member (best, knee, smallest) the ``bytes`` objective (the
    weight payload) and the bytes of its ``onnx``, ``python`` and ``joblib`` exports; a line
    saying why where sizes are left out (the onnx extra, data that cannot be reloaded)."""
    from evosearch.search.deployed import FORMATS, deployed_sizes

    roles = [(role, chosen[role]) for role in _ROLES if role in chosen]
    if not roles:
        return ""
    found = deployed_sizes(record, [entry for _, entry in roles])
    rows = []
    for role, entry in roles:
        sizes = found.sizes.get(entry.genome_hash)
        if sizes is None:
            continue
        cells = "".join(
            f"<td>{sizes[name]:,}</td>" if name in sizes else "<td>-</td>" for name in FORMATS
        )
        rows.append(
            f'<tr><td class="l">{role}</td><td>{archive.members.index(entry)}</td>'
            f"<td>{sizes['weights']:,}</td>{cells}</tr>"
        )
    notes = "".join(f'<p class="sub">{_e(note)}</p>' for note in found.notes)
    head = (
        "<h2>Deployed size</h2>"
        '<p class="sub">Bytes of each export of the chosen members beside the <code>bytes</code>'
        " objective (the weight payload, <code>weights.bin</code>): a quick fit of each member"
        " written to a temporary folder when this report was made (the same layer graph,"
        " preprocessing and weight storage as <code>evosearch export</code> writes).</p>"
    )
    if not rows:
        return head + notes
    header = (
        '<tr><th class="l">role</th><th>#</th><th>bytes objective</th>'
        + "".join(f"<th>{name}</th>" for name in FORMATS)
        + "</tr>"
    )
    table = f"<table><thead>{header}</thead><tbody>{''.join(rows)}</tbody></table>"
    return head + table + notes
