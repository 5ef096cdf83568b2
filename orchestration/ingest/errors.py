"""Whole-file problems: each carries a reason code from extracts/contracts/reason_codes.yml."""

from __future__ import annotations


class FileRejected(Exception):
    """The file (or workbook sheet) cannot be loaded at all; nothing from it reaches raw."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message
