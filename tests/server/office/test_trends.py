"""Trends: every chart is SVG that parses as XML and holds the numbers of the table beside it;
transactions by entry mode and amount band; the funnel; and the same funnel down to the phones."""

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from litestar.testing import TestClient

from server.app import create_app
from server.learned import learned_flows
from server.settings import Settings
from tests.factories import closed
from tests.fixtures import add_shop, add_user, enroll, push, sign_in
from tests.markup import check_page
from tests.server.office.conftest import incident_at, stamp

SVG = "{http://www.w3.org/2000/svg}"


def recent_incidents(client, phone, count=6):
    """Incidents of the last days with transactions and closes, at a shop."""
    now = datetime.now(UTC)
    events = []
    entries = ["contactless", "chip", "contactless", "swipe", None, "qr"]
    amounts = ["38.50", "128.00", "2500", "8000.00", None, "99.99"]
    for n in range(count):
        tx = {k: v for k, v in (("amount", amounts[n % 6]), ("entry", entries[n % 6]), ("kind", "sale"),
                                ("charged", "yes" if n % 2 else "no")) if v}
        opened = incident_at(now - timedelta(days=n, minutes=30), code="T2" if n % 3 else "51", transaction=tx)
        events.append(opened)
        outcome = "resolved" if n % 4 else "escalated"
        events.append(closed(opened["id"], outcome, "network" if outcome == "resolved" else "power",
                             at=stamp(now - timedelta(days=n, minutes=10))))
    assert set(push(client, phone, *events)) == {"stored"}


def charts_of(html: str) -> list[tuple[str, str, str]]:
    """(key, svg, table) of each chart on the page."""
    found = []
    for key in re.findall(r'<figure class="chart-box" id="chart-([a-z0-9-]+)">', html):
        svg = html[html.index(f'id="chart-{key}">'):]
        svg = svg[svg.index("<svg"):svg.index("</svg>") + 6]
        table = html[html.index(f'id="table-{key}"'):]
        found.append((key, svg, table[:table.index("</table>")]))
    return found


def test_every_chart_parses_and_holds_its_tables_numbers(admin, client, chain):
    recent_incidents(client, chain.east_phone)
    for lang in ("zh", "en"):
        page = admin.get(f"/office/trends?lang={lang}")
        assert page.status_code == 200
        found = charts_of(page.text)
        keys = [key for key, _, _ in found]
        assert keys[:5] == ["weekly", "outcomes", "shops", "models", "acquirers"]
        assert {"resolve", "funnel-t2", "entry", "amount"} <= set(keys)
        for key, svg, table in found:
            root = ET.fromstring(svg)  # well-formed XML, or this raises
            assert root.tag == f"{SVG}svg" and root.get("role") == "img" and root.get("aria-label")
            assert "style" not in svg
            words = " ".join(t.strip() for t in root.itertext())
            cells = re.findall(r'<td class="num"[^>]*>([^<]+)</td>', table)
            assert cells, key
            for cell in cells:
                assert cell in words, (key, cell)


def test_transactions_by_entry_mode_and_amount_band_in_words(admin, client, chain):
    recent_incidents(client, chain.east_phone)
    html = admin.get("/office/trends").text
    entry = dict(re.findall(r'<th scope="row"[^>]*>([^<]+)</th><td class="num"[^>]*>(\d+)</td>',
                            html[html.index('id="table-entry"'):]))
    assert entry["挥卡（非接触）"] == "2" and entry["插卡（芯片）"] == "1" and entry["扫码"] == "1"
    assert "contactless" not in html[html.index('id="h-entry"'):html.index('id="h-amount"')]
    amount = html[html.index('id="table-amount"'):]
    for band in ("100 CNY 以下", "100–1,000 CNY", "1,000–5,000 CNY", "5,000 CNY 及以上"):
        assert band in amount


def test_the_trends_page_passes_the_markup_checks(admin, chain):
    check_page(admin.get("/office/trends").text, "zh-CN", scripts="/office/static/")


def test_a_regional_user_sees_their_regions_numbers_only(signed_in, chain):
    west = signed_in("west-lead", "regional", ["华西 West"])
    html = west.get("/office/trends?days=365").text
    shops = html[html.index('id="table-shops"'):]
    assert "华西一店 West 1" in shops[:shops.index("</table>")] and "华东一店" not in shops[:shops.index("</table>")]


def test_the_funnel_reaches_the_phones_through_pull(tmp_path, content_dir):
    settings = Settings(data=str(tmp_path / "data"), content=str(content_dir))
    with TestClient(app=create_app(settings)) as client:
        shop = add_shop(client, "门店 Pull")
        phone = enroll(client, shop)
        assert client.get("/api/v1/pull", headers=phone.headers).json()["learned"] == []
        client.app.state.learned.forget()
        now = datetime.now(UTC)
        events = []
        for n in range(60):  # 60 closed T2: past the threshold of 50
            opened = incident_at(now - timedelta(hours=n + 1))
            step_id = "power" if n < 15 else "network" if n < 45 else "restart"
            events += [opened, closed(opened["id"], "resolved" if n < 54 else "escalated", step_id,
                                      at=stamp(now - timedelta(hours=n + 1) + timedelta(minutes=5)))]
        for start in range(0, len(events), 100):
            assert set(push(client, phone, *events[start:start + 100])) == {"stored"}
        client.app.state.learned.forget()
        learned = client.get("/api/v1/pull", headers=phone.headers).json()["learned"]
        [t2] = learned
        assert t2["flow"] == "t2" and t2["incidents"] == 60
        shares = {step["step"]: step["percent"] for step in t2["steps"]}
        assert shares["power"] == 25 and shares["network"] == 50 and shares["restart"] == 15  # 9 of 60
        assert list(shares)[0] == "power" and all(0 <= p <= 100 for p in shares.values())
        add_user(client, "boss")
        assert sign_in(client, "boss").status_code == 303
        funnel = client.get("/office/trends").text
        table = funnel[funnel.index('id="table-funnel-t2"'):]
        assert "15 · 25%" in table and "30 · 50%" in table  # the office shows what the phones get


def test_too_few_incidents_say_nothing(tmp_path):
    from content.load import load

    library = load()
    assert learned_flows([("T2", "resolved", "power", 49)], library) == []
    [flow] = learned_flows([("T2", "resolved", "power", 49), ("T2", "escalated", None, 1)], library)
    assert flow.incidents == 50 and flow.steps[0].percent == 98
