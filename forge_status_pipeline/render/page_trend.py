"""A small inline SVG trend of a repo's build durations, worked out as coordinates in Python."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from forge_status_pipeline.render.text import STATE_WORDS, format_duration

TREND_WIDTH = 120
TREND_HEIGHT = 28
# Room around the line so the dots at the ends and at the extremes are not clipped.
TREND_PADDING = 3


@dataclass(frozen=True)
class TrendPoint:
    x: float
    y: float
    state: str
    short_sha: str
    seconds: float


@dataclass(frozen=True)
class Trend:
    """Durations of a repo's builds, oldest first, placed in a TREND_WIDTH × TREND_HEIGHT box."""

    points: list[TrendPoint]
    width: int = TREND_WIDTH
    height: int = TREND_HEIGHT

    @property
    def polyline(self) -> str:
        return " ".join(f"{point.x:g},{point.y:g}" for point in self.points)

    @property
    def dots(self) -> list[tuple[str, str]]:
        """Return one SVG path per state, drawing each build as a zero-length round-capped line."""
        paths: dict[str, list[str]] = {}
        for point in self.points:
            paths.setdefault(point.state, []).append(f"M{point.x:g} {point.y:g}h0")
        return [(state, "".join(parts)) for state, parts in paths.items()]

    @property
    def label(self) -> str:
        durations = ", ".join(
            f"{format_duration(point.seconds)} {STATE_WORDS[point.state]}" for point in self.points
        )
        count = len(self.points)
        builds = "build" if count == 1 else f"{count} builds"
        return f"Duration of the last {builds}, oldest first: {durations}"


def duration_trend(samples: Sequence[tuple[str, str, float]]) -> Trend | None:
    """Place ``(short_sha, state, seconds)`` samples, oldest first, on the trend's box.

    The y axis runs from zero at the bottom to the longest sample at the top, so equal durations
    draw a flat line at the top. A single sample sits in the middle of the box.
    """
    if not samples:
        return None
    longest = max(seconds for _, _, seconds in samples) or 1.0
    inner_width = TREND_WIDTH - 2 * TREND_PADDING
    inner_height = TREND_HEIGHT - 2 * TREND_PADDING
    step = inner_width / (len(samples) - 1) if len(samples) > 1 else 0.0
    points = []
    for index, (short_sha, state, seconds) in enumerate(samples):
        x = TREND_WIDTH / 2 if len(samples) == 1 else TREND_PADDING + index * step
        y = TREND_PADDING + inner_height * (1 - seconds / longest)
        points.append(TrendPoint(round(x, 1), round(y, 1), state, short_sha, seconds))
    return Trend(points)
