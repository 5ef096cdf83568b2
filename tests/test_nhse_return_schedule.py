"""The NHS England return's deadlines, Primary/Refresh choice, schedule and validation rules (no warehouse)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import dagster as dg
import pytest

from orchestration.assets.nhse_return import NHSE_RETURN_OP, nhse_return_requests
from reports.nhse_return import SubmissionError, SubmissionType, determine_submission, load_catalogue
from reports.nhse_return.extract import MISSING, Cell, MonthData, OrgRow
from reports.nhse_return.submission import submission_deadline
from reports.nhse_return.validation import JUMP_FLAG, JumpSettings, validate

CATALOGUE = load_catalogue()


@pytest.mark.parametrize(
    ("month", "kind", "deadline"),
    [
        (date(2026, 9, 1), SubmissionType.PRIMARY, date(2026, 10, 14)),  # 1 Oct is a Thursday
        (date(2026, 9, 1), SubmissionType.REFRESH, date(2026, 11, 13)),
        (date(2026, 3, 1), SubmissionType.PRIMARY, date(2026, 4, 16)),  # Good Friday 3 Apr, Easter Monday 6 Apr
        (date(2026, 4, 1), SubmissionType.PRIMARY, date(2026, 5, 15)),  # early May bank holiday, Monday 4 May
        (date(2026, 11, 1), SubmissionType.REFRESH, date(2027, 1, 15)),  # New Year's Day, Friday 1 Jan 2027
        (date(2026, 12, 1), SubmissionType.PRIMARY, date(2027, 1, 15)),
    ],
)
def test_deadline_is_the_tenth_working_day_without_bank_holidays(month, kind, deadline):
    assert submission_deadline(month, kind) == deadline


def test_submission_follows_the_date_unless_named():
    september = date(2026, 9, 1)
    assert determine_submission(september, date(2026, 10, 1)).type is SubmissionType.PRIMARY
    on_deadline = determine_submission(september, date(2026, 10, 14))
    assert on_deadline.type is SubmissionType.PRIMARY and on_deadline.on_time
    after = determine_submission(september, date(2026, 10, 15))
    assert after.type is SubmissionType.REFRESH and after.deadline == date(2026, 11, 13) and after.on_time
    late = determine_submission(september, date(2026, 11, 16))
    assert late.type is SubmissionType.REFRESH and not late.on_time
    named = determine_submission(september, date(2026, 11, 16), "primary")
    assert named.type is SubmissionType.PRIMARY and not named.on_time
    with pytest.raises(SubmissionError, match="month ends on 2026-09-30"):
        determine_submission(september, date(2026, 9, 30))
    with pytest.raises(SubmissionError, match="primary, refresh or auto"):
        determine_submission(september, date(2026, 10, 2), "final")


def at_seven(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 7, 0)


def test_schedule_requests_last_months_primary_and_the_refresh_before_it():
    # October 2026: working day 8 is Monday 12 October (1 Oct is a Thursday)
    requests = nhse_return_requests(at_seven(date(2026, 10, 12)), 8)
    assert isinstance(requests, list)
    assert [(r.partition_key, r.run_key) for r in requests] == [
        ("2026-09-01", "nhse_return:primary:2026-09"),
        ("2026-08-01", "nhse_return:refresh:2026-08"),
    ]
    configs = [r.run_config["ops"][NHSE_RETURN_OP]["config"] for r in requests]
    assert configs == [
        {"submission": "primary", "published": True, "as_of": "2026-10-12"},
        {"submission": "refresh", "published": True, "as_of": "2026-10-12"},
    ]
    for day in (date(2026, 10, 9), date(2026, 10, 13)):
        assert isinstance(nhse_return_requests(at_seven(day), 8), dg.SkipReason)


@pytest.mark.parametrize(
    ("holiday", "due", "primary"),
    [
        (date(2026, 4, 6), date(2026, 4, 14), "2026-03-01"),  # Easter: working day 8 moves to Tuesday 14 April
        (date(2026, 5, 4), date(2026, 5, 13), "2026-04-01"),  # early May bank holiday
        (date(2027, 1, 1), date(2027, 1, 13), "2026-12-01"),  # New Year's Day
    ],
)
def test_a_run_due_across_a_bank_holiday_moves_on(holiday, due, primary):
    assert isinstance(nhse_return_requests(at_seven(holiday), 8), dg.SkipReason)
    assert isinstance(nhse_return_requests(at_seven(due.replace(day=due.day - 1)), 8), dg.SkipReason)
    requests = nhse_return_requests(at_seven(due), 8)
    assert isinstance(requests, list) and requests[0].partition_key == primary
    assert submission_deadline(date.fromisoformat(primary), SubmissionType.PRIMARY) > due  # ready before it


def test_schedule_definition_evaluates_through_dagster(monkeypatch):
    from orchestration.definitions import defs

    monkeypatch.setenv("SPRX_RETURN_WORKING_DAY", "8")
    schedule = defs.resolve_schedule_def("nhse_return_schedule")
    assert schedule.execution_timezone == "Europe/London" and schedule.job_name == "nhse_return"
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=at_seven(date(2026, 10, 12)),
            repository_def=defs.get_repository_def(),
        )
        result = schedule.evaluate_tick(context)
    assert sorted(r.partition_key for r in result.run_requests) == ["2026-08-01", "2026-09-01"]
    monkeypatch.setenv("SPRX_RETURN_WORKING_DAY", "11")
    with pytest.raises(ValueError, match="from 1 to 10"):
        from orchestration.assets.nhse_return import return_working_day

        return_working_day()


def organisation(org_type: str, code: str, **values) -> OrgRow:
    """An organisation whose every catalogue measure is a consistent small default, overridden by `values`."""
    defaults = {measure.id: 0 for measure in CATALOGUE.measures}
    defaults.update(registered_patients=1000, caseload_at_start=10, active_caseload=10)
    defaults["median_days_to_first_contact"] = None
    defaults["caseload_per_link_worker"] = None
    defaults.update(values)
    row = OrgRow(org_type, code, None, "QAA" if org_type == "pcn" else None)
    for measure in CATALOGUE.measures:
        value = defaults[measure.id]
        row.cells[measure.id] = Cell(value, [] if value is not None or measure.null_allowed else [MISSING])
    return row


def month_of(*orgs: OrgRow, month: date = date(2026, 9, 1)) -> MonthData:
    return MonthData(month=month, orgs=list(orgs))


def test_consistent_month_passes_and_each_rule_names_its_pcn_and_measures():
    assert validate(month_of(organisation("pcn", "U00001")), None, CATALOGUE).passed
    broken = organisation(
        "pcn", "U00002", referrals_received=5, people_referred=6, discharges=4, discharges_completed=3,
        active_caseload=12,
    )  # fmt: skip
    result = validate(month_of(organisation("pcn", "U00001"), broken), None, CATALOGUE)
    rules = {(finding.rule, finding.org_code) for finding in result.errors}
    assert rules == {
        ("people_referred_within_referrals", "U00002"),
        ("discharge_reasons_sum_to_discharges", "U00002"),
        ("caseload_flow_balances", "U00002"),
    }
    text = "\n".join(str(finding) for finding in result.errors)
    assert (
        "PCN U00002, people_referred, referrals_received: people_referred = 6 is not <= referrals_received = 5" in text
    )


def test_shares_and_rates_outside_their_range_fail():
    result = validate(
        month_of(organisation("pcn", "U00001", referrals_per_1000_patients=Decimal("1200.5"))), None, CATALOGUE
    )
    assert [(f.rule, f.measure_id) for f in result.errors] == [("range", "referrals_per_1000_patients")]


def test_missing_values_fail_completeness_but_allowed_empties_do_not():
    missing = organisation("pcn", "U00003")
    missing.cells["referrals_received"] = Cell(None, [MISSING, "no_provider_return"])
    result = validate(month_of(missing), None, CATALOGUE)
    assert [str(f) for f in result.errors] == [
        "[completeness] PCN U00003, referrals_received: no value (no_provider_return)"
    ]
    assert not validate(month_of(), None, CATALOGUE).passed  # no PCN at all


def test_month_on_month_jumps_are_warnings_flagged_on_the_cell():
    before = month_of(
        organisation("pcn", "U00001", referrals_received=20, people_referred=20, contacts_offered=4, active_caseload=30)
    )

    def now() -> OrgRow:
        # 20 → 31 referrals: +55%, +11; 20 → 29 people: +45%, +9; 4 → 13 contacts: +225%, +9; caseload +37%, +11
        return organisation(
            "pcn", "U00001", referrals_received=31, people_referred=29, contacts_offered=13, active_caseload=41
        )

    current = now()
    result = validate(month_of(current), before, CATALOGUE, JumpSettings(ratio=0.5, min_change=10))
    assert result.passed and result.outcome == "passed_with_warnings"
    assert [(f.rule, f.measure_id) for f in result.warnings] == [("month_on_month_jump", "referrals_received")]
    assert JUMP_FLAG in current.cells["referrals_received"].flags and not current.cells["people_referred"].flags
    stricter = validate(month_of(now()), before, CATALOGUE, JumpSettings(ratio=0.4, min_change=5))
    assert [f.measure_id for f in stricter.warnings] == ["referrals_received", "people_referred", "contacts_offered"]
