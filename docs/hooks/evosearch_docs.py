"""MkDocs hook of the documentation site (mkdocs.yml, ``hooks:``).

Two pages are filled in at build time from the project's own files, so they cannot drift:

* ``cli.md``: its ``<!-- cli-reference -->`` marker becomes the reference of every command and
  option, generated from the real argparse parser (:func:`evosearch.cli._parser.build_parser`),
  help texts, defaults and ``--help`` examples included;
* ``changelog.md``: its ``<!-- changelog -->`` marker becomes CHANGELOG.md.

``tests/test_docs.py`` imports :func:`cli_reference` from here and checks it covers every option.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CLI_MARKER = "<!-- cli-reference -->"
CHANGELOG_MARKER = "<!-- changelog -->"


def _cell(text: str) -> str:
    """Text fit for one cell of a Markdown table."""
    return " ".join(text.split()).replace("|", "\\|")


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    """(name, one-line help, parser) of each subcommand, in the order ``--help`` lists them."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            return [(name, helps.get(name, ""), sub) for name, sub in action.choices.items()]
    return []


def _option_row(formatter: argparse.HelpFormatter, action: argparse.Action) -> str:
    if action.option_strings:
        names = ", ".join(f"`{flag}`" for flag in action.option_strings)
    else:
        names = f"`{action.metavar or action.dest}`"
    if action.nargs == 0 or isinstance(action, argparse.BooleanOptionalAction):
        value = ""
    else:
        metavar = action.metavar if action.metavar is not None else action.dest.upper()
        value = f"`{metavar}`" + (" ..." if action.nargs in ("+", "*") else "")
    if action.required and action.option_strings:
        value = (value + " (required)").strip()
    help_text = formatter._expand_help(action) if action.help else ""
    return f"| {names} | {value} | {_cell(help_text)} |"


def cli_reference() -> str:
    """The Markdown reference of every ``evosearch`` command and option."""
    from evosearch.cli._parser import build_parser

    parser = build_parser()
    lines = [
        "## Commands",
        "",
        "| command | what it does |",
        "|---|---|",
    ]
    commands = _subcommands(parser)
    for name, help_text, _ in commands:
        lines.append(f"| [`{name}`](#evosearch-{name}) | {_cell(help_text)} |")
    lines += ["", "```text", parser.format_usage().strip(), "```", ""]
    for name, help_text, sub in commands:
        formatter = sub._get_formatter()
        lines += [f"## evosearch {name}", ""]
        if help_text:
            lines += [help_text[0].upper() + help_text[1:] + ".", ""]
        lines += ["```text", sub.format_usage().strip(), "```", ""]
        actions = [a for a in sub._actions if not isinstance(a, argparse._HelpAction)]
        positionals = [a for a in actions if not a.option_strings]
        options = [a for a in actions if a.option_strings]
        for title, group in (("argument", positionals), ("option", options)):
            if not group:
                continue
            lines += [f"| {title} | value | meaning |", "|---|---|---|"]
            lines += [_option_row(formatter, action) for action in group]
            lines.append("")
        if sub.epilog:
            lines += ["Examples:", "", "```sh"]
            lines += [
                line.strip()
                for line in sub.epilog.splitlines()
                if line.strip() and not line.strip().endswith(":")
            ]
            lines += ["```", ""]
    return "\n".join(lines)


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    if CLI_MARKER in markdown:
        markdown = markdown.replace(CLI_MARKER, cli_reference())
    if CHANGELOG_MARKER in markdown:
        changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
        # The page has its own title: the changelog's own first heading is dropped.
        body = changelog.split("\n", 1)[1] if changelog.startswith("# ") else changelog
        markdown = markdown.replace(CHANGELOG_MARKER, body)
    return markdown
