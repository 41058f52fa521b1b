"""The documentation site builds with every warning an error, and what it shows a user to type
exists: each `lambda-tabular` command line in the docs and the README names a real verb and only
options of that verb, and each `make` target named there is in the Makefile."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path
from unittest import mock

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]
FENCE = re.compile(r"^(\s*)(```|~~~)")
# A command as a user types it: at the start of a shell line, after a prompt, a venv path or `$(`.
COMMAND = re.compile(r"(?:^|\$\(|^\$ )(?:\.venv/bin/)?lambda-tabular(?=\s)(.*)$")
# Named in the docs, added to the Makefile on another branch (issue #24); drop it once it is there.
TARGETS_ADDED_ELSEWHERE = {"test-fast"}


def _relative(page: Path) -> str:
    return str(page.relative_to(ROOT))


def test_site_builds_strictly(tmp_path):
    """Broken links, missing anchors, missing included files: any warning fails the build."""
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "index.html").is_file()
    # The generated files are included, not left as include lines.
    results = (tmp_path / "site" / "results" / "cold" / "index.html").read_text()
    assert "--8&lt;--" not in results and "lean (ours)" in results


def _code_blocks(text: str) -> list[str]:
    """The shell lines of fenced code blocks, a trailing backslash joining a line to the next."""
    lines, inside, pending = [], False, ""
    for line in text.splitlines():
        if FENCE.match(line):
            inside, pending = not inside, ""
            continue
        if not inside:
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        lines.append((pending + line).strip())
        pending = ""
    return lines


def _shown_commands() -> list[tuple[str, str]]:
    shown = []
    for page in PAGES:
        for line in _code_blocks(page.read_text()):
            match = COMMAND.search(line)
            if match:
                shown.append((_relative(page), match.group(1).split(")")[0] if line.count("$(") else match.group(1)))
    return shown


@cache
def _parsers() -> dict[str, argparse.ArgumentParser]:
    """Each verb's real parser: the CLI's subparsers, and the two modules convert and bench pass to."""
    from lambda_tabular.bench.__main__ import parse_args as bench_args
    from lambda_tabular.convert.__main__ import parse_args as convert_args
    from lambda_tabular.deploy.cli import main

    seen: dict[str, argparse.ArgumentParser] = {}
    captured: list[argparse.ArgumentParser] = []

    def capture(self, args=None, namespace=None):
        captured.append(self)
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                seen.update(action.choices)
        raise SystemExit(0)

    with mock.patch.object(argparse.ArgumentParser, "parse_args", capture):
        for call in (lambda: main(["--help"]), lambda: convert_args([]), lambda: bench_args([])):
            with pytest.raises(SystemExit):
                call()
    top, convert, bench = captured
    seen.update({"convert": convert, "bench": bench, "": top})
    return seen


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


def test_the_docs_show_lambda_tabular_commands():
    shown = _shown_commands()
    assert len(shown) > 50
    assert {verb for _, rest in shown for verb in shlex.split(rest, comments=True)[:1]} >= {
        "convert", "image", "zip", "run", "invoke", "push", "function", "alias", "canary", "promote",
        "rollback", "status", "concurrency", "url", "publish-model", "release-model", "bench",
    }


def _flags(tokens: list[str]) -> list[str]:
    flags = []
    for token in tokens:
        token = token.strip("[]()")
        for part in token.split("|"):  # usage lines: [--snapstart|--no-snapstart]
            part = part.strip("[]()")
            if part.startswith("--") and len(part) > 2:
                flags.append(part.split("=", 1)[0])
    return flags


@pytest.mark.parametrize("page,rest", _shown_commands(), ids=lambda value: str(value)[:60])
def test_each_shown_command_uses_a_real_verb_and_its_options(page, rest):
    tokens = shlex.split(rest, comments=True)
    parsers = _parsers()
    if tokens and tokens[0].startswith("-"):
        assert set(_flags(tokens)) <= _options(parsers[""]), f"{page}: lambda-tabular {rest}"
        return
    assert tokens, f"{page}: `lambda-tabular` with no verb"
    verb = tokens[0]
    assert verb in parsers, f"{page}: no verb {verb!r} in `lambda-tabular {rest}`"
    unknown = set(_flags(tokens[1:])) - _options(parsers[verb])
    assert not unknown, f"{page}: `lambda-tabular {verb}` has no option {sorted(unknown)}: lambda-tabular {rest}"


def _make_targets() -> set[str]:
    targets = set()
    for line in (ROOT / "Makefile").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_./$()-]+)\s*:(?!=)", line)
        if match and not line.startswith((".", "$")):
            targets.add(match.group(1))
    return targets


def _named_make_targets() -> list[tuple[str, str]]:
    named = []
    for page in PAGES:
        text = page.read_text()
        code = _code_blocks(text) + re.findall(r"`([^`\n]+)`", text)
        for snippet in code:
            for target in re.findall(r"(?:^|[\s;&(]|\$ )make ([A-Za-z][\w-]*)(?![\w=-])", snippet):
                named.append((_relative(page), target))
    return named


def test_make_targets_named_in_the_docs_exist():
    named = _named_make_targets()
    assert {"demo", "test", "image", "zip", "bench", "bump", "docs"} <= {target for _, target in named}
    targets = _make_targets() | TARGETS_ADDED_ELSEWHERE
    missing = sorted({f"{page}: make {target}" for page, target in named if target not in targets})
    assert not missing, missing


def test_the_readme_quotes_the_benchmark_results_as_they_are():
    """The README's numbers are rows of bench/results/results.md, so a new run cannot leave them stale."""
    readme = (ROOT / "README.md").read_text()
    quoted = readme[readme.index("<!-- results:begin -->"):readme.index("<!-- results:end -->")]
    rows = [line for line in quoted.splitlines() if line.startswith("|")]
    results = (ROOT / "bench" / "results" / "results.md").read_text().splitlines()
    assert len(rows) >= 3
    assert [row for row in rows if row not in results] == []


def test_the_readme_stays_a_front_page():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200
