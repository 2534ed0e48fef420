"""The colour pairs the stylesheet uses for text meet WCAG AA (4.5:1)."""

import pytest

from server.site import STATIC
from tests.markup import contrast, css_colours

VARS = css_colours((STATIC / "css" / "app.css").read_text(encoding="utf-8"))


def colour(name: str) -> str:
    return name if name.startswith("#") else VARS[name]


@pytest.mark.parametrize(("text", "background"), [
    ("ink", "paper"), ("muted", "paper"), ("brand", "paper"), ("brand-ink", "brand"),
    ("muted", "soft"), ("brand", "soft"), ("warn", "warn-bg"), ("ok", "#ffffff"), ("bad", "#ffffff"),
    ("bad", "#fdecec"), ("ok", "#e9f6ec"), ("paper", "ink"),
])
def test_text_contrast_is_aa(text, background):
    ratio = contrast(colour(text), colour(background))
    assert ratio >= 4.5, f"{text} on {background}: {ratio:.2f}"
