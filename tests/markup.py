"""Checks every HTML page passes, the phone app's and the office's alike: one h1, the page's
language, unique ids, a label for every field, alt text on images, no inline script or style
(the CSP would block them); and the WCAG AA contrast of a stylesheet's colour pairs."""

import re
from collections import Counter
from html.parser import HTMLParser


class Tags(HTMLParser):
    """Every start tag of a page with its attributes, in order."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


def check_page(html: str, lang: str, scripts: str = "/static/") -> None:
    """Assert the page is accessible and CSP-clean; its scripts load from under `scripts`."""
    found = tags(html)
    root = next(attrs for tag, attrs in found if tag == "html")
    assert root["lang"] == lang
    assert [tag for tag, _ in found].count("h1") == 1
    ids = Counter(attrs["id"] for _, attrs in found if "id" in attrs)
    assert [i for i, n in ids.items() if n > 1] == []
    labelled = {attrs["for"] for tag, attrs in found if tag == "label" and "for" in attrs}
    for tag, attrs in found:
        if tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "radio"):
            assert attrs.get("id") in labelled, f"{tag} {attrs} has no label"
        if tag == "img":
            assert "alt" in attrs
        if tag == "script":
            assert attrs.get("src", "").startswith(scripts), "inline script"
        assert "style" not in attrs and not any(name.startswith("on") for name in attrs), (tag, attrs)
    assert "<style" not in html


def css_colours(css: str) -> dict[str, str]:
    """A stylesheet's colour variables (`--name: #rrggbb;`) by name."""
    return dict(re.findall(r"--([a-z-]+): (#[0-9a-f]{6});", css))


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """The contrast ratio of two #rrggbb colours (AA asks 4.5 for text)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
