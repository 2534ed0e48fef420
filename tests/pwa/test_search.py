"""Search as people type (issue 10, item 5): full-width letters and digits, "T-2", everyday
words; an exact code first, then a guide's own synonyms; nothing found offers the T2 guide and
the code list. The ranking is pure: Node runs it on the index the server builds, against the
case file tests/cases/search.json, which Chromium walks too."""

import json

import pytest
from playwright.sync_api import expect

from content.load import load, normalise
from server.site import build_site
from tests.fixtures import ROOT
from tests.node import run_module
from tests.pwa.phone import t

CASES = json.loads((ROOT / "tests" / "cases" / "search.json").read_text(encoding="utf-8"))
SITE = build_site(load())

RANK = """
import { normalise, prepare, search } from "/static/js/search.js";
const indexes = Object.fromEntries(Object.entries(input.indexes).map(([lang, entries]) => [lang, prepare(entries)]));
console.log(JSON.stringify({
  normalise: input.normalise.map(([text]) => normalise(text)),
  rank: input.rank.map(([lang, query]) => search(indexes[lang], query)[0]?.url ?? null),
}));
"""


@pytest.fixture(scope="module")
def node():
    indexes = {lang: json.loads(SITE.pages[f"/{lang}/search-index.json"].body) for lang in ("zh", "en")}
    return run_module(RANK, {"indexes": indexes, "normalise": CASES["normalise"], "rank": CASES["rank"]})


def test_queries_are_normalised_alike_on_the_phone_and_in_the_index(node):
    assert [expected for _, expected in CASES["normalise"]] == node["normalise"]
    assert [expected for _, expected in CASES["normalise"]] == [normalise(text) for text, _ in CASES["normalise"]]


def test_what_people_type_finds_the_right_guide_first(node):
    expected = [f"/{lang}/codes/{code}" for lang, _, code in CASES["rank"]]
    assert dict(zip(map(tuple, CASES["rank"]), expected)) == dict(zip(map(tuple, CASES["rank"]), node["rank"]))


@pytest.mark.browser
def test_search_as_people_type_offline(installed, live_server, lang):
    page = installed
    cases = [(query, code) for case_lang, query, code in CASES["rank"] if case_lang == lang]
    for query, code in cases:
        page.goto(f"{live_server.url}/{lang}")
        page.locator("#q").press_sequentially(query)
        page.locator("#q").press("Enter")
        first = page.locator("#results li a").first
        expect(first).to_have_attribute("href", f"/{lang}/codes/{code}")
    first.click()
    page.wait_for_url(f"**/{lang}/codes/{code}")


@pytest.mark.browser
def test_nothing_found_offers_the_t2_guide_and_the_code_list(installed, live_server, lang):
    page = installed
    page.goto(f"{live_server.url}/{lang}/search")
    page.locator("#q").press_sequentially("zzqx")
    expect(page.locator("#results-summary")).to_have_text(t(lang, "search.none"))
    offer = page.locator("#no-results")
    expect(offer.get_by_role("link", name=getattr(load().codes["T2"].title, lang))).to_be_visible()
    offer.get_by_role("link", name=t(lang, "search.all")).click()
    expect(page.locator("#all-guides")).to_be_visible()
    expect(page.locator("#all-guides li")).to_have_count(len(load().codes) + len(load().checklists))


@pytest.mark.browser
def test_walk_t2_flow_to_a_support_card(offline_page, live_server):
    page = offline_page
    page.goto(live_server.url + "/en/codes/T2")
    page.get_by_role("link", name="Start the checks").first.click()
    page.wait_for_url("**/en/flows/t2")
    steps = []
    while "#call-" not in page.url:
        step = page.locator(".step:visible")
        steps.append(step.locator("h2").inner_text())
        before = step.get_attribute("id")
        step.get_by_role("link", name="Not fixed").click()
        expect(page.locator(".step:visible")).not_to_have_id(before)
    assert len(steps) >= 8 and len(set(steps)) == len(steps)
    card = page.locator(".step:visible")
    assert card.get_by_role("heading", name="What to tell them").is_visible()
    assert card.get_by_text("Never read out or write down a full card number").is_visible()
