"""Keyed pseudonyms for NHS numbers: the same number gives the same pseudonym under one key.

HMAC-SHA256 (RFC 2104) as 64 hex characters. `pseudonymise` is the reference in Python; the loader
computes the same function set-based in DuckDB (`pseudonym_sql`), which saves a Python call per
distinct number at national scale. A test keeps the two equal.
"""

from __future__ import annotations

import hashlib
import hmac

SHA256_BLOCK_BYTES = 64


def pseudonymise(nhs_number: str, key: bytes) -> str:
    """HMAC-SHA256 of the 10-digit NHS number, as 64 hex characters."""
    return hmac.new(key, nhs_number.encode("ascii"), hashlib.sha256).hexdigest()


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """The inner and outer padded keys of HMAC-SHA256 (RFC 2104, section 2)."""
    block = hashlib.sha256(key).digest() if len(key) > SHA256_BLOCK_BYTES else key
    block = block.ljust(SHA256_BLOCK_BYTES, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def pseudonym_sql(number: str, inner_pad: str, outer_pad: str) -> str:
    """SQL for HMAC-SHA256 of the VARCHAR expression `number`, given the two pads as BLOB expressions."""
    return f"sha256({outer_pad} || unhex(sha256({inner_pad} || encode({number}))))"
