"""``evosearch report``: plots and the HTML report of a run, or the comparison of several runs
(read only)."""

from __future__ import annotations

import argparse

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Run ``evosearch report``; returns the exit status."""
    if len(args.run) > 1:
        from evosearch.report import write_comparison

        report = write_comparison(args.run, args.out)
    else:
        from evosearch.report import write_report

        report = write_report(args.run[0], args.out, sizes=args.sizes)
    names = ", ".join(path.name for path in report.images.values())
    print(f"wrote {report.html} ({names})")
    return 0
