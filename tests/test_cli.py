"""Every command has help and is documented in the README; the group's options behave as documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker.cli import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(cli.commands)


def test_the_issue_commands_all_exist() -> None:
    assert COMMANDS == ["dashboard", "evidence", "export", "feed", "fetch", "import", "retag", "schedule", "status"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: cli {command} [OPTIONS]")
    assert len(cli.commands[command].help or "") > 20


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_appears_in_the_readme(command: str) -> None:
    assert re.search(rf"`?\$? ?tracker {command}\b", README), f"README never shows `tracker {command}`"


def test_readme_starts_with_the_run_and_test_commands() -> None:
    first_block = README.split("```")[1]
    assert [line.split("#")[0].strip() for line in first_block.strip().splitlines()[1:]] == ["make run", "make test"]


def test_unknown_command_is_bad_usage() -> None:
    result = CliRunner().invoke(cli, ["fecth"])
    assert result.exit_code == 2
    assert "No such command 'fecth'" in result.output


def test_status_of_a_missing_store_says_how_to_create_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["status", "--db", str(tmp_path / "none.sqlite")])
    assert result.exit_code == 1
    assert result.stderr == (f"tracker: {tmp_path / 'none.sqlite'}: no store yet; run `tracker fetch` "
                             f"(or `tracker import FILE`) to create it\n")
    assert not (tmp_path / "none.sqlite").exists()
