"""Schedules run last month's cycle on the Nth working day (bank holidays skipped); failed runs raise alerts."""

import json
import threading
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import dagster as dg
import duckdb
import pytest

from orchestration.schedules import monthly_cycle_request
from orchestration.working_days import is_working_day, nth_working_day, working_days_after


@pytest.mark.parametrize(
    ("year", "month", "n", "expected"),
    [
        (2026, 10, 5, date(2026, 10, 7)),  # 1 Oct 2026 is a Thursday
        (2026, 6, 1, date(2026, 6, 1)),
        (2025, 5, 1, date(2025, 5, 1)),  # May Day is Monday 5 May
        (2025, 5, 3, date(2025, 5, 6)),  # … so the 3rd working day skips it
        (2026, 1, 1, date(2026, 1, 2)),  # New Year's Day
        (2026, 4, 1, date(2026, 4, 1)),
        (2026, 4, 3, date(2026, 4, 7)),  # Good Friday 3 April and Easter Monday 6 April 2026
        (2026, 12, 1, date(2026, 12, 1)),
        (2027, 1, 1, date(2027, 1, 4)),  # New Year's Day on a Friday, then a weekend
    ],
)
def test_nth_working_day(year, month, n, expected):
    assert nth_working_day(year, month, n) == expected


def test_substitute_bank_holiday_and_deadline_arithmetic():
    assert not is_working_day(date(2026, 12, 28))  # Boxing Day (substitute) 2026
    assert is_working_day(date(2026, 12, 29))
    # the 10th working day after the end of November 2026: December has no holiday before the 25th
    assert working_days_after(date(2026, 11, 30), 10) == date(2026, 12, 14)


def at_seven(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 7, 0)


def test_schedule_runs_last_month_on_the_due_day_only():
    request = monthly_cycle_request(at_seven(date(2026, 10, 7)), 5)
    assert isinstance(request, dg.RunRequest) and request.partition_key == "2026-09-01"
    assert request.run_key == "monthly_cycle:2026-09"
    assert isinstance(monthly_cycle_request(at_seven(date(2026, 10, 6)), 5), dg.SkipReason)
    assert isinstance(monthly_cycle_request(at_seven(date(2026, 10, 8)), 5), dg.SkipReason)


def test_run_due_on_a_bank_holiday_moves_to_the_next_working_day():
    # April 2026: 1, 2 are working days, 3 (Good Friday) and 6 (Easter Monday) are not: day 3 is the 7th
    assert isinstance(monthly_cycle_request(at_seven(date(2026, 4, 6)), 3), dg.SkipReason)
    request = monthly_cycle_request(at_seven(date(2026, 4, 7)), 3)
    assert isinstance(request, dg.RunRequest) and request.partition_key == "2026-03-01"


def test_schedule_definition_evaluates_through_dagster(monkeypatch):
    from orchestration.definitions import defs

    monkeypatch.setenv("SPRX_CYCLE_WORKING_DAY", "5")
    schedule = defs.resolve_schedule_def("monthly_cycle_schedule")
    assert schedule.execution_timezone == "Europe/London"
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=at_seven(date(2026, 10, 7)),
            repository_def=defs.get_repository_def(),
        )
        result = schedule.evaluate_tick(context)
    assert [r.partition_key for r in result.run_requests] == ["2026-09-01"]


class _Webhook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        _Webhook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_failed_run_is_recorded_in_meta_alerts_and_sent(sprx_env, monkeypatch):
    """A monthly cycle with no reference data fails; the failure sensor records and sends the alert."""
    from orchestration.alerts import run_failure_alert
    from orchestration.definitions import defs

    server = HTTPServer(("127.0.0.1", 0), _Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("SPRX_ALERT_WEBHOOK", f"http://127.0.0.1:{server.server_port}/alerts")
    (sprx_env["landing"] / "provider_referrals_NLW01_202609.csv").write_text("provider_code\nNLW01\n")
    try:
        with dg.instance_for_test() as instance:
            result = defs.resolve_job_def("ingest").execute_in_process(
                instance=instance, partition_key="2026-09-01", raise_on_error=False
            )
            assert not result.success
            failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
            context = dg.build_run_status_sensor_context(
                sensor_name="run_failure_alert",
                dagster_instance=instance,
                dagster_run=result.dagster_run,
                dagster_event=failure,
            ).for_run_failure()
            run_failure_alert(context)
    finally:
        server.shutdown()
    con = duckdb.connect(str(sprx_env["warehouse"]), read_only=True)
    alerts = con.execute("SELECT job_name, partition_key, message, sent_to FROM meta.alerts").fetchall()
    con.close()
    assert len(alerts) == 1
    job_name, partition, message, sent_to = alerts[0]
    assert (job_name, partition, sent_to) == ("ingest", "2026-09-01", "webhook")
    assert "sprx reference load" in message
    assert _Webhook.received and _Webhook.received[0]["job_name"] == "ingest"
