"""Notification text for one change, as Slack mrkdwn or Discord markdown.

Text from GitHub (commit subjects, workflow names, repo names) is escaped for each format, so a
commit subject can neither add links nor, in Discord, mention anyone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from forge_status_pipeline.changes import Change
from forge_status_pipeline.render.text import plain, safe_url

MAX_SUBJECT_CHARS = 200
MAX_RUN_LINKS = 5


@dataclass(frozen=True)
class Span:
    """A piece of a message: text, optionally bold or a link to ``url``."""

    text: str
    url: str | None = None
    bold: bool = False


def commit_url(generator: str | None, sha: str) -> str | None:
    if generator is None:
        return None
    return f"https://github.com/{generator}/commit/{sha}"


def _subject(change: Change) -> list[Span]:
    subject = plain(change.subject)
    if not subject:
        return []
    if len(subject) > MAX_SUBJECT_CHARS:
        subject = subject[: MAX_SUBJECT_CHARS - 1] + "…"
    return [Span(f" “{subject}”")]


def _runs(change: Change, label: str) -> list[Span]:
    if not change.runs:
        return []
    spans = [Span(f" {label}: ")]
    for index, run in enumerate(change.runs[:MAX_RUN_LINKS]):
        if index:
            spans.append(Span(", "))
        spans.append(Span(f"{plain(run.workflow_name)} ({run.label})", url=run.url))
    if len(change.runs) > MAX_RUN_LINKS:
        spans.append(Span(f" and {len(change.runs) - MAX_RUN_LINKS} more"))
    spans.append(Span("."))
    return spans


def message_spans(change: Change, generator: str | None, site_url: str | None) -> list[Span]:
    """Describe ``change`` in one message: what happened, where, and links to look closer."""
    sha = Span(change.forge_sha[:7], url=commit_url(generator, change.forge_sha))
    name = change.sram or change.repo or ""
    repo_span = Span(f"{name} ({change.repo})" if change.sram else name, bold=True)
    previous = (
        Span(change.previous_sha[:7], url=commit_url(generator, change.previous_sha))
        if change.previous_sha
        else None
    )
    # A re-run at the same revision flipped the outcome; naming the same commit twice would
    # read as a typo.
    rerun = change.previous_sha == change.forge_sha

    spans: list[Span]
    if change.kind == "broken":
        spans = [Span("🔴 "), repo_span, Span(" broke at generator commit "), sha]
        spans += [*_subject(change), Span(".")]
        if rerun:
            spans += [Span(" It passed there before a re-run.")]
        elif previous:
            spans += [Span(" Last passed at "), previous, Span(".")]
        spans += _runs(change, "Failing runs")
    elif change.kind == "still_broken":
        spans = [Span("🟠 "), repo_span, Span(" still fails at generator commit "), sha]
        spans += [*_subject(change), Span(".")]
        if previous:
            spans += [Span(" It also failed at "), previous, Span(".")]
        spans += _runs(change, "Failing runs")
    elif change.kind == "fixed":
        spans = [Span("🟢 "), repo_span, Span(" passes again at generator commit "), sha]
        spans += [*_subject(change), Span(".")]
        if rerun:
            spans += [Span(" It failed there before a re-run.")]
        elif previous:
            spans += [Span(" It failed at "), previous, Span(".")]
        spans += _runs(change, "Runs")
    else:
        spans = [Span("✅ Generator commit "), sha, *_subject(change)]
        spans += [Span(f" passes in all {change.total} repos rebuilt from it.")]
    if safe_url(site_url):
        spans += [Span(" "), Span("Status page", url=site_url)]
    return spans


def _link_target(url: str) -> str:
    """Percent-encode the characters that would end a link early in either format."""
    for character, code in ((" ", "%20"), ("<", "%3C"), (">", "%3E"), ("|", "%7C"), (")", "%29")):
        url = url.replace(character, code)
    return url


def escape_slack(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_slack(spans: list[Span]) -> str:
    parts: list[str] = []
    for span in spans:
        text = escape_slack(span.text)
        url = safe_url(span.url)
        if url:
            text = f"<{_link_target(url)}|{text}>"
        if span.bold:
            text = f"*{text}*"
        parts.append(text)
    return "".join(parts)


_DISCORD_SPECIAL = re.compile(r"([\\*_~`|<>#\[\]()@:-])")


def escape_discord(text: str) -> str:
    """Backslash-escape every character Discord's markdown, mentions or emoji codes would use."""
    return _DISCORD_SPECIAL.sub(r"\\\1", text)


def render_discord(spans: list[Span]) -> str:
    parts: list[str] = []
    for span in spans:
        text = escape_discord(span.text)
        url = safe_url(span.url)
        if url:
            # Angle brackets around the target stop Discord from adding a preview per link.
            text = f"[{text}](<{_link_target(url)}>)"
        if span.bold:
            text = f"**{text}**"
        parts.append(text)
    return "".join(parts)
