"""Run-failure alerts: recorded in meta.alerts, and sent by webhook or e-mail when configured.

SPRX_ALERT_WEBHOOK (a URL that receives a JSON POST) and SPRX_ALERT_SMTP_HOST with
SPRX_ALERT_EMAIL_TO (and optionally SPRX_ALERT_SMTP_PORT, SPRX_ALERT_EMAIL_FROM) turn sending on.
"""

from __future__ import annotations

import json
import os
import smtplib
from dataclasses import asdict, dataclass
from datetime import datetime
from email.message import EmailMessage

import dagster as dg
import requests

from orchestration.settings import get_settings
from orchestration.warehouse import write_connection

ALERTS_DDL = """
CREATE TABLE IF NOT EXISTS meta.alerts (
  run_id VARCHAR NOT NULL,
  job_name VARCHAR NOT NULL,
  partition_key VARCHAR,
  failed_at TIMESTAMP NOT NULL,
  message VARCHAR NOT NULL,
  sent_to VARCHAR,
  send_error VARCHAR
)
"""


@dataclass(frozen=True)
class Alert:
    run_id: str
    job_name: str
    partition_key: str | None
    failed_at: datetime
    message: str


def send(alert: Alert) -> tuple[list[str], list[str]]:
    """Send to every configured channel; returns (channels sent, errors): failing to send is recorded, not raised."""
    sent: list[str] = []
    errors: list[str] = []
    webhook = os.environ.get("SPRX_ALERT_WEBHOOK")
    if webhook:
        try:
            response = requests.post(
                webhook, json={**asdict(alert), "failed_at": alert.failed_at.isoformat()}, timeout=10
            )
            response.raise_for_status()
            sent.append("webhook")
        except requests.RequestException as error:
            errors.append(f"webhook: {error}")
    smtp_host = os.environ.get("SPRX_ALERT_SMTP_HOST")
    recipient = os.environ.get("SPRX_ALERT_EMAIL_TO")
    if smtp_host and recipient:
        message = EmailMessage()
        message["Subject"] = f"sprx: {alert.job_name} failed" + (
            f" for {alert.partition_key}" if alert.partition_key else ""
        )
        message["From"] = os.environ.get("SPRX_ALERT_EMAIL_FROM", "sprx@localhost")
        message["To"] = recipient
        message.set_content(f"Run {alert.run_id} failed at {alert.failed_at:%Y-%m-%d %H:%M}.\n\n{alert.message}")
        try:
            with smtplib.SMTP(smtp_host, int(os.environ.get("SPRX_ALERT_SMTP_PORT", "25")), timeout=10) as smtp:
                smtp.send_message(message)
            sent.append("email")
        except (OSError, smtplib.SMTPException) as error:
            errors.append(f"email: {error}")
    return sent, errors


def record(alert: Alert, sent: list[str], errors: list[str]) -> None:
    with write_connection(get_settings().warehouse, timeout_seconds=120) as con:
        con.execute(ALERTS_DDL)
        con.execute(
            "INSERT INTO meta.alerts VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                alert.run_id,
                alert.job_name,
                alert.partition_key,
                alert.failed_at,
                alert.message,
                ",".join(sent) or None,
                "; ".join(errors) or None,
            ],
        )


@dg.run_failure_sensor(
    name="run_failure_alert",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records every failed run in meta.alerts and sends it by webhook or e-mail when configured.",
)
def run_failure_alert(context: dg.RunFailureSensorContext) -> None:
    run = context.dagster_run
    step_errors = []
    for event in context.get_step_failure_events():
        error = event.event_specific_data.error if event.event_specific_data else None
        messages = []
        while error is not None:  # the step's error and its causes, innermost last
            messages.append(error.message.strip())
            error = error.cause
        if messages:
            step_errors.append(f"{event.step_key}: " + " <- ".join(messages))
    message = "\n".join(step_errors) or (context.failure_event.message or "run failed")
    alert = Alert(
        run_id=run.run_id,
        job_name=run.job_name,
        partition_key=run.tags.get("dagster/partition")
        or (
            f"{run.tags.get('dagster/asset_partition_range_start')}..{run.tags.get('dagster/asset_partition_range_end')}"
            if run.tags.get("dagster/asset_partition_range_start")
            else None
        ),
        failed_at=datetime.now(),
        message=message[:4000],
    )
    sent, errors = send(alert)
    record(alert, sent, errors)
    context.log.info(json.dumps({"alert": alert.run_id, "sent": sent, "errors": errors}))
