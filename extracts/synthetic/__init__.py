"""Synthetic data generator: monthly practice and provider extracts for a synthetic England.

`generate(scale, months, seed, out_dir, end_month=None, defects=0.0, progress=False)` writes

- the extracts at the top level of out_dir, `{table}_{submitter}_{YYYYMM}.csv` (columns read
  from the contracts, in their order), or one `provider_{code}_{YYYYMM}.xlsx` workbook a month
  for the providers that submit XLSX (about half, chosen by the seed);
- `reference/`: epraccur.csv, epcncorepartnerdetails.csv, gp-reg-pat-prac-all.csv,
  gp-reg-pat-prac-quin-age.csv (official NHS shapes), providers.csv, imd2019.csv;
- `expected/`: ground truth for tests (defects.csv, bad_files.csv, files.txt), never ingested.

NHS numbers come only from the 999 000 0000-999 999 9999 test range and pass the modulus 11
check. Each open practice, in a fixed global order, owns an equal block of that range, so people
never collide across practices. At demo and icb scale a block holds far more numbers than a
practice refers; at national scale (6,300 practices) a block holds about 145 valid numbers, so
numbers are reused within a practice: a reused number is the same person (same date of birth,
sex, ethnicity, LSOA), referred again, possibly while an earlier referral is still open.

Same arguments give byte-identical output (XLSX properties and zip times are fixed); the only
wall-clock input is the default end_month.
"""

from .config import SCALES, ScaleConfig
from .generator import GenerationSummary, generate

__all__ = ["SCALES", "GenerationSummary", "ScaleConfig", "generate"]
