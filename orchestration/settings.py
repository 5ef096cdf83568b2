"""Paths, keys and thresholds, all from the environment (SPRX_*) with defaults inside the project."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DEMO_PSEUDONYM_KEY = "sprx-demo-key-NOT-SECRET-do-not-use-for-real-data"


class SettingsError(RuntimeError):
    """A required setting is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    warehouse: Path
    landing: Path
    output: Path
    reject_threshold: float
    demo: bool

    @property
    def reference_dir(self) -> Path:
        """Official reference files live in a `reference/` folder inside the landing zone."""
        return self.landing / "reference"


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def get_settings() -> Settings:
    """Read settings now (not at import), so tests and CLI flags can change the environment."""
    threshold_text = os.environ.get("SPRX_REJECT_THRESHOLD", "0.05")
    try:
        threshold = float(threshold_text)
    except ValueError as error:
        raise SettingsError(f"SPRX_REJECT_THRESHOLD must be a number, got {threshold_text!r}") from error
    if not 0 <= threshold <= 1:
        raise SettingsError(f"SPRX_REJECT_THRESHOLD must be between 0 and 1, got {threshold}")
    return Settings(
        warehouse=_path("SPRX_WAREHOUSE", PROJECT_ROOT / "data" / "warehouse.duckdb"),
        landing=_path("SPRX_LANDING", PROJECT_ROOT / "extracts" / "incoming"),
        output=_path("SPRX_OUTPUT", PROJECT_ROOT / "reports" / "output"),
        reject_threshold=threshold,
        demo=os.environ.get("SPRX_DEMO", "") == "1",
    )


def pseudonym_key() -> bytes:
    """The HMAC key for NHS-number pseudonyms: never stored in the warehouse.

    Outside demo mode (SPRX_DEMO=1) a missing key is an error, so real data can never be
    pseudonymised with the published demo key by accident.
    """
    key = os.environ.get("SPRX_PSEUDONYM_KEY")
    if key:
        if len(key) < 16:
            raise SettingsError("SPRX_PSEUDONYM_KEY must be at least 16 characters long")
        return key.encode("utf-8")
    if get_settings().demo:
        return DEMO_PSEUDONYM_KEY.encode("utf-8")
    raise SettingsError(
        "SPRX_PSEUDONYM_KEY is not set. Set it to a secret of at least 16 characters held outside "
        "the warehouse (the same key must be used for every load), or set SPRX_DEMO=1 to use the "
        "published demo key for synthetic data only."
    )
