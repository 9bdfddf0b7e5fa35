"""Notifications posted to a webhook receiver on 127.0.0.1: the messages, sending once, retries,
and keeping the webhook URL (its secret) out of logs and outputs."""

from __future__ import annotations

import json
import logging
import shutil
import socket
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from dagster import DagsterInstance, build_sensor_context
from snapshot_data import raw_runs
from test_changes import S1, S2, S3, B, make_report, run_sequence, sequence_reports
from test_checks import U8B24K, _runs_without_newest

from forge_status_pipeline.changes import Change, load_changes, record_and_compare
from forge_status_pipeline.cli import main
from forge_status_pipeline.config import ForgeConfig
from forge_status_pipeline.definitions import build_definitions
from forge_status_pipeline.defs.operations import WebhooksResource
from forge_status_pipeline.defs.resources import ForgeStatusPaths
from forge_status_pipeline.demo import SNAPSHOT_NOW
from forge_status_pipeline.notify import Webhook, deliver, deliver_change_list, webhooks_from_env
from forge_status_pipeline.notify_state import STATE_FILE, load_state
from forge_status_pipeline.site import write_atomic
from forge_status_pipeline.testing.github_server import GitHubReplayServer

SLACK_SECRET = "T0SECRET/B0SECRET/xoxSLACKSECRETTOKEN"
DISCORD_SECRET = "424242/DISCORDSECRETTOKEN"
SLACK_PATH = f"/services/{SLACK_SECRET}"
DISCORD_PATH = f"/api/webhooks/{DISCORD_SECRET}"
GENERATOR_COMMIT = "https://github.com/acme/forge/commit/"
PAGE = "https://acme.github.io/forge/"
CE7B0F5 = "ce7b0f5269494f02b747efbb94162b305eb5f8c8"


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 that records POSTed JSON and responds with queued statuses."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.statuses: deque[tuple[int, dict[str, str]]] = deque()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                status, headers = receiver.statuses.popleft() if receiver.statuses else (200, {})
                if status < 300:
                    receiver.posts.append((self.path, body))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def answer(self, status: int, times: int = 1, headers: dict[str, str] | None = None) -> None:
        for _ in range(times):
            self.statuses.append((status, headers or {}))

    def messages(self, path: str) -> list[str]:
        """Return the text of each message posted to ``path``: Slack's text or Discord's content."""
        return [
            body["text"] if "text" in body else body["content"]
            for posted_path, body in self.posts
            if posted_path == path
        ]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def webhooks(receiver: WebhookReceiver) -> list[Webhook]:
    return [
        Webhook("slack", receiver.url(SLACK_PATH)),
        Webhook("discord", receiver.url(DISCORD_PATH)),
    ]


class RecordedSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


# The messages for the sequence in test_changes, written out by hand.
SLACK_BROKEN = (
    f"🔴 *b2 (acme/chip-b)* broke at generator commit <{GENERATOR_COMMIT}{S2}|2222222> "
    "“Move the &lt;pins&gt; &amp; rename”. "
    f"Last passed at <{GENERATOR_COMMIT}{S1}|1111111>. "
    "Failing runs: <https://github.com/acme/chip-b/actions/runs/202|Build &lt;GDS&gt; (failure)>. "
    f"<{PAGE}|Status page>"
)
SLACK_STILL_BROKEN = (
    f"🟠 *b2 (acme/chip-b)* still fails at generator commit <{GENERATOR_COMMIT}{S3}|3333333> "
    "“Fix the pin order”. "
    f"It also failed at <{GENERATOR_COMMIT}{S2}|2222222>. "
    "Failing runs: <https://github.com/acme/chip-b/actions/runs/302|Build &lt;GDS&gt; (failure)>. "
    f"<{PAGE}|Status page>"
)
SLACK_FIXED = (
    f"🟢 *b2 (acme/chip-b)* passes again at generator commit <{GENERATOR_COMMIT}{S3}|3333333> "
    "“Fix the pin order”. It failed there before a re-run. "
    "Runs: <https://github.com/acme/chip-b/actions/runs/302|Build &lt;GDS&gt; (success)>. "
    f"<{PAGE}|Status page>"
)
SLACK_GREEN = (
    f"✅ Generator commit <{GENERATOR_COMMIT}{S3}|3333333> “Fix the pin order” passes in all 2 "
    f"repos rebuilt from it. <{PAGE}|Status page>"
)
DISCORD_BROKEN = (
    rf"🔴 **b2 \(acme/chip\-b\)** broke at generator commit [2222222](<{GENERATOR_COMMIT}{S2}>) "
    r"“Move the \<pins\> & rename”. "
    rf"Last passed at [1111111](<{GENERATOR_COMMIT}{S1}>). "
    r"Failing runs\: [Build \<GDS\> \(failure\)]"
    r"(<https://github.com/acme/chip-b/actions/runs/202>). "
    f"[Status page](<{PAGE}>)"
)
DISCORD_GREEN = (
    rf"✅ Generator commit [3333333](<{GENERATOR_COMMIT}{S3}>) “Fix the pin order” passes in all 2 "
    f"repos rebuilt from it. [Status page](<{PAGE}>)"
)


def notify_sequence(site_dir: Path, webhooks: list[Webhook]) -> dict[str, list[str]]:
    """Refresh through the sequence, delivering after each report; return ids sent per report."""
    sent: dict[str, list[str]] = {}
    for name, report in sequence_reports():
        record_and_compare(site_dir, report)
        delivery = deliver_change_list(site_dir, webhooks, sleep=RecordedSleep())
        sent[name] = [change_id for channel, change_id in delivery.sent if channel == "slack"]
    return sent


def test_sequence_sends_exact_messages(
    tmp_path: Path, receiver: WebhookReceiver, webhooks: list[Webhook]
) -> None:
    sent = notify_sequence(tmp_path, webhooks)

    assert sent == {
        "R1": [],
        "R2": [],
        "R3": [f"broken:{B}:{S2}"],
        "R4": [],
        "R5": [f"still_broken:{B}:{S3}"],
        "R6": [],
        "R7": [f"fixed:{B}:{S3}", f"green:{S3}"],
    }
    assert receiver.messages(SLACK_PATH) == [
        SLACK_BROKEN,
        SLACK_STILL_BROKEN,
        SLACK_FIXED,
        SLACK_GREEN,
    ]
    discord = receiver.messages(DISCORD_PATH)
    assert len(discord) == 4
    assert discord[0] == DISCORD_BROKEN
    assert discord[3] == DISCORD_GREEN


def test_payload_options_per_channel(
    tmp_path: Path, receiver: WebhookReceiver, webhooks: list[Webhook]
) -> None:
    notify_sequence(tmp_path, webhooks)
    slack_body = next(body for path, body in receiver.posts if path == SLACK_PATH)
    discord_body = next(body for path, body in receiver.posts if path == DISCORD_PATH)

    assert slack_body["unfurl_links"] is False
    assert discord_body["allowed_mentions"] == {"parse": []}


def test_hostile_subject_is_escaped(receiver: WebhookReceiver) -> None:
    change = Change(
        id=f"broken:{B}:{S2}",
        kind="broken",
        forge_sha=S2,
        subject="@everyone <!channel> [x](https://evil.example) **bold** <https://evil.example|y>",
        repo=B,
        detected_at=datetime(2025, 12, 2, tzinfo=UTC),
    )
    slack = Webhook("slack", receiver.url(SLACK_PATH)).payload(change, "acme/forge", None)["text"]
    discord = Webhook("discord", receiver.url(DISCORD_PATH)).payload(change, "acme/forge", None)

    assert "<!channel>" not in slack
    assert "&lt;!channel&gt;" in slack
    assert "<https://evil.example|y>" not in slack
    assert r"\@everyone" in discord["content"]
    assert "[x](https://evil.example)" not in discord["content"]
    assert r"\*\*bold\*\*" in discord["content"]


def test_no_duplicate_after_restart(
    tmp_path: Path, receiver: WebhookReceiver, webhooks: list[Webhook]
) -> None:
    notify_sequence(tmp_path, webhooks)
    posted = len(receiver.posts)
    env = {
        "PATH": "",
        "SLACK_WEBHOOK_URL": receiver.url(SLACK_PATH),
        "DISCORD_WEBHOOK_URL": receiver.url(DISCORD_PATH),
    }
    write_atomic(tmp_path / "status.json", sequence_reports()[-1][1].model_dump_json())

    completed = subprocess.run(
        [sys.executable, "-m", "forge_status_pipeline.cli", "notify", "--site-dir", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert completed.returncode == 0, completed.stderr
    assert "sent 0 messages (slack, discord)" in completed.stdout
    assert len(receiver.posts) == posted
    assert SLACK_SECRET not in completed.stdout + completed.stderr
    assert DISCORD_SECRET not in completed.stdout + completed.stderr


def test_server_error_sent_next_refresh(
    tmp_path: Path, receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    slack = [Webhook("slack", receiver.url(SLACK_PATH))]
    reports = dict(sequence_reports())
    for name in ("R1", "R2", "R3"):
        record_and_compare(tmp_path, reports[name])
    receiver.answer(500, times=3)
    sleep = RecordedSleep()

    failed = deliver_change_list(tmp_path, slack, sleep=sleep)

    assert failed.sent == []
    assert [(channel, change_id) for channel, change_id, _ in failed.failed] == [
        ("slack", f"broken:{B}:{S2}")
    ]
    assert failed.failed[0][2].startswith("HTTP 500")
    assert failed.queued == [f"broken:{B}:{S2}"]
    assert sleep.delays == [2.0, 8.0]
    assert receiver.posts == []
    assert "could not send broken:" in caplog.text

    # The next refresh has no new change, but the queued one is sent, once.
    record_and_compare(tmp_path, reports["R4"])
    retried = deliver_change_list(tmp_path, slack, sleep=sleep)
    again = deliver_change_list(tmp_path, slack, sleep=sleep)

    assert retried.sent == [("slack", f"broken:{B}:{S2}")]
    assert retried.queued == []
    assert again.sent == []
    assert receiver.messages(SLACK_PATH) == [SLACK_BROKEN]


def test_rate_limit_waits_retry_after(tmp_path: Path, receiver: WebhookReceiver) -> None:
    slack = [Webhook("slack", receiver.url(SLACK_PATH))]
    run_sequence(tmp_path)
    receiver.answer(429, headers={"Retry-After": "3"})
    sleep = RecordedSleep()

    delivery = deliver_change_list(tmp_path, slack, sleep=sleep)

    assert sleep.delays == [3.0]
    assert [change_id for _, change_id in delivery.sent] == [f"fixed:{B}:{S3}", f"green:{S3}"]


def test_client_error_is_not_retried(tmp_path: Path, receiver: WebhookReceiver) -> None:
    webhooks = [
        Webhook("slack", receiver.url(SLACK_PATH)),
        Webhook("discord", receiver.url(DISCORD_PATH)),
    ]
    run_sequence(tmp_path)
    receiver.answer(404)
    sleep = RecordedSleep()

    delivery = deliver_change_list(tmp_path, webhooks, sleep=sleep)

    assert sleep.delays == []
    # Slack stops at its first failure; Discord still gets both changes.
    assert delivery.failed[0][:2] == ("slack", f"fixed:{B}:{S3}")
    assert delivery.sent == [("discord", f"fixed:{B}:{S3}"), ("discord", f"green:{S3}")]
    assert delivery.queued == [f"fixed:{B}:{S3}", f"green:{S3}"]
    state, problem = load_state(tmp_path / STATE_FILE)
    assert problem is None
    assert state.sent["discord"] == [f"fixed:{B}:{S3}", f"green:{S3}"]
    assert state.sent["slack"] == []


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_webhook_url_never_logged(
    tmp_path: Path, receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    unreachable = f"http://127.0.0.1:{_closed_port()}{DISCORD_PATH}"
    webhooks = [Webhook("slack", receiver.url(SLACK_PATH)), Webhook("discord", unreachable)]
    run_sequence(tmp_path)
    receiver.answer(500)

    delivery = deliver_change_list(tmp_path, webhooks, sleep=RecordedSleep())
    invalid = webhooks_from_env({"SLACK_WEBHOOK_URL": f"http://hooks.example.invalid{SLACK_PATH}"})

    outputs = [
        caplog.text,
        repr(delivery),
        repr(webhooks),
        (tmp_path / STATE_FILE).read_text(),
        (tmp_path / "changes.json").read_text(),
    ]
    assert invalid == []
    assert len(delivery.sent) == 2
    assert delivery.failed[0][0] == "discord"
    assert "ConnectionError" in delivery.failed[0][2]
    # urllib3 logged the request line, with the path redacted.
    assert '"POST [redacted] HTTP/1.1" 500' in caplog.text
    for output in outputs:
        assert SLACK_SECRET not in output
        assert DISCORD_SECRET not in output
        assert "SECRET" not in output


def test_no_webhook_sends_nothing(tmp_path: Path) -> None:
    run_sequence(tmp_path)

    delivery = deliver_change_list(tmp_path, webhooks_from_env({}))

    assert delivery.skipped_reason is not None
    assert delivery.sent == []
    assert not (tmp_path / STATE_FILE).exists()


def test_unreadable_state_sends_nothing(
    tmp_path: Path, receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    slack = [Webhook("slack", receiver.url(SLACK_PATH))]
    run_sequence(tmp_path)
    (tmp_path / STATE_FILE).write_text("[1, 2", encoding="utf-8")

    first = deliver_change_list(tmp_path, slack)
    second = deliver_change_list(tmp_path, slack)

    assert first.sent == []
    assert second.sent == []
    assert receiver.posts == []
    state, problem = load_state(tmp_path / STATE_FILE)
    assert problem is None
    assert state.sent["slack"] == [f"fixed:{B}:{S3}", f"green:{S3}"]
    assert "marking the 2 current changes as sent" in caplog.text


def test_state_keeps_channels_apart(tmp_path: Path, receiver: WebhookReceiver) -> None:
    changes_path = tmp_path / "changes.json"
    run_sequence(tmp_path)
    change_list = load_changes(changes_path)
    assert change_list is not None
    slack = Webhook("slack", receiver.url(SLACK_PATH))
    discord = Webhook("discord", receiver.url(DISCORD_PATH))

    deliver(change_list.changes[:1], tmp_path / STATE_FILE, [slack], generator=None, site_url=None)
    both = deliver(
        change_list.changes, tmp_path / STATE_FILE, [slack, discord], generator=None, site_url=None
    )

    assert both.sent == [
        ("slack", f"green:{S3}"),
        ("discord", f"fixed:{B}:{S3}"),
        ("discord", f"green:{S3}"),
    ]


def test_cli_notify_first_sighting(
    tmp_path: Path, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", receiver.url(SLACK_PATH))
    report = make_report([], datetime(2025, 12, 1, tzinfo=UTC))
    write_atomic(tmp_path / "status.json", report.model_dump_json())

    result = CliRunner().invoke(main, ["notify", "--site-dir", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert "first sighting" in result.output
    assert "sent 0 messages (slack)" in result.output
    assert SLACK_SECRET not in result.output
    assert (tmp_path / "history.json").is_file()


def test_cli_notify_without_report(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["notify", "--site-dir", str(tmp_path)])

    assert result.exit_code == 1
    assert "status.json not found" in result.output


def test_sensor_launches_notify_job(
    tmp_path: Path,
    receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
    github_server: GitHubReplayServer,
    config_copy: Path,
    config: ForgeConfig,
) -> None:
    """Two scheduled refreshes, then the sensor and the notify job as a deployment runs them."""
    site_dir = tmp_path / "site"
    monkeypatch.setenv("GITHUB_API_URL", github_server.url)
    monkeypatch.setenv("FORGE_STATUS_CONFIG", str(config_copy))
    monkeypatch.setenv("FORGE_STATUS_SITE_DIR", str(site_dir))
    monkeypatch.setenv("SLACK_WEBHOOK_URL", receiver.url(SLACK_PATH))
    instance = DagsterInstance.ephemeral()
    defs = build_definitions()
    refresh = defs.resolve_job_def("forge_status_job")
    sensor = defs.resolve_sensor_def("status_change_notification_sensor")

    # First refresh: u8b24k's two newest builds are missing, so it still fails at 65b5952.
    full_runs = raw_runs(U8B24K)
    github_server.set_runs("mithro", "gf180mcu-ic-1x1-sram-u8b24k", _runs_without_newest(config))
    monkeypatch.setenv("FORGE_STATUS_NOW", "2025-12-16T02:00:00Z")
    assert refresh.execute_in_process(instance=instance).success
    first = _evaluate(sensor, instance, receiver)

    # Second refresh: the builds appear, and u8b24k passes again at ce7b0f5.
    github_server.set_runs("mithro", "gf180mcu-ic-1x1-sram-u8b24k", full_runs)
    monkeypatch.setenv("FORGE_STATUS_NOW", SNAPSHOT_NOW)
    second_refresh = refresh.execute_in_process(instance=instance)
    second = _evaluate(sensor, instance, receiver)
    change_list = load_changes(site_dir / "changes.json")
    notify_run = defs.resolve_job_def("forge_status_notify_job").execute_in_process(
        instance=instance
    )
    after = _evaluate(sensor, instance, receiver)
    without_webhook = _evaluate(sensor, instance, None)

    assert first.skip_message == "all 0 changes were already sent"
    assert change_list is not None
    assert [change.id for change in change_list.changes] == [f"fixed:{U8B24K}:{CE7B0F5}"]
    assert [request.run_key for request in second.run_requests or []] == [
        f"status_changes:{second_refresh.run_id}"
    ]
    assert notify_run.success
    (message,) = receiver.messages(SLACK_PATH)
    assert message.startswith("🟢 *u8b24k (mithro/gf180mcu-ic-1x1-sram-u8b24k)* passes again")
    assert after.skip_message == "all 1 changes were already sent"
    assert without_webhook.skip_message is not None
    assert without_webhook.skip_message.startswith("no webhook configured")


def _evaluate(sensor: Any, instance: DagsterInstance, receiver: WebhookReceiver | None) -> Any:
    """Evaluate the sensor once, from no cursor, as its next tick after a materialization."""
    webhooks = (
        WebhooksResource(slack_webhook_url=receiver.url(SLACK_PATH))
        if receiver is not None
        else WebhooksResource()
    )
    context = build_sensor_context(
        instance=instance, resources={"paths": ForgeStatusPaths(), "webhooks": webhooks}
    )
    return sensor.evaluate_tick(context)


def _refresh(monkeypatch: pytest.MonkeyPatch, folder: Path, now: str, instance: Any) -> None:
    """Run the scheduled job once with its site in ``folder/site`` and its cache beside it."""
    monkeypatch.setenv("FORGE_STATUS_SITE_DIR", str(folder / "site"))
    monkeypatch.setenv("FORGE_STATUS_CACHE_DIR", str(folder / "cache"))
    monkeypatch.setenv("FORGE_STATUS_NOW", now)
    job = build_definitions().resolve_job_def("forge_status_job")
    assert job.execute_in_process(instance=instance).success


def test_fresh_runner_matches_deployment(
    tmp_path: Path,
    receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
    github_server: GitHubReplayServer,
    config_copy: Path,
    config: ForgeConfig,
) -> None:
    """A long-running deployment and two fresh CI runners see the same two refreshes."""
    monkeypatch.setenv("GITHUB_API_URL", github_server.url)
    monkeypatch.setenv("FORGE_STATUS_CONFIG", str(config_copy))
    full_runs = raw_runs(U8B24K)
    trimmed_runs = _runs_without_newest(config)
    deployment = tmp_path / "deployment"
    deployment_instance = DagsterInstance.ephemeral()
    deployment_path = "/services/DEPLOYMENT"
    runner_path = "/services/RUNNER"

    def notify_deployment() -> None:
        monkeypatch.setenv("FORGE_STATUS_SITE_DIR", str(deployment / "site"))
        monkeypatch.setenv("SLACK_WEBHOOK_URL", receiver.url(deployment_path))
        job = build_definitions().resolve_job_def("forge_status_notify_job")
        assert job.execute_in_process(instance=deployment_instance).success

    def notify_runner(folder: Path) -> None:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", receiver.url(runner_path))
        result = CliRunner().invoke(main, ["notify", "--site-dir", str(folder / "site")])
        assert result.exit_code == 0, result.output

    # First refresh: u8b24k still fails at 65b5952.
    github_server.set_runs("mithro", "gf180mcu-ic-1x1-sram-u8b24k", trimmed_runs)
    _refresh(monkeypatch, deployment, "2025-12-16T02:00:00Z", deployment_instance)
    notify_deployment()
    _refresh(monkeypatch, tmp_path / "runner1", "2025-12-16T02:00:00Z", DagsterInstance.ephemeral())
    notify_runner(tmp_path / "runner1")

    # The second runner starts from the two files the workflow restores from the published site.
    runner2_site = tmp_path / "runner2" / "site"
    runner2_site.mkdir(parents=True)
    for name in ("history.json", STATE_FILE):
        shutil.copy(tmp_path / "runner1" / "site" / name, runner2_site / name)

    # Second refresh: u8b24k passes again at ce7b0f5.
    github_server.set_runs("mithro", "gf180mcu-ic-1x1-sram-u8b24k", full_runs)
    _refresh(monkeypatch, deployment, SNAPSHOT_NOW, deployment_instance)
    notify_deployment()
    _refresh(monkeypatch, tmp_path / "runner2", SNAPSHOT_NOW, DagsterInstance.ephemeral())
    notify_runner(tmp_path / "runner2")

    deployment_changes = load_changes(deployment / "site" / "changes.json")
    runner_changes = load_changes(runner2_site / "changes.json")
    assert deployment_changes is not None
    assert [change.id for change in deployment_changes.changes] == [f"fixed:{U8B24K}:{CE7B0F5}"]
    assert runner_changes == deployment_changes
    assert len(receiver.messages(runner_path)) == 1
    assert receiver.messages(runner_path) == receiver.messages(deployment_path)
    deployment_history = json.loads((deployment / "site" / "history.json").read_text())
    runner_history = json.loads((runner2_site / "history.json").read_text())
    assert runner_history == deployment_history
