"""Keyed pseudonyms for NHS numbers: the same number gives the same pseudonym under one key."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable


def pseudonymise(nhs_number: str, key: bytes) -> str:
    """HMAC-SHA256 of the 10-digit NHS number, as 64 hex characters."""
    return hmac.new(key, nhs_number.encode("ascii"), hashlib.sha256).hexdigest()


def pseudonym_table(nhs_numbers: Iterable[str], key: bytes) -> dict[str, list[str]]:
    """Columns {nhs_number, person_id} for the distinct numbers of a batch, to join in SQL."""
    distinct = sorted(set(nhs_numbers))
    return {"nhs_number": distinct, "person_id": [pseudonymise(n, key) for n in distinct]}
