"""The colour pairs the stylesheet uses for text meet WCAG AA (4.5:1)."""

import re

import pytest

from server.site import STATIC

CSS = (STATIC / "css" / "app.css").read_text(encoding="utf-8")
VARS = dict(re.findall(r"--([a-z-]+): (#[0-9a-f]{6});", CSS))


def colour(name: str) -> str:
    return name if name.startswith("#") else VARS[name]


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(colour(a)), luminance(colour(b))), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize(("text", "background"), [
    ("ink", "paper"), ("muted", "paper"), ("brand", "paper"), ("brand-ink", "brand"),
    ("muted", "soft"), ("brand", "soft"), ("warn", "warn-bg"), ("ok", "#ffffff"), ("bad", "#ffffff"),
    ("bad", "#fdecec"), ("ok", "#e9f6ec"), ("paper", "ink"),
])
def test_text_contrast_is_aa(text, background):
    assert contrast(text, background) >= 4.5, f"{text} on {background}: {contrast(text, background):.2f}"
