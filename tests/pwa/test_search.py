"""Offline search finds the right guide first, and the T2 flow walks to a support card."""

import pytest

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("lang", "query", "expected"),
    [
        ("zh", "51", "/zh/codes/51"),
        ("zh", "密码错", "/zh/codes/55"),
        ("en", "T2", "/en/codes/T2"),
        ("en", "paper", "/en/codes/paper-out"),
    ],
)
def test_search_offline_opens_the_right_guide(offline_page, live_server, lang, query, expected):
    page = offline_page
    page.goto(f"{live_server.url}/{lang}")
    page.locator("#q").fill(query)
    page.locator("#q").press("Enter")
    page.wait_for_url(f"**/{lang}/search?q=*")
    first = page.locator("#results li a").first
    assert first.get_attribute("href") == expected
    first.click()
    page.wait_for_url("**" + expected)
    assert page.locator("h1").is_visible()


def test_the_design_queries_rank_first(offline_page, live_server):
    page = offline_page
    page.goto(live_server.url + "/zh/search")
    cases = {
        "zh": {"t2": "T2", "T2": "T2", "51": "51", "余额不足": "51", "密码": "55", "密码错": "55", "网络": "comm-fail"},
        "en": {"network": "comm-fail", "paper": "paper-out", "insufficient": "51", "wrong pin": "55", "a0": "A0"},
    }
    found = page.evaluate(
        """async (cases) => {
            const { search, loadIndex } = await import('/static/js/search.js');
            const out = {};
            for (const [lang, queries] of Object.entries(cases)) {
                const index = await loadIndex(lang);
                for (const q of Object.keys(queries)) out[lang + ':' + q] = search(index, q)[0].url;
            }
            return out;
        }""",
        cases,
    )
    expected = {f"{lang}:{q}": f"/{lang}/codes/{code}" for lang, qs in cases.items() for q, code in qs.items()}
    assert expected == found


def test_walk_t2_flow_to_a_support_card(offline_page, live_server):
    page = offline_page
    page.goto(live_server.url + "/en/codes/T2")
    page.get_by_role("link", name="Start the checks").first.click()
    page.wait_for_url("**/en/flows/t2")
    steps = []
    while "#call-" not in page.url:
        steps.append(page.locator(".step:visible h2").inner_text())
        page.get_by_role("link", name="Not fixed").click()
    assert len(steps) >= 8 and len(set(steps)) == len(steps)
    card = page.locator(".step:visible")
    assert card.get_by_role("heading", name="What to tell them").is_visible()
    assert card.get_by_text("Never read out or write down a full card number").is_visible()
