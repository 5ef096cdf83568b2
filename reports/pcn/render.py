"""The rendering layer: report dataclasses → charts → HTML (Jinja2) → PDF (WeasyPrint).

The templates and the stylesheet in templates/ are the house style shared with the data-quality
feedback packs (reports/feedback), which load them through `template_environment`.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

from orchestration.months import add_months
from reports.pcn import charts
from reports.pcn.charts import BLUE, DARK_BLUE, GREY, Chart
from reports.pcn.data import (
    COMPONENT_LABELS,
    IcbSummary,
    PcnReport,
    QualityGuidance,
    SubmitterQuality,
    TrendPoint,
    month_label,
)
from reports.pcn.figures import Figure

TEMPLATES_DIR = Path(__file__).parent / "templates"
GUIDANCE_PATH = TEMPLATES_DIR / "dq_guidance.yml"
ACTIVITY_LABELS = (
    ("contacts_offered", "Contacts offered or held"),
    ("contacts_attended", "Contacts attended"),
    ("dna_rate", "Contacts missed (did not attend)"),
    ("people_attending", "People attending at least once"),
    ("contacts_per_person", "Contacts per person attending"),
    ("care_plans_agreed", "Care plans agreed"),
    ("discharges", "Discharged"),
    ("discharges_completed_share", "Discharges that completed the support"),
)


def template_environment(*extra_dirs: Path) -> Environment:
    """Jinja2 with autoescaping (names and messages come from submitted data) over the shared templates."""
    return Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in (*extra_dirs, TEMPLATES_DIR)]),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def _environment() -> Environment:
    return template_environment()


@cache
def guidance_texts() -> dict[str, Any]:
    return yaml.safe_load(GUIDANCE_PATH.read_text(encoding="utf-8"))


def load_guidance(con: Any) -> QualityGuidance:
    """Fix hints from the feedback pack, the texts in dq_guidance.yml, and the weights and settings seeds."""
    from reports.feedback.builder import describe, hint

    weights = {c: float(w) for c, w in con.execute("SELECT component, weight FROM ref.data_quality_weights").fetchall()}
    settings = {s: int(v) for s, v in con.execute("SELECT setting, value FROM ref.data_quality_settings").fetchall()}
    return QualityGuidance(describe=describe, hint=hint, texts=guidance_texts(), weights=weights, settings=settings)


# ---- charts ---------------------------------------------------------------------------------------
def _v(figure: Figure) -> float | None:
    return figure.value if figure.shown else None


def _described(values: list[tuple[str, Figure]], unit: str = "") -> str:
    shown = [(label, f) for label, f in values if f.shown]
    hidden = len(values) - len(shown)
    if not shown:
        return "All values are suppressed or missing."
    high = max(shown, key=lambda item: item[1].value)
    low = min(shown, key=lambda item: item[1].value)
    text = f"Highest: {high[0]}, {high[1].text}{unit}; lowest: {low[0]}, {low[1].text}{unit}."
    if hidden:
        text += f" {hidden} not shown (suppressed or no data)."
    return text


def _bars(items: list[tuple[str, Figure]], alt: str, axis: str, reference: tuple[str, Figure] | None = None) -> Chart:
    places = max((f.places for _, f in items), default=0)
    suffix = "%" if items and items[0][1].unit == "percent" else ""
    ref = (reference[0], reference[1].value) if reference and reference[1].shown else None
    return charts.horizontal_bars(
        [label for label, _ in items],
        [_v(f) for _, f in items],
        alt=f"{alt} {_described(items)}",
        axis_label=axis,
        places=places,
        reference=ref,
        suffix=suffix,
    )


def _trend_chart(points: list[TrendPoint], where: str) -> Chart:
    labels = [p.label for p in points]
    last = points[-1] if points else None
    alt = (
        f"Line chart of referrals received, people seen for the first time and discharges each month in {where}, "
        f"{labels[0]} to {labels[-1]}. In {labels[-1]}: {last.referrals.text} referrals, {last.seen.text} seen, "
        f"{last.discharges.text} discharged."
        if last
        else f"No monthly figures for {where}."
    )
    return charts.lines(
        labels,
        [
            ("Referrals", [_v(p.referrals) for p in points], BLUE),
            ("Seen", [_v(p.seen) for p in points], DARK_BLUE),
            ("Discharged", [_v(p.discharges) for p in points], GREY),
        ],
        alt=alt,
        axis_label="People",
    )


def _wait_chart(points: list[TrendPoint]) -> Chart:
    labels = [p.label for p in points]
    alt = "Line chart of the median and 90th-centile days from referral to first contact, each month. " + _described(
        [(p.label, p.median_wait) for p in points], " days"
    ).replace("Highest", "Longest median").replace("lowest", "shortest")
    return charts.lines(
        labels,
        [
            ("Median", [_v(p.median_wait) for p in points], BLUE),
            ("9 in 10 within", [_v(p.p90_wait) for p in points], GREY),
        ],
        alt=alt,
        axis_label="Days",
    )


def _quality_chart(submitters: list[SubmitterQuality], month: str) -> Chart:
    items = [(f"{s.name} ({s.code})", s.score) for s in submitters]
    return _bars(
        items, f"Bar chart of the data quality score (0 to 100) of each practice and provider, {month}.", "Score"
    )


def _equity_chart(dimension: Any) -> Chart:
    labels = [c.label for c in dimension.categories]
    alt = (
        f"Paired bar chart for {dimension.label.lower()}: share of referrals against share of {dimension.comparator}. "
        + "; ".join(f"{c.label}: {c.referral_share.text} vs {c.population_share.text}" for c in dimension.categories)
    )
    return charts.paired_bars(
        labels,
        ("Referrals", [_v(c.referral_share) for c in dimension.categories]),
        (dimension.comparator.capitalize(), [_v(c.population_share) for c in dimension.categories]),
        alt=alt,
        axis_label="Per cent",
        suffix="%",
    )


def _outcome_chart(section: Any) -> Chart | None:
    rows = [o for o in section.rows if o.mean_change.shown and o.ci_lower.shown and o.ci_upper.shown and o.computed]
    if not rows:
        return None
    alt = "Chart of the average change per person with 95% confidence intervals. " + "; ".join(
        f"{o.label}: {o.mean_change.text} ({o.ci_lower.text} to {o.ci_upper.text})" for o in rows
    )
    return charts.intervals(
        [o.label for o in rows],
        [o.mean_change.value for o in rows],
        [o.ci_lower.value for o in rows],
        [o.ci_upper.value for o in rows],
        alt=alt,
        axis_label="Average change (follow-up minus start)",
    )


def pcn_charts(report: PcnReport) -> dict[str, Chart | None]:
    result: dict[str, Chart | None] = {
        "practices": _bars(
            [(p.name, p.rate) for p in report.practice_rates],
            f"Bar chart of referrals per 1,000 registered patients by practice, {report.year_label}. "
            f"PCN: {report.pcn_rate_12m.text}.",
            "Referrals per 1,000 patients (12 months)",
            ("PCN", report.pcn_rate_12m),
        ),
        "trend": _trend_chart(report.trend, report.pcn_name),
        "waits": _wait_chart(report.trend),
        "sources": _bars(
            [(s.label, s.share) for s in report.sources.items],
            "Bar chart of the share of referrals by who referred, last 12 months.",
            "Share of referrals (%)",
        ),
        "reasons": _bars(
            [(s.label, s.share) for s in report.reasons],
            "Bar chart of the share of referrals giving each reason, last 12 months.",
            "Share of referrals (%)",
        ),
        "discharges": _bars(
            [(s.label, s.share) for s in report.activity.discharge_reasons.items],
            "Bar chart of the reasons people were discharged, last 12 months, as a share of discharges.",
            "Share of discharges (%)",
        ),
        "quality": _quality_chart(report.data_quality, report.month_label),
        "outcomes": _outcome_chart(report.outcomes),
        "gp_change": None,
    }
    if report.gp_change:
        cohorts = report.gp_change.cohorts
        result["gp_change"] = charts.paired_bars(
            [c.label for c in cohorts],
            ("Before referral", [_v(c.before) for c in cohorts]),
            ("After referral", [_v(c.after) for c in cohorts]),
            alt="Paired bar chart of GP appointments per person in the six months before and after referral. "
            + "; ".join(f"{c.label}: {c.before.text} before, {c.after.text} after" for c in cohorts),
            axis_label="GP appointments per person (6 months)",
            places=1,
        )
    for dimension in report.equity:
        result[f"equity_{dimension.dimension}"] = _equity_chart(dimension)
    return result


def icb_charts(summary: IcbSummary) -> dict[str, Chart | None]:
    return {
        "pcns": _bars(
            [(p.pcn_name, p.rate_12m) for p in summary.pcns],
            f"Bar chart of referrals per 1,000 registered patients by PCN, {summary.year_label}. "
            f"ICB: {summary.icb_rate_12m.text}.",
            "Referrals per 1,000 patients (12 months)",
            ("ICB", summary.icb_rate_12m),
        ),
        "trend": _trend_chart(summary.trend, f"ICB {summary.icb_name}"),
        "sources": _bars(
            [(s.label, s.share) for s in summary.sources.items],
            "Bar chart of the share of referrals by who referred, last 12 months.",
            "Share of referrals (%)",
        ),
        "outcomes": _outcome_chart(summary.outcomes),
    }


# ---- documents ------------------------------------------------------------------------------------
def _comparison_labels(month: Any) -> dict[str, str]:
    return {
        "last_month_label": month_label(add_months(month, -1)),
        "last_year_label": month_label(add_months(month, -12)),
    }


def pcn_html(report: PcnReport) -> str:
    return (
        _environment()
        .get_template("pcn_report.html.j2")
        .render(
            r=report,
            charts=pcn_charts(report),
            activity_labels=ACTIVITY_LABELS,
            component_labels=COMPONENT_LABELS,
            **_comparison_labels(report.month),
        )
    )


def icb_html(summary: IcbSummary) -> str:
    return (
        _environment()
        .get_template("icb_summary.html.j2")
        .render(
            s=summary,
            charts=icb_charts(summary),
            component_labels=COMPONENT_LABELS,
            period=f"{summary.month:%Y-%m}",
            **_comparison_labels(summary.month),
        )
    )


def pdf_bytes(html: str) -> bytes:
    """The same HTML through WeasyPrint (print stylesheet: A4, page numbers, sections on new pages); the PDF's
    title is the HTML's <title>."""
    import weasyprint

    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    document = weasyprint.HTML(string=html).render()
    document.metadata.created = None
    document.metadata.modified = None
    return document.write_pdf()
