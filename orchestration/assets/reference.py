"""Reference assets: the official ODS / NHS Digital files in $SPRX_LANDING/reference → ref.*."""

import dagster as dg

from orchestration.reference.loaders import load_reference_folder
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource
from orchestration.settings import get_settings

REFERENCE_TABLES = {
    "practices": "GP practices from ODS epraccur, both status spellings.",
    "pcn_membership": "Practice-to-PCN memberships with start and end dates (ODS epcncorepartnerdetails).",
    "pcns": "Primary Care Networks with their sub-ICB location.",
    "list_sizes": "Registered patients per practice, totals and age/sex bands (NHS Digital).",
    "providers": "Link-worker providers and the PCNs they serve.",
}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(dg.AssetKey(["ref", name]), description=text, owners=["team:data-engineering"])
        for name, text in REFERENCE_TABLES.items()
    ],
    name="reference_data",
    group_name="reference",
    pool=WAREHOUSE_POOL,
)
def reference_data(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Replace the ref tables from the official files, in one transaction."""
    folder = get_settings().reference_dir
    with warehouse.writer() as con:
        counts = load_reference_folder(con, folder)
    context.log.info(f"reference tables loaded from {folder}: {dict(counts)}")
    for skipped in counts.unrecognised:
        context.log.warning(f"not a recognised reference file, skipped: {skipped}")
    for name in REFERENCE_TABLES:
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey(["ref", name]),
            metadata={"rows": dg.MetadataValue.int(int(counts.get(f"ref.{name}", 0))), "folder": str(folder)},
        )
