"""The one error the reference loaders raise, so callers can tell bad reference files from bugs."""

from __future__ import annotations

from pathlib import Path


class ReferenceFileError(ValueError):
    """A reference file (or folder) cannot be loaded; the message names the file and the fix."""

    def __init__(self, file: str | Path, message: str) -> None:
        self.file = Path(file)
        self.message = message
        super().__init__(f"{self.file.name}: {message}")
