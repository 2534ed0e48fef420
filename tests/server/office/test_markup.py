"""Every office page, in both languages, passes the checks the phone app's pages pass (one h1, the
page's language, unique ids, labels, no inline script or style), and its colours meet AA."""

import pytest

from server.office.render import STATIC
from tests.fixtures import office_post
from tests.markup import check_page, contrast, css_colours

PAGES = [
    "/office/", "/office/incidents", "/office/incidents?code=T2&outcome=resolved", "/office/incidents/{east_incident}",
    "/office/incidents/export", "/office/checklists", "/office/checklists/{east}/{east_run}", "/office/maintenance",
    "/office/maintenance/{east}/{east_entry}", "/office/shops", "/office/shops/{east}", "/office/devices",
    "/office/people", "/office/audit", "/office/incidents/01900000-0000-7000-8000-000000000000",
    "/office/compliance", "/office/compliance/{east}", "/office/actions", "/office/actions?state=all",
    "/office/trends", "/office/trends?days=365", "/office/alerts", "/office/feeds",
    "/office/incidents?kind=sale&entry=chip&charged=yes",
]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_office_page_is_accessible_and_csp_clean(admin, chain, lang):
    office_post(admin, "/office/lang", {"lang": lang})
    html_lang = "zh-CN" if lang == "zh" else "en"
    for url in PAGES:
        response = admin.get(url.format(**vars(chain)))
        assert response.status_code in (200, 404), url
        check_page(response.text, html_lang, scripts="/office/static/")
        # Nothing of the phone app: no service worker, no script or stylesheet from its precache.
        assert "sw.js" not in response.text and 'src="/static/' not in response.text
        assert 'href="/static/' not in response.text, url
    shop = office_post(admin, f"/office/shops/{chain.east}/codes", {"kind": "phone"}, page=f"/office/shops/{chain.east}")
    check_page(shop.text, html_lang, scripts="/office/static/")


def test_the_sign_in_page_and_errors_pass_too(client):
    for url, lang in [("/office/login", "zh-CN"), ("/office/login?lang=en", "en")]:
        check_page(client.get(url).text, lang, scripts="/office/static/")
    # A URL no route claims is answered before anyone is known: in the browser's language.
    error = client.get("/office/no-such-page", headers={"accept-language": "en-GB,en"})
    assert error.status_code == 404
    check_page(error.text, "en", scripts="/office/static/")
    assert "There is no such page." in error.text and "<script" not in error.text


def test_the_viewers_and_regional_pages_pass_too(signed_in, chain):
    for role, regions in [("viewer", ()), ("regional", ["华东 East"])]:
        browser = signed_in(f"{role}-user", role, regions)
        for url in ("/office/shops/{east}", "/office/devices", "/office/incidents", "/office/compliance",
                    "/office/actions", "/office/trends", "/office/alerts", "/office/feeds"):
            check_page(browser.get(url.format(**vars(chain))).text, "zh-CN", scripts="/office/static/")


COLOURS = css_colours((STATIC / "office.css").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("text", "background"), [
    ("ink", "paper"), ("muted", "paper"), ("brand", "paper"), ("brand-ink", "brand"), ("ink", "soft"),
    ("muted", "soft"), ("brand", "soft"), ("ok", "ok-bg"), ("bad", "bad-bg"), ("warn", "warn-bg"),
    ("bad", "paper"), ("chart-a", "paper"), ("chart-b", "paper"), ("chart-c", "paper"),
    ("chart-d", "paper"), ("chart-e", "paper"), ("chart-f", "paper"),
])
def test_office_text_contrast_is_aa(text, background):
    ratio = contrast(COLOURS[text], COLOURS[background])
    assert ratio >= 4.5, f"{text} on {background}: {ratio:.2f}"


def test_the_alert_and_target_pages_pass_too(admin, chain):
    from tests.fixtures import office_post

    made = office_post(admin, "/office/alerts/targets", {"kind": "webhook", "address": "http://127.0.0.1:9/hook"},
                       page="/office/alerts")
    check_page(made.text, "zh-CN", scripts="/office/static/")
    check_page(office_post(admin, "/office/feeds", {"name": "Excel"}, page="/office/feeds").text, "zh-CN",
               scripts="/office/static/")
    check_page(admin.get("/office/alerts/targets/1").text, "zh-CN", scripts="/office/static/")
    with admin.app.state.store.write() as db:
        from server import writes
        from server.store import now

        writes.raise_alert(db, 1, "shop_code", "k", f"shop:{chain.east}:T2", chain.east, "华东 East", 3, now(), now(),
                           True, f'{{"shop": {chain.east}, "code": "T2"}}', now())
    check_page(admin.get("/office/alerts/1").text, "zh-CN", scripts="/office/static/")
    assert "3 次" in admin.get("/office/").text
