"""``evosearch report``: plots and the HTML report of a run (read only)."""

from __future__ import annotations

import argparse

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Run ``evosearch report``; returns the exit status."""
    from evosearch.report import write_report

    report = write_report(args.run, args.out)
    names = ", ".join(path.name for path in report.images.values())
    print(f"wrote {report.html} ({names})")
    return 0
