"""Reference data: readers for the official NHS files and the loader of the `ref` schema."""

from orchestration.reference.errors import ReferenceFileError
from orchestration.reference.loaders import (
    LoadResult,
    ProviderTables,
    classify,
    load_reference_folder,
    read_epraccur,
    read_imd,
    read_list_sizes,
    read_pcn_membership,
    read_providers,
    read_snomed_codelist,
)

__all__ = [
    "LoadResult",
    "ProviderTables",
    "ReferenceFileError",
    "classify",
    "load_reference_folder",
    "read_epraccur",
    "read_imd",
    "read_list_sizes",
    "read_pcn_membership",
    "read_providers",
    "read_snomed_codelist",
]
