"""WCAG 2.1 contrast of the status page's colours, read from the CSS the page embeds."""

from __future__ import annotations

import re

import pytest

from forge_status_pipeline.render.html import page_asset

# (foreground, background): text needs 4.5:1 (WCAG 2.1 SC 1.4.3, level AA).
TEXT_PAIRS = [
    *[
        (foreground, background)
        for foreground in ("text", "muted", "link")
        for background in (
            "bg",
            "surface",
            "pass-bg",
            "fail-bg",
            "pend-bg",
            "inc-bg",
            "unav-bg",
        )
    ],
    ("pass-fg", "bg"),
    ("pass-fg", "surface"),
    ("pass-fg", "pass-bg"),
    ("fail-fg", "bg"),
    ("fail-fg", "surface"),
    ("fail-fg", "fail-bg"),
    ("pend-fg", "bg"),
    ("pend-fg", "surface"),
    ("pend-fg", "pend-bg"),
    ("inc-fg", "bg"),
    ("inc-fg", "surface"),
    ("inc-fg", "inc-bg"),
    ("skip-fg", "bg"),
    ("skip-fg", "surface"),
    ("unav-fg", "bg"),
    ("unav-fg", "surface"),
    ("unav-fg", "unav-bg"),
    ("on-solid", "fail-solid"),
    # Pressed filter and view buttons swap the page's colours.
    ("bg", "text"),
]
# Focus rings, control borders, failing grid cells and the regression ring need 3:1
# (WCAG 2.1 SC 1.4.11, non-text contrast).
GRAPHIC_PAIRS = [
    ("focus", "bg"),
    ("focus", "surface"),
    ("border", "bg"),
    ("border", "surface"),
    ("fail-solid", "bg"),
    ("ring", "fail-solid"),
    ("ring", "bg"),
]


def relative_luminance(colour: str) -> float:
    """Return the WCAG 2.1 relative luminance of a ``#rrggbb`` colour."""
    channels = [int(colour[index : index + 2], 16) / 255 for index in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def palettes() -> dict[str, dict[str, str]]:
    """Read the custom properties of the light ``:root`` block and of the dark-scheme one."""
    css = page_asset("page.css")
    dark_start = css.index("@media (prefers-color-scheme: dark)")
    light_block = re.search(r":root\s*\{(.*?)\}", css[:dark_start], re.DOTALL)
    dark_block = re.search(r":root\s*\{(.*?)\}", css[dark_start:], re.DOTALL)
    assert light_block is not None and dark_block is not None
    declaration = re.compile(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})\s*;")
    return {
        "light": dict(declaration.findall(light_block.group(1))),
        "dark": dict(declaration.findall(dark_block.group(1))),
    }


def test_contrast_formula_by_hand() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    # #767676 is the lightest grey that passes 4.5:1 on white; #777777 fails.
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#777777", "#ffffff") < 4.5


def test_palettes_define_same_names() -> None:
    light, dark = palettes()["light"], palettes()["dark"]

    assert set(light) == set(dark)
    for foreground, background in TEXT_PAIRS + GRAPHIC_PAIRS:
        assert foreground in light
        assert background in light


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("foreground", "background"), TEXT_PAIRS)
def test_text_contrast_meets_aa(scheme: str, foreground: str, background: str) -> None:
    palette = palettes()[scheme]

    assert contrast_ratio(palette[foreground], palette[background]) >= 4.5


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("foreground", "background"), GRAPHIC_PAIRS)
def test_graphic_contrast_meets_aa(scheme: str, foreground: str, background: str) -> None:
    palette = palettes()[scheme]

    assert contrast_ratio(palette[foreground], palette[background]) >= 3.0
