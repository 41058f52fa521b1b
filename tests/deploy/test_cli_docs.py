"""Every deploy subcommand has help text, and the AWS ones are shown with real runs in the docs
(docs/deploy.md, and docs/s3-models.md for publish-model and release-model)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from lambda_tabular.deploy.cli import main

DOCS = [Path(__file__).resolve().parents[2] / "docs" / name for name in ("deploy.md", "s3-models.md")]
AWS_COMMANDS = ["push", "function", "alias", "canary", "promote", "rollback", "status", "concurrency", "url",
                "publish-model", "release-model"]


def _subcommands(monkeypatch) -> dict[str, argparse.ArgumentParser]:
    seen = {}
    original = argparse.ArgumentParser.parse_args

    def capture(self, args=None, namespace=None):
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                seen.update({name: (action, parser) for name, parser in action.choices.items()})
        raise SystemExit(0)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", capture)
    with pytest.raises(SystemExit):
        main(["--help"])
    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", original)
    return seen


def test_every_subcommand_and_option_has_help(monkeypatch):
    commands = _subcommands(monkeypatch)
    assert set(AWS_COMMANDS) <= set(commands)
    for name, (group, parser) in commands.items():
        helps = {choice.dest: choice.help for choice in group._choices_actions}
        assert helps.get(name), f"subcommand {name} has no help"
        for action in parser._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"


@pytest.mark.parametrize("command", AWS_COMMANDS)
def test_aws_commands_are_documented_with_real_runs(command):
    pages = "\n".join(page.read_text() for page in DOCS)
    assert f"$ lambda-tabular {command} " in pages, f"docs/deploy.md and docs/s3-models.md show no `{command}` run"
