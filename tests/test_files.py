"""`-o`: a regular file replaced whole, its mode kept; a link followed; a device or FIFO written straight; - is
standard output; anything else refused."""

from __future__ import annotations

import os
import select
import socket
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.seed import make_articles, seed_store

from tracker.cli import cli
from tracker.config import DEFAULT_HYPOTHESES_PATH, load_hypotheses

# A filter nothing matches: the output is the CSV header alone, small enough for any pipe's buffer.
NOTHING = ["--query", "no article has this text"]


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("files") / "tracker.sqlite"
    seed_store(path, load_hypotheses(DEFAULT_HYPOTHESES_PATH), make_articles(20, seed=3))
    return path


def export(store_path: Path, output: str | Path, *arguments: str):
    return CliRunner().invoke(cli, ["export", "--db", str(store_path), "-o", str(output), *arguments])


def test_an_existing_files_mode_is_kept(store_path: Path, tmp_path: Path) -> None:
    output = tmp_path / "private.csv"
    output.write_text("the previous export\n", encoding="utf-8")
    output.chmod(0o600)
    result = export(store_path, output)
    assert result.exit_code == 0, result.stderr
    assert output.read_text(encoding="utf-8").startswith("pmid,")
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["private.csv"]


def test_a_new_file_gets_the_users_default_mode(store_path: Path, tmp_path: Path) -> None:
    umask = os.umask(0o027)
    try:
        result = export(store_path, tmp_path / "new.csv")
    finally:
        os.umask(umask)
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o640


@pytest.mark.parametrize("dangling", [False, True])
def test_a_link_is_followed_and_stays_a_link(store_path: Path, tmp_path: Path, dangling: bool) -> None:
    (tmp_path / "data").mkdir()
    target = tmp_path / "data" / "articles.csv"
    if not dangling:
        target.write_text("stale\n", encoding="utf-8")
    link = tmp_path / "latest.csv"
    link.symlink_to(Path("data") / "articles.csv")
    result = export(store_path, link)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.endswith(f"to {link} (csv)\n")
    assert link.is_symlink() and os.readlink(link) == str(Path("data") / "articles.csv")
    assert target.read_text(encoding="utf-8").startswith("pmid,")
    assert sorted(p.name for p in target.parent.iterdir()) == ["articles.csv"]


def test_a_fifo_is_written_straight(store_path: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    # Opened for reading first (not blocking), so the export's open for writing finds its reader.
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        result = export(store_path, fifo, *NOTHING)
        received = _read_all(reader)
    finally:
        os.close(reader)
    assert result.exit_code == 0, result.stderr
    assert received.startswith(b"pmid,") and received.endswith(b"\r\n")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_a_character_device_is_written_straight(store_path: Path) -> None:
    # A terminal is a character device any user may write to, as /dev/null or /dev/stdout are.
    controller, terminal = os.openpty()
    try:
        device = os.ttyname(terminal)
        result = export(store_path, device, *NOTHING)
        received = _read_all(controller, until_eof=False)
        assert stat.S_ISCHR(os.stat(device).st_mode)
    finally:
        os.close(terminal)
        os.close(controller)
    assert result.exit_code == 0, result.stderr
    assert received.startswith(b"pmid,")


def test_dash_is_standard_output(store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = export(store_path, "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("pmid,") and result.stderr == ""
    assert list(tmp_path.iterdir()) == []


def test_a_socket_is_refused_untouched(store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a short relative path: a socket's path has a length limit
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind("listener")
        result = export(store_path, "listener")
        assert result.exit_code == 1
        assert result.stderr == ("tracker: listener: is a socket, not a file, a device or a FIFO; choose a file "
                                 "path for -o\n")
        assert stat.S_ISSOCK(os.lstat("listener").st_mode)


@pytest.mark.parametrize("command", ["export", "evidence", "feed"])
def test_help_says_what_o_does_with_links_and_devices(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"], terminal_width=200)
    text = " ".join(result.stdout.split())
    assert "a symbolic link is followed (the file it points to is replaced, the link kept)" in text
    assert "a device or FIFO such as /dev/stdout is written straight" in text
    assert "(- is standard output)" in text


def _read_all(descriptor: int, until_eof: bool = True) -> bytes:
    """What the descriptor holds now (a terminal never ends) or, with until_eof, up to its end."""
    chunks = []
    while select.select([descriptor], [], [], 5)[0]:
        chunk = os.read(descriptor, 65536)
        if not chunk:
            break
        chunks.append(chunk)
        if not until_eof:
            break
    return b"".join(chunks)
