"""PCN monthly reports and ICB summaries on the 12-month demo warehouse: every number equals the mart value
after disclosure control, the HTML is reproducible, the PDF has the content, and a real browser shows it."""

from __future__ import annotations

import json
import re
import shutil
import time
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import pypdf
import pytest

from reports.disclosure import (
    DisclosureRule,
    Protected,
    protect_count,
    protect_counts,
    protect_ratio,
    protect_statistic,
)
from reports.pcn import build_month_reports, load_month, write_month_reports

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
OPTIONAL_TABLES = ("outcome_statistics", "outcome_pairs", "sroi_pcn_financial_year", "sroi_walk")


# ---- reading the HTML -----------------------------------------------------------------------------
class _Figures(HTMLParser):
    """Collects every <data> element (value, source, text) and every <img> (src, alt)."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[dict[str, Any]] = []
        self.images: list[dict[str, str]] = []
        self._open: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "data":
            self._open = {"value": attributes.get("value"), "source": attributes.get("data-source"), "text": ""}
        elif tag == "img":
            self.images.append({"src": attributes.get("src") or "", "alt": attributes.get("alt") or ""})

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "data" and self._open is not None:
            self.figures.append(self._open)
            self._open = None


def parse(path: Path) -> _Figures:
    parser = _Figures()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


# ---- an independent oracle: the mart value through reports/disclosure.py --------------------------
def _select(con: duckdb.DuckDBPyConnection, mart: str, columns: list[str], where: dict[str, Any]) -> list[tuple]:
    for name in [mart, *columns, *where]:
        assert IDENTIFIER.match(name), f"unexpected identifier in a figure's source: {name!r}"
    clause = " AND ".join(f"{k} = ?" for k in where) or "TRUE"
    return con.execute(f"SELECT {', '.join(columns)} FROM marts.{mart} WHERE {clause}", list(where.values())).fetchall()


def _one(con: duckdb.DuckDBPyConnection, source: dict[str, Any], columns: list[str]) -> tuple | None:
    rows = _select(con, source["mart"], columns, source["where"])
    assert len(rows) <= 1, f"the source of a figure matches {len(rows)} rows: {source}"
    return rows[0] if rows else None


def expected(con: duckdb.DuckDBPyConnection, source: dict[str, Any], rule: DisclosureRule) -> Protected | None:
    """What the figure must show; None when the mart has no value for it (shown as `–`)."""
    kind = source["rule"]
    if (
        "mart" in source
        and not con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'marts' AND table_name = ?",
            [source["mart"]],
        ).fetchall()[0][0]
    ):
        return None  # an optional mart not built yet (the outcome and SROI tables)
    if kind == "change":
        current, previous = expected(con, source["current"], rule), expected(con, source["previous"], rule)
        if current is None or previous is None:
            return None
        if current.suppressed or previous.suppressed:
            return Protected(None, True)
        places = max(source["current"].get("places", 0), source["previous"].get("places", 0))
        return Protected(round(current.value - previous.value, places), False)
    if kind in ("improved_share", "outcome_pairs"):
        where = source["where"]
        assert where["org_column"] in ("pcn_code", "icb_code")
        pairs, improved = con.execute(
            f"SELECT count(*), coalesce(sum(CASE WHEN change_category = 'improved' THEN 1 ELSE 0 END), 0) "
            f"FROM marts.outcome_pairs WHERE {where['org_column']} = ? AND measure = ? AND has_follow_up "
            "AND follow_up_month BETWEEN ? AND ?",
            [where["org_code"], where["measure"], where["follow_up_from"], where["follow_up_to"]],
        ).fetchall()[0]
        if pairs == 0:
            return None
        if kind == "outcome_pairs":
            return protect_count(pairs, rule)
        return protect_ratio(improved, pairs, 100.0, source["places"], rule)
    if kind in ("share", "total"):
        rows = _select(con, source["mart"], [source["key"], source["column"]], source.get("group", source["where"]))
        cells, total = protect_counts({str(k): int(v or 0) for k, v in rows}, rule)
        if kind == "total":
            return total
        cell = cells[str(source["where"][source["key"]])]
        if cell.suppressed or not total.value:
            return Protected(None, True)
        return Protected(round(100 * cell.value / total.value, source["places"]), False)
    if kind in ("share_of_columns", "total_of_columns"):
        row = _one(con, source, source["columns"])
        if row is None:
            return None
        cells, total = protect_counts(dict(zip(source["columns"], (int(v or 0) for v in row), strict=True)), rule)
        if kind == "total_of_columns":
            return total
        cell = cells[source["column"]]
        if cell.suppressed or not total.value:
            return Protected(None, True)
        return Protected(round(100 * cell.value / total.value, source["places"]), False)
    if kind == "count":
        row = _one(con, source, [source["column"]])
        return None if row is None or row[0] is None else protect_count(int(row[0]), rule)
    if kind == "ratio":
        row = _one(con, source, [source["column"], source["denominator"]])
        if row is None or row[0] is None or row[1] is None:
            return None
        return protect_ratio(int(row[0]), int(row[1]), source["scale"], source["places"], rule)
    if kind == "statistic":
        if "n_from" in source:  # n is the fewest people behind any of several rows (SROI totals and ratios)
            spec = source["n_from"]
            assert spec["aggregate"] == "min_positive"
            people = [int(v) for (v,) in _select(con, spec["mart"], [spec["column"]], spec["where"]) if v]
            row = _one(con, source, [source["column"]])
            row = None if row is None else (row[0], min(people, default=0))
        else:
            row = _one(con, source, [source["column"], source["n"]])
        if row is None or row[0] is None:  # no statistic in the mart: shown as no data, not as suppressed
            return None
        return protect_statistic(round(float(row[0]), source["places"]), int(row[1] or 0), rule)
    if kind == "national":
        row = _one(con, source, [source["column"]])
        return (
            None
            if row is None or row[0] is None
            else Protected(round(source["scale"] * float(row[0]), source["places"]), False)
        )
    raise AssertionError(f"unknown rule {kind!r} in {source}")


# ---- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def warehouse(demo_pipeline: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy: the reports only read, but a copy keeps this module off the shared file's lock."""
    copy = tmp_path_factory.mktemp("pcn_reports_warehouse") / "warehouse.duckdb"
    shutil.copy(demo_pipeline["warehouse"], copy)
    return copy


@pytest.fixture(scope="module")
def month(demo_pipeline: dict) -> date:
    return date.fromisoformat(f"{demo_pipeline['end_month']}-01")


@pytest.fixture(scope="module")
def built(warehouse: Path, month: date, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    output = tmp_path_factory.mktemp("pcn_reports_output")
    started = time.perf_counter()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        result = build_month_reports(con, month, output)
    seconds = time.perf_counter() - started
    print(
        f"\nrendered {len(result.pcn_codes)} PCN report(s) and {len(result.icb_codes)} ICB summary(ies), HTML + PDF, "
        f"in {seconds:.1f} s"
    )
    return {"result": result, "output": output, "seconds": seconds}


@pytest.fixture(scope="module")
def con(warehouse: Path):
    connection = duckdb.connect(str(warehouse), read_only=True)
    yield connection
    connection.close()


# ---- tests ----------------------------------------------------------------------------------------
def test_one_report_per_pcn_and_a_summary_per_icb(built: dict, con: duckdb.DuckDBPyConnection, month: date) -> None:
    result = built["result"]
    pcns = sorted(
        c
        for (c,) in con.execute(
            "SELECT org_code FROM marts.referral_measures_monthly WHERE org_type = 'pcn' AND month_start = ?", [month]
        ).fetchall()
    )
    assert pcns and result.pcn_codes == pcns
    folder = built["output"] / "reports" / "pcn" / f"{month:%Y-%m}"
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{c}.html" for c in pcns] + [f"{c}.pdf" for c in pcns])
    assert result.icb_codes and all(
        (built["output"] / "reports" / "icb" / f"{month:%Y-%m}" / f"{c}.pdf").exists() for c in result.icb_codes
    )


def test_every_number_equals_the_mart_value_after_disclosure_control(
    built: dict, con: duckdb.DuckDBPyConnection
) -> None:
    rule = DisclosureRule.from_environment()
    checked = suppressed = 0
    for path in built["result"].files:
        if path.suffix != ".html":
            continue
        figures = parse(path).figures
        assert len(figures) > 50, f"{path.name} has only {len(figures)} figures"
        for figure in figures:
            source = json.loads(figure["source"])
            want = expected(con, source, rule)
            where = f"{path.name}: {figure['text']!r} from {source}"
            if want is None:
                assert figure["value"] == "" and figure["text"] == "–", where
            elif want.suppressed:
                assert figure["value"] == "" and figure["text"] == "*", where
                suppressed += 1
            else:
                assert figure["value"] != "" and float(figure["value"]) == pytest.approx(float(want.value), abs=1e-9), (
                    where
                )
                assert figure["text"] != "*", where
            checked += 1
    assert checked > 200 and suppressed > 0, (checked, suppressed)


def test_the_printed_number_is_the_published_value(built: dict) -> None:
    """The text people read and the machine value agree (thousands separators, signs and units aside)."""
    for path in built["result"].files:
        if path.suffix != ".html":
            continue
        for figure in parse(path).figures:
            if figure["value"]:
                digits = re.sub(r"[£%,+\s]", "", figure["text"]).replace("−", "-")
                assert float(digits) == float(figure["value"]), figure


def test_html_is_byte_identical_when_regenerated_in_worker_processes(
    built: dict, warehouse: Path, month: date, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first run rendered in this process (too few documents to start workers); this one in two spawned
    worker processes, as a national run does: the same bytes, in the same order."""
    monkeypatch.setenv("SPRX_WORKERS", "2")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        again = write_month_reports(load_month(con, month), tmp_path, with_pdf=False)
    assert [p.name for p in again.files] == [p.name for p in built["result"].files if p.suffix == ".html"]
    for path in again.files:
        original = built["output"] / path.relative_to(tmp_path)
        assert path.read_bytes() == original.read_bytes(), f"{path.name} differs on regeneration"


def test_pdf_has_the_pages_and_the_headline(built: dict, month: date) -> None:
    for path in built["result"].pcn_files:
        if path.suffix != ".pdf":
            continue
        html = parse(path.with_suffix(".html"))
        reader = pypdf.PdfReader(path)
        pages = [page.extract_text() for page in reader.pages]
        assert 4 <= len(pages) <= 30, f"{path.name}: {len(pages)} pages"
        assert all(f"Page {i} of {len(pages)}" in text for i, text in enumerate(pages, start=1))
        first = pages[0]
        assert "September 2026 at a glance" in first and path.stem in first
        headline_referrals = html.figures[0]  # the first tile: referrals received in the month
        assert json.loads(headline_referrals["source"])["column"] == "referrals_received"
        assert re.search(rf"Referrals received\s+{re.escape(headline_referrals['text'])}\b", first)
        text = "\n".join(pages)
        sections = [
            "Referrals per 1,000 patients, by practice",
            "Who refers, and why",
            "Waiting times",
            "Contacts and discharges",
            "Wellbeing outcomes",
            "GP appointments before and after referral",
            "Social return on investment",
            "Who is referred, compared with who is registered",
            "Data quality: what each practice and provider can fix",
            "How to read this report",
        ]
        positions = [text.find(s) for s in sections]
        assert all(p >= 0 for p in positions) and positions == sorted(positions), dict(
            zip(sections, positions, strict=True)
        )
        assert "How to read this report" in "\n".join(pages[-2:]) and "Definitions" in "\n".join(pages[-2:])
        assert reader.metadata.title.startswith("Social prescribing:")


def test_outcome_and_sroi_sections_say_not_yet_available_only_when_the_tables_are_missing(
    built: dict, con: duckdb.DuckDBPyConnection
) -> None:
    present = {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
        ).fetchall()
    }
    html = next(p for p in built["result"].pcn_files if p.suffix == ".html").read_text(encoding="utf-8")
    pairs_missing = "outcome_pairs" not in present
    statistics_missing = "outcome_statistics" not in present
    sroi_missing = not {"sroi_pcn_financial_year", "sroi_walk", "health_benefit_pcn_financial_year"} <= present
    no_pairs = "No wellbeing measures were paired" in html
    assert ("the wellbeing outcome tables have not been built" in html) == pairs_missing
    assert ("the outcome statistics table has not been built" in html) == (
        not pairs_missing and statistics_missing and not no_pairs
    )
    assert ("the social return on investment tables have not been built" in html) == sroi_missing


def test_every_chart_has_alt_text_and_is_an_embedded_svg(built: dict) -> None:
    for path in built["result"].files:
        if path.suffix != ".html":
            continue
        images = parse(path).images
        assert images, path.name
        for image in images:
            assert image["src"].startswith("data:image/svg+xml;base64,")
            assert len(image["alt"]) > 40 and "chart" in image["alt"].lower()
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<(script|link|iframe)\b|https?://(?!www\.w3\.org)|@import", text, re.IGNORECASE)


def test_an_unknown_pcn_is_a_clear_error(warehouse: Path, month: date, tmp_path: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        loaded = load_month(con, month)
    with pytest.raises(ValueError, match=r"no data for PCN U99999 in 2026-09: .* has \d+ PCN"):
        write_month_reports(loaded, tmp_path, ["U99999"], with_pdf=False)


def test_the_monthly_cycle_asset_wrote_every_month(demo_pipeline: dict) -> None:
    """The demo pipeline runs the asset through Dagster over its 12 months: a report per PCN per month."""
    folder = demo_pipeline["output"] / "reports" / "pcn"
    months = sorted(p.name for p in folder.iterdir())
    assert len(months) == demo_pipeline["months"] and months[-1] == demo_pipeline["end_month"]
    assert all(any(p.suffix == ".html" for p in (folder / m).iterdir()) for m in months)
    # a range run prints the PDFs of its last month only (PcnReportPdfConfig)
    assert any(p.suffix == ".pdf" for p in (folder / months[-1]).iterdir())
    assert (demo_pipeline["output"] / "reports" / "icb" / months[-1]).is_dir()


@pytest.mark.parametrize(("width", "height", "mobile"), [(375, 812, True), (1280, 900, False)])
def test_in_a_real_browser_every_chart_loads_and_nothing_overflows(
    built: dict, tmp_path: Path, width: int, height: int, mobile: bool
) -> None:
    from tests.browser import chromium_page, ensure_chromium

    executable = ensure_chromium()
    if executable is None:
        pytest.skip("Chromium is not installed and `apt-get install chromium chromium-driver` failed")
    html_files = [p for p in built["result"].files if p.suffix == ".html"]
    with chromium_page(executable, tmp_path / "profile") as page:
        for path in html_files:
            page.open(path.as_uri(), width, height, mobile)
            state = page.evaluate(
                "JSON.stringify({images: Array.from(document.images).map(i => [i.naturalWidth, i.alt.length]),"
                " scroll: document.documentElement.scrollWidth, viewport: window.innerWidth,"
                " wide: Array.from(document.querySelectorAll('main *')).filter(e => e.getBoundingClientRect().right"
                " > window.innerWidth + 1).map(e => e.tagName + '.' + e.className).slice(0, 5)})"
            )
            result = json.loads(state)
            assert result["images"], f"{path.name}: no charts"
            assert all(natural > 0 for natural, _alt in result["images"]), f"{path.name}: a chart did not load"
            assert result["scroll"] <= result["viewport"], f"{path.name} overflows at {width}px: {result['wide']}"


def test_sprx_report_runs_the_asset_through_dagster(
    warehouse: Path, month: date, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from orchestration.cli import app

    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, copy)
    monkeypatch.setenv("SPRX_WAREHOUSE", str(copy))
    monkeypatch.setenv("SPRX_OUTPUT", str(tmp_path / "output"))
    monkeypatch.setenv("SPRX_LANDING", str(tmp_path / "landing"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    with duckdb.connect(str(copy), read_only=True) as con:
        pcn = load_month(con, month).data.pcn_codes()[0]
    runner = CliRunner()
    folder = tmp_path / "output" / "reports" / "pcn" / f"{month:%Y-%m}"
    result = runner.invoke(app, ["report", "--period", f"{month:%Y-%m}", "--pcn", pcn.lower(), "--no-pdf"])
    assert result.exit_code == 0, result.output
    assert "1 HTML file(s) written" in result.output and "1 PCN report(s)" in result.output
    assert [p.name for p in folder.iterdir()] == [f"{pcn}.html"]
    # with the PDF (the default): the HTML asset, then the printing asset on what it wrote
    printed = runner.invoke(app, ["report", "--period", f"{month:%Y-%m}", "--pcn", pcn])
    assert printed.exit_code == 0, printed.output
    assert "1 PDF(s) printed" in printed.output
    assert sorted(p.name for p in folder.iterdir()) == [f"{pcn}.html", f"{pcn}.pdf"]
    assert pypdf.PdfReader(folder / f"{pcn}.pdf").metadata.title.startswith("Social prescribing: ")
    unknown = runner.invoke(app, ["report", "--period", f"{month:%Y-%m}", "--pcn", "U99999", "--no-pdf"])
    assert unknown.exit_code == 1 and "no data for PCN U99999" in unknown.output
    malformed = runner.invoke(app, ["report", "--period", f"{month:%Y-%m}", "--pcn", "A81001"])
    assert malformed.exit_code == 1 and "is not a PCN code" in malformed.output


def test_provider_feedback_pack_shares_the_house_style_and_shows_the_mart_score(
    warehouse: Path, month: date, tmp_path: Path
) -> None:
    from reports.feedback import build_submitter_feedback

    with duckdb.connect(str(warehouse), read_only=True) as con:
        packs = {pack.submitter: pack for pack in build_submitter_feedback(con, month, tmp_path)}
        scores = dict(
            con.execute(
                "SELECT submitter_code, data_quality_score FROM marts.data_quality_submitter_monthly "
                "WHERE period = ? AND submitter_type = 'provider'",
                [month],
            ).fetchall()
        )
    assert scores and set(scores) <= set(packs)
    style = (Path(__file__).parents[1] / "reports" / "pcn" / "templates" / "style.css").read_text(encoding="utf-8")
    for provider, score in scores.items():
        html = packs[provider].html.read_text(encoding="utf-8")
        assert style.strip() in html  # one stylesheet, shared with the PCN reports
        assert re.search(rf'Score <span class="score">{round(score)}</span> out of 100', html), provider


# The outcome statistics come from another asset (statistics/outcome_statistics). Until it is in the warehouse the
# report says so; this stands in a table of the agreed interface, so the section is tested for when it arrives.
STAND_IN_STATISTICS = """
CREATE TABLE marts.outcome_statistics AS
WITH pairs AS (
  SELECT 'pcn' AS org_level, pcn_code AS org_code, instrument, measure, baseline_score, follow_up_score, change,
    change_category, has_follow_up, follow_up_month
  FROM marts.outcome_pairs
  UNION ALL
  SELECT 'icb', icb_code, instrument, measure, baseline_score, follow_up_score, change, change_category,
    has_follow_up, follow_up_month
  FROM marts.outcome_pairs
)
SELECT org_level, org_code, 'rolling_12m' AS period_type, DATE '{start}' AS period_start, DATE '{end}' AS period_end,
  '{label}' AS period_label, instrument, measure, count(*) AS baselines, count(*) FILTER (WHERE has_follow_up) AS pairs,
  count(*) FILTER (WHERE has_follow_up) / count(*) AS follow_up_completion_rate,
  avg(baseline_score) FILTER (WHERE has_follow_up) AS mean_baseline, avg(follow_up_score) AS mean_follow_up,
  avg(change) AS mean_change, avg(change) - 1.96 * stddev_samp(change) / sqrt(count(change)) AS ci_lower,
  avg(change) + 1.96 * stddev_samp(change) / sqrt(count(change)) AS ci_upper, 0.01 AS t_test_p_value,
  0.01 AS wilcoxon_p_value, avg(change) / stddev_samp(change) AS cohens_dz,
  avg(CASE WHEN change_category = 'improved' THEN 1.0 ELSE 0.0 END) FILTER (WHERE has_follow_up) AS share_improved,
  CASE WHEN count(change) >= 10 THEN 'computed' ELSE 'too_few' END AS status
FROM pairs
WHERE follow_up_month BETWEEN DATE '{start}' AND DATE '{last_month}' OR NOT has_follow_up
GROUP BY ALL
"""


def test_outcome_statistics_are_shown_with_their_intervals_once_the_table_exists(
    warehouse: Path, month: date, tmp_path: Path
) -> None:
    from orchestration.months import add_months, month_end

    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, copy)
    start = add_months(month, -11)
    with duckdb.connect(str(copy)) as con:
        marts = {
            name
            for (name,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'").fetchall()
        }
        if "outcome_pairs" not in marts:
            pytest.skip("marts.outcome_pairs is not built in the demo warehouse")
        con.execute("DROP TABLE IF EXISTS marts.outcome_statistics")
        con.execute(STAND_IN_STATISTICS.format(start=start, end=month_end(month), label="stand-in", last_month=month))
    with duckdb.connect(str(copy), read_only=True) as con:
        loaded = load_month(con, month)
        pcn = loaded.data.pcn_codes()[0]
        written = write_month_reports(loaded, tmp_path / "out", [pcn], with_pdf=False)
        html = written.pcn_files[0].read_text(encoding="utf-8")
        assert "not yet available" not in html.split('id="outcomes"')[1].split("</section>")[0]
        assert "Average change (95% CI)" in html
        parsed = parse(written.pcn_files[0])
        assert any("confidence intervals" in image["alt"] for image in parsed.images)
        rule = DisclosureRule.from_environment()
        statistics = [f for f in parsed.figures if json.loads(f["source"]).get("mart") == "outcome_statistics"]
        assert statistics and any(f["value"] for f in statistics)
        for figure in statistics:
            want = expected(con, json.loads(figure["source"]), rule)
            assert want is not None
            if want.suppressed:
                assert figure["text"] == "*"
            else:
                assert float(figure["value"]) == pytest.approx(float(want.value), abs=1e-9)
