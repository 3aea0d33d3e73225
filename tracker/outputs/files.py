"""Writing an output (`-o`): into a regular file whole or not at all; straight into a device or a FIFO.

Decisions, as `-o` states them in each command's --help:
- A regular file is replaced atomically: a temporary file beside it is renamed over it once complete, so a failed
  write leaves it as it was. An existing file keeps its permission bits (a 0600 export stays 0600).
- A symbolic link is followed: the file it points to is replaced, the link itself stays (a dangling link's target
  is created). Replacing the link would leave what it points to stale.
- A character device (/dev/null, /dev/stdout, a terminal) or a FIFO is written straight, never replaced by a
  regular file: what it receives cannot be taken back, so a failed write may leave part of the output there.
- Anything else (a directory, a socket, a block device) is refused, untouched.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from tracker.errors import ConfigError
from tracker.wording import file_kind


def write_output(output: Path, write: Callable[[IO[Any]], object], *, binary: bool = False) -> object:
    """Call write(stream) on OUTPUT as the module's decisions say; return what write returned.

    UTF-8 text with the newlines the writer gives, unless `binary`.
    """
    # realpath follows every link, a dangling one to the path it names: that is where the output goes.
    target = Path(os.path.realpath(output))
    try:
        status = os.stat(target)
    except FileNotFoundError:
        status = None
    except OSError as error:
        raise _cannot_write(output, error) from None
    if status is not None and (stat.S_ISCHR(status.st_mode) or stat.S_ISFIFO(status.st_mode)):
        return _write_straight(output, target, write, binary)
    if status is not None and not stat.S_ISREG(status.st_mode):
        raise ConfigError(f"{output}: is {file_kind(status.st_mode)}, not a file, a device or a FIFO; "
                          "choose a file path for -o")
    mode = None if status is None else stat.S_IMODE(status.st_mode)
    return _replace_atomically(target, write, binary=binary, mode=mode, shown=output)


def _replace_atomically(output: Path, write: Callable[[IO[Any]], object], *, binary: bool = False,
                        mode: int | None = None, shown: Path | None = None) -> object:
    """Call write(stream) on a temporary file next to OUTPUT, then move it over OUTPUT; return what write returned.

    The file gets `mode`, or the permissions any new file of the user gets. `shown` names OUTPUT in messages (the
    path the user gave, when OUTPUT is where its link points).
    """
    shown = shown or output
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".part", dir=output.parent)
    except OSError as error:
        raise _cannot_write(shown, error) from None
    try:
        if mode is None:
            # mkstemp makes the file 0600; a new export gets the permissions any new file of the user gets.
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(temporary, mode)
        with open(descriptor, "wb" if binary else "w", **_text_options(binary)) as stream:
            result = write(stream)
        os.replace(temporary, output)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise _cannot_write(shown, error) from None
        raise
    return result


def _write_straight(output: Path, target: Path, write: Callable[[IO[Any]], object], binary: bool) -> object:
    # No O_CREAT: a device or FIFO gone since the check is not replaced by a regular file. A FIFO's open waits for
    # its reader, as a shell's `> fifo` does.
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_NOCTTY)
    except OSError as error:
        raise _cannot_write(output, error) from None
    try:
        with open(descriptor, "wb" if binary else "w", **_text_options(binary)) as stream:
            return write(stream)
    except OSError as error:
        raise _cannot_write(output, error) from None


def _text_options(binary: bool) -> dict[str, str]:
    return {} if binary else {"encoding": "utf-8", "newline": ""}


def _cannot_write(output: Path, error: OSError) -> ConfigError:
    return ConfigError(f"{output}: cannot write there ({error.strerror}); choose another -o path")
