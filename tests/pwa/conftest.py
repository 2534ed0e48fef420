"""Fixtures of the phone app's browser tests: installed pages, screens, languages, enrolled phones.

A test on both screens and in both languages runs twice, not four times: upright in Chinese and
sideways in English, so each size and each language is seen and the suite keeps to its time. A test
where the combination itself matters (answers in reach of the thumb) is marked
`every_screen_and_language` and runs all four.
"""

import pytest

from tests.pwa.phone import (
    SCREENS,
    enroll_page,
    install_then_go_offline,
    shop_with_register,
)


@pytest.fixture
def offline_page(live_server, phone):
    return install_then_go_offline(phone, live_server)


@pytest.fixture(params=list(SCREENS), ids=list(SCREENS))
def screen(request, browser):
    """A phone held upright (360 × 640) or sideways (640 × 360)."""
    width, height = SCREENS[request.param]
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1,
                                  is_mobile=True, has_touch=True)
    yield context
    context.close()


@pytest.fixture
def installed(live_server, screen):
    """The same on a phone held upright or sideways (screen)."""
    return install_then_go_offline(screen, live_server)


@pytest.fixture(params=["zh", "en"])
def lang(request) -> str:
    return request.param


@pytest.fixture
def shop_phone(live_server, screen, lang):
    """A phone of a shop with a full register, enrolled and synced, in lang."""
    shop = shop_with_register(live_server)
    page = enroll_page(screen.new_page(), live_server, shop, lang)
    page.shop = shop
    return page


PAIRS = {("portrait", "zh"), ("landscape", "en")}


def pytest_collection_modifyitems(config, items):
    """Keep the two pairs of screen and language, unless a test asks for every combination."""
    kept, dropped = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        both = "screen" in params and "lang" in params
        if both and not item.get_closest_marker("every_screen_and_language") and (
                params["screen"], params["lang"]) not in PAIRS:
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
