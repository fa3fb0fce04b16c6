"""The documentation stays true: the code of its pages runs, its CLI reference is complete.

Every fenced ``python`` and ``sh`` block of the getting-started page and of the tutorials runs,
page by page in a temporary folder, in order: a page's python blocks share one namespace (as a
reader's session would), a block of ``>>>`` lines runs as a doctest, and each line of a ``sh``
block is an ``evosearch ...`` (or ``python ...``) command run through the real command line. A
block that must not run (a cluster's address, a ``pip install``) is preceded by an HTML comment
``<!-- skip ... -->``; :data:`MAX_SKIPPED` bounds how many there are. Pages whose examples train
many models are ``slow``; the default run keeps the getting-started page.
"""

from __future__ import annotations

import argparse
import contextlib
import doctest
import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from evosearch.cli.plugins import REGISTRIES, registry

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: Pages whose code blocks run, and whether they are slow (over a few seconds).
PAGES = {
    "getting-started.md": False,
    "tutorials/tables.md": True,
    "tutorials/images.md": True,
    "tutorials/deploying.md": True,
    "tutorials/compression.md": True,
    "tutorials/large-tables.md": True,
    "tutorials/reports.md": True,
    "tutorials/dashboard.md": True,
    "tutorials/dask.md": True,
    "tutorials/nested-cv.md": True,
    "tutorials/warm-starts.md": True,
    "tutorials/ensembles.md": True,
    "tutorials/steady-state.md": True,
    "extending.md": True,
    "concepts/genomes.md": False,
    "concepts/objectives.md": True,
    "concepts/runs.md": True,
}
#: Blocks marked ``<!-- skip -->`` over all those pages: only what truly cannot run here.
MAX_SKIPPED = 8

_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)
_RUNNABLE = {"python", "py", "sh", "bash", "shell"}
_SNIPPET = re.compile(r'^--8<-- "([^"]+)"$', re.M)
_MODULE = re.compile(r"# file: (\w+\.py)\n")


def code_blocks(text: str) -> list[tuple[str, str, bool]]:
    """(language, code, skipped) of each runnable fenced block of a page, in order."""
    blocks = []
    for match in _FENCE.finditer(text):
        language = match.group(1).lower()
        if language not in _RUNNABLE:
            continue
        before = text[: match.start()].rstrip().splitlines()
        skipped = bool(before) and before[-1].strip().startswith("<!-- skip")
        blocks.append(("python" if language in ("python", "py") else "sh", match.group(2), skipped))
    return blocks


def shell_commands(code: str) -> list[str]:
    """The command lines of a ``sh`` block: continuations joined, comments dropped."""
    commands, pending = [], ""
    for raw in code.splitlines():
        line = raw.rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        words = shlex.split(line, comments=True)
        if words:
            commands.append(shlex.join(words))
    return commands


def _run_command(command: str, cwd: Path) -> None:
    words = shlex.split(command)
    env = dict(os.environ)
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):  # VAR=value evosearch ...
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    env["PYTHONPATH"] = os.pathsep.join([str(cwd), str(ROOT), env.get("PYTHONPATH", "")])
    if words[0] == "evosearch":
        argv = [sys.executable, "-m", "evosearch.cli", *words[1:]]
    elif words[0] == "python":
        argv = [sys.executable, *words[1:]]
    else:
        raise AssertionError(f"not an evosearch or python command (mark it skip): {command}")
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{command}\nexit {done.returncode}\n{done.stdout}\n{done.stderr}"


def _snippets(code: str) -> str:
    """``--8<-- "path"`` lines (pymdownx.snippets, as the site shows them) replaced by the file."""
    return _SNIPPET.sub(lambda m: (ROOT / m.group(1)).read_text(encoding="utf-8"), code)


def _run_python(code: str, namespace: dict[str, Any], name: str, folder: Path) -> None:
    code = _snippets(code)
    module = _MODULE.match(code)
    if module:  # a plug-in module the page asks the reader to save: saved, imported later
        (folder / module.group(1)).write_text(code, encoding="utf-8")
    elif code.lstrip().startswith(">>>"):
        test = doctest.DocTestParser().get_doctest(code, namespace, name, name, 0)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        runner.run(test, clear_globs=False)
        namespace.update(test.globs)  # the DocTest ran in a copy
        assert runner.failures == 0, f"{name}: a doctest failed (see the output above)"
    else:
        exec(compile(code, name, "exec"), namespace)


def run_page(page: str, folder: Path) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    cwd, environment, modules = Path.cwd(), dict(os.environ), set(sys.modules)
    os.chdir(folder)
    sys.path.insert(0, str(folder))
    with contextlib.ExitStack() as registrations:
        # What a page's plug-ins register is forgotten after it, as are their modules.
        for kind in REGISTRIES:
            registrations.enter_context(registry(kind).scratch())
        try:
            _run_blocks(page, text, namespace, folder)
        finally:
            for name in set(sys.modules) - modules:
                if getattr(sys.modules[name], "__file__", None) and str(folder) in str(
                    sys.modules[name].__file__
                ):
                    del sys.modules[name]
            sys.path.remove(str(folder))
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(environment)  # a page may set variables (the Dask scheduler's)


def _run_blocks(page: str, text: str, namespace: dict[str, Any], folder: Path) -> None:
    for index, (language, code, skipped) in enumerate(code_blocks(text)):
        if skipped:
            continue
        if language == "python":
            _run_python(code, namespace, f"{page}, block {index}", folder)
        else:
            for command in shell_commands(code):
                _run_command(command, folder)


@pytest.mark.parametrize(
    "page",
    [pytest.param(page, marks=[pytest.mark.slow] if slow else []) for page, slow in PAGES.items()],
)
def test_page_examples_run(page: str, tmp_path: Path) -> None:
    run_page(page, tmp_path)


def test_few_blocks_are_skipped() -> None:
    skipped = [
        (page, code.strip().splitlines()[0] if code.strip() else "")
        for page in PAGES
        for _, code, skip in code_blocks((DOCS / page).read_text(encoding="utf-8"))
        if skip
    ]
    assert len(skipped) <= MAX_SKIPPED, skipped
    assert all(code_blocks((DOCS / page).read_text(encoding="utf-8")) for page in PAGES)


def test_every_tutorial_is_run() -> None:
    pages = {str(path.relative_to(DOCS)) for path in (DOCS / "tutorials").glob("*.md")}
    assert pages <= set(PAGES), pages - set(PAGES)


def _hook() -> Any:
    spec = importlib.util.spec_from_file_location(
        "evosearch_docs", DOCS / "hooks/evosearch_docs.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_lists_every_command_and_option() -> None:
    from evosearch.cli._parser import build_parser

    reference = _hook().cli_reference()
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name, command in commands.items():
        assert f"## evosearch {name}" in reference
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue  # -h, --help: every command has it
            for flag in action.option_strings:
                assert f"`{flag}`" in reference, (name, flag)


def test_pages_in_nav_exist() -> None:
    nav = re.findall(r":\s+([\w/.-]+\.md)\s*$", (ROOT / "mkdocs.yml").read_text(), re.M)
    assert nav and all((DOCS / page).is_file() for page in nav), nav


def test_readme_links_resolve_to_pages_of_the_site() -> None:
    """README.md's relative links (GitHub renders them) name files; those into docs/ are pages."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    nav = set(re.findall(r":\s+([\w/.-]+\.md)\s*$", (ROOT / "mkdocs.yml").read_text(), re.M))
    for target in re.findall(r"\]\((?!https?:|#)([^)#\s]+)", readme):
        assert (ROOT / target).exists(), target
        if target.startswith("docs/") and target.endswith(".md"):
            assert target.removeprefix("docs/") in nav, target


@pytest.mark.slow
def test_the_site_builds_strictly(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    pytest.importorskip("mkdocstrings_handlers.python")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "cli/index.html").read_text(encoding="utf-8").count("--generations") >= 3
