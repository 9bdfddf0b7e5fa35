"""Send each change to Slack and Discord incoming webhooks, once.

Which changes went to which channel is kept in ``notify-state.json`` in the site folder. The file
is published with the site, so a fresh CI runner that restores the site does not send a change
again. A post that fails is retried a few times, then left queued for the next refresh. Webhook
URLs contain their secret, so they never reach a log record, an exception or Dagster metadata:
messages name the channel and the host only.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import requests

from forge_status_pipeline.changes import CHANGES_FILE, Change, load_changes
from forge_status_pipeline.notify_messages import message_spans, render_discord, render_slack
from forge_status_pipeline.notify_state import (
    MAX_QUEUED,
    MAX_SENT_IDS,
    STATE_FILE,
    NotifyState,
    load_state,
    unsent_changes,
    write_state,
)

log = logging.getLogger(__name__)

Channel = Literal["slack", "discord"]
WEBHOOK_ENV_VARS: dict[Channel, str] = {
    "slack": "SLACK_WEBHOOK_URL",
    "discord": "DISCORD_WEBHOOK_URL",
}
MAX_ATTEMPTS = 3
# Seconds before the second and third attempt; a 429's Retry-After replaces them, up to the cap.
BACKOFF_SECONDS = (2.0, 8.0)
MAX_RETRY_AFTER_SECONDS = 60.0
TIMEOUT_SECONDS = (5.0, 20.0)
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# urllib3 logs request paths at DEBUG level, and a webhook's path is its secret.
_URL_LOGGING_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.poolmanager")


class InvalidWebhookError(ValueError):
    """A webhook URL that is not https (or http to this machine); the message omits the URL."""


class Webhook:
    """One incoming webhook. ``repr`` and ``str`` show the channel and host, never the URL."""

    def __init__(self, channel: Channel, url: str) -> None:
        parts = urlsplit(url)
        loopback = parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS
        if not parts.hostname or not (parts.scheme == "https" or loopback):
            raise InvalidWebhookError(
                f"the {channel} webhook URL is invalid: it must start with https://"
            )
        self.channel = channel
        self.host = parts.hostname
        self._url = url
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        self._secrets = tuple(secret for secret in (url, path) if len(secret) > 1)

    def __repr__(self) -> str:
        return f"Webhook(channel={self.channel!r}, host={self.host!r})"

    __str__ = __repr__

    @property
    def label(self) -> str:
        return f"{self.channel} webhook at {self.host}"

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text

    def post(self, session: requests.Session, payload: dict[str, Any]) -> requests.Response:
        return session.post(self._url, json=payload, timeout=TIMEOUT_SECONDS, allow_redirects=False)

    def payload(
        self, change: Change, generator: str | None, site_url: str | None
    ) -> dict[str, Any]:
        spans = message_spans(change, generator, site_url)
        if self.channel == "slack":
            return {"text": render_slack(spans), "unfurl_links": False, "unfurl_media": False}
        return {"content": render_discord(spans), "allowed_mentions": {"parse": []}}


def webhooks_from_urls(urls: Mapping[Channel, str | None]) -> list[Webhook]:
    """Build a webhook per channel with a URL; an invalid URL is logged (without it) and skipped."""
    webhooks: list[Webhook] = []
    for channel, url in urls.items():
        if not url:
            continue
        try:
            webhooks.append(Webhook(channel, url))
        except InvalidWebhookError as error:
            log.error("%s; %s changes are not sent there", error, channel)
    return webhooks


def webhooks_from_env(environ: Mapping[str, str] | None = None) -> list[Webhook]:
    """Read SLACK_WEBHOOK_URL and DISCORD_WEBHOOK_URL; unset or empty means no such channel."""
    env = os.environ if environ is None else environ
    return webhooks_from_urls(
        {channel: env.get(name) for channel, name in WEBHOOK_ENV_VARS.items()}
    )


class _RedactingFilter(logging.Filter):
    def __init__(self, webhooks: Sequence[Webhook]) -> None:
        super().__init__()
        self.webhooks = webhooks

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for webhook in self.webhooks:
            message = webhook.redact(message)
        record.msg = message
        record.args = None
        return True


@contextmanager
def _redacted_library_logs(webhooks: Sequence[Webhook]) -> Iterator[None]:
    """Redact webhook URLs from the HTTP library's own log records while posting."""
    redacting = _RedactingFilter(webhooks)
    loggers = [logging.getLogger(name) for name in _URL_LOGGING_LOGGERS]
    for logger in loggers:
        logger.addFilter(redacting)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(redacting)


@dataclass(frozen=True)
class PostResult:
    ok: bool
    attempts: int
    error: str | None = None


def post_with_retries(
    session: requests.Session,
    webhook: Webhook,
    payload: dict[str, Any],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> PostResult:
    """POST ``payload``, retrying timeouts, connection errors, 429 and 5xx up to MAX_ATTEMPTS."""
    error = "not attempted"
    for attempt in range(1, MAX_ATTEMPTS + 1):
        retry_after: float | None = None
        try:
            response = webhook.post(session, payload)
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {webhook.redact(str(exc))}"
            retryable = True
        else:
            if 200 <= response.status_code < 300:
                return PostResult(True, attempt)
            error = f"HTTP {response.status_code}: {webhook.redact(response.text[:200])}"
            retryable = response.status_code == 429 or response.status_code >= 500
            if response.status_code == 429:
                retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
        if not retryable or attempt == MAX_ATTEMPTS:
            return PostResult(False, attempt, error)
        delay = retry_after if retry_after is not None else BACKOFF_SECONDS[attempt - 1]
        log.warning(
            "%s: post failed (attempt %d of %d, %s); retrying in %.0f s",
            webhook.label,
            attempt,
            MAX_ATTEMPTS,
            error,
            delay,
        )
        sleep(delay)
    return PostResult(False, MAX_ATTEMPTS, error)


def _retry_after_seconds(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    if seconds is None:
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


@dataclass
class Delivery:
    """The outcome of one delivery round.

    ``sent`` contains (channel, change id) pairs and ``failed`` (channel, change id, reason).
    """

    channels: list[str] = field(default_factory=list)
    sent: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)
    skipped_reason: str | None = None


def deliver(
    changes: Sequence[Change],
    state_path: Path,
    webhooks: Sequence[Webhook],
    *,
    generator: str | None,
    site_url: str | None,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """Send every change no channel has had yet, recording each success in ``state_path``.

    A channel whose post fails after retries is skipped for the rest of this round, and what it
    missed stays queued in the state file for the next round. Nothing here raises on a failed post.
    """
    delivery = Delivery(channels=[webhook.channel for webhook in webhooks])
    if not webhooks:
        delivery.skipped_reason = (
            "no webhook configured (set SLACK_WEBHOOK_URL or DISCORD_WEBHOOK_URL)"
        )
        log.info("%s; %d changes not sent", delivery.skipped_reason, len(changes))
        return delivery

    state, problem = load_state(state_path)
    if problem is not None:
        # Without a record of what was sent, sending now could repeat messages. Skipping this
        # round's changes loses them instead, and the next round starts from a clean state.
        log.error(
            "%s; starting a new notify state and marking the %d current changes as sent "
            "without posting them, so none is sent twice",
            problem,
            len(changes),
        )
        for webhook in webhooks:
            state.sent[webhook.channel] = [change.id for change in changes]
        write_state(state_path, state)
        delivery.skipped_reason = "notify state was unreadable"
        return delivery

    pending = unsent_changes(state, changes, delivery.channels)
    state.queue = pending[-MAX_QUEUED:]
    if len(pending) > MAX_QUEUED:
        log.warning("dropped %d oldest queued changes", len(pending) - MAX_QUEUED)
    write_state(state_path, state)

    own_session = session is None
    http = session or requests.Session()
    try:
        with _redacted_library_logs(webhooks):
            for webhook in webhooks:
                _deliver_to(webhook, state, state_path, delivery, generator, site_url, http, sleep)
    finally:
        if own_session:
            http.close()

    state.queue = unsent_changes(state, [], delivery.channels)
    delivery.queued = [change.id for change in state.queue]
    write_state(state_path, state)
    return delivery


def _deliver_to(
    webhook: Webhook,
    state: NotifyState,
    state_path: Path,
    delivery: Delivery,
    generator: str | None,
    site_url: str | None,
    session: requests.Session,
    sleep: Callable[[float], None],
) -> None:
    sent = state.sent.setdefault(webhook.channel, [])
    for change in list(state.queue):
        if change.id in sent:
            continue
        result = post_with_retries(
            session, webhook, webhook.payload(change, generator, site_url), sleep=sleep
        )
        if not result.ok:
            reason = result.error or "unknown error"
            delivery.failed.append((webhook.channel, change.id, reason))
            log.error(
                "%s: could not send %s after %d attempts (%s); it stays queued for the next "
                "refresh",
                webhook.label,
                change.id,
                result.attempts,
                reason,
            )
            return
        sent.append(change.id)
        del sent[:-MAX_SENT_IDS]
        write_state(state_path, state)
        delivery.sent.append((webhook.channel, change.id))
        log.info("%s: sent %s", webhook.label, change.id)


def deliver_change_list(
    site_dir: Path,
    webhooks: Sequence[Webhook],
    *,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """Send the changes in ``site_dir/changes.json`` (and any queued earlier) to ``webhooks``."""
    change_list = load_changes(site_dir / CHANGES_FILE)
    if change_list is None:
        delivery = Delivery(channels=[webhook.channel for webhook in webhooks])
        delivery.skipped_reason = f"{site_dir / CHANGES_FILE} not found; refresh the report first"
        log.warning("%s", delivery.skipped_reason)
        return delivery
    return deliver(
        change_list.changes,
        site_dir / STATE_FILE,
        webhooks,
        generator=change_list.generator,
        site_url=change_list.site_url,
        session=session,
        sleep=sleep,
    )
