"""Writing an output file whole or not at all: a temporary file beside it that replaces it once complete."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tracker.errors import ConfigError


def replace_atomically(output: Path, write: Callable[[Any], object], *, binary: bool = False) -> object:
    """Call write(stream) on a temporary file next to OUTPUT, then move it over OUTPUT; return what write returned.

    A failed write leaves nothing half-written behind and OUTPUT as it was. UTF-8 text with the newlines the writer
    gives, unless `binary`.
    """
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".part", dir=output.parent)
    except OSError as error:
        raise ConfigError(f"{output}: cannot write there ({error.strerror}); choose another -o path") from None
    try:
        # mkstemp makes the file 0600; the export gets the permissions any new file of the user gets.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        text_options = {} if binary else {"encoding": "utf-8", "newline": ""}
        with open(descriptor, "wb" if binary else "w", **text_options) as stream:
            result = write(stream)
        os.replace(temporary, output)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise ConfigError(f"{output}: cannot write there ({error.strerror}); choose another -o path") from None
        raise
    return result
