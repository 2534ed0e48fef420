"""Every page, in both languages: one h1, the page's language, unique ids, a label for every
field, alt text on images, and no inline script or style (the CSP would block them)."""

import pytest

from content.load import load
from server.site import build_site
from tests.markup import check_page

SITE = build_site(load())
PAGES = sorted(url for url, page in SITE.pages.items() if page.media_type == "text/html")


@pytest.mark.parametrize("url", PAGES)
def test_page_is_accessible_and_csp_clean(url):
    check_page(SITE.pages[url].body.decode(), "en" if url.startswith("/en") else "zh-CN")


def test_radio_choices_sit_inside_their_labels():
    body = SITE.pages["/en/checklists/daily"].body.decode()
    assert body.count('<label class="choice"><input type="radio"') == 3 * len(load().checklists["daily"].items)
