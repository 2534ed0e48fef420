"""Every page, in both languages: one h1, the page's language, unique ids, a label for every
field, alt text on images, and no inline script or style (the CSP would block them)."""

from collections import Counter
from html.parser import HTMLParser

import pytest

from content.load import load
from server.site import build_site

SITE = build_site(load())
PAGES = sorted(url for url, page in SITE.pages.items() if page.media_type == "text/html")


class Markup(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parse(url: str) -> list[tuple[str, dict]]:
    parser = Markup()
    parser.feed(SITE.pages[url].body.decode())
    return parser.tags


@pytest.mark.parametrize("url", PAGES)
def test_page_is_accessible_and_csp_clean(url):
    tags = parse(url)
    html = next(attrs for tag, attrs in tags if tag == "html")
    assert html["lang"] == ("en" if url.startswith("/en") else "zh-CN")
    assert [tag for tag, _ in tags].count("h1") == 1
    ids = Counter(attrs["id"] for _, attrs in tags if "id" in attrs)
    assert [i for i, n in ids.items() if n > 1] == []
    labelled = {attrs["for"] for tag, attrs in tags if tag == "label" and "for" in attrs}
    for tag, attrs in tags:
        if tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "radio"):
            assert attrs.get("id") in labelled, f"{tag} {attrs} has no label"
        if tag == "img":
            assert "alt" in attrs
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/"), "inline script"
        assert "style" not in attrs and not any(name.startswith("on") for name in attrs), (tag, attrs)
    assert "<style" not in SITE.pages[url].body.decode()


def test_radio_choices_sit_inside_their_labels():
    body = SITE.pages["/en/checklists/daily"].body.decode()
    assert body.count('<label class="choice"><input type="radio"') == 3 * len(load().checklists["daily"].items)
