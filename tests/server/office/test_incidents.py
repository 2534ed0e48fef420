"""Incidents as head office reads them: pushed by a phone, listed, filtered, and in detail."""

import re

import pytest

from content.load import load
from server import queries
from tests.factories import closed, opened, step
from tests.fixtures import enroll, push

LIBRARY = load()


def incident_links(html: str) -> list[str]:
    return re.findall(r'href="/office/incidents/([0-9a-f-]{36})\?shop=\d+"', html)


def test_an_incident_pushed_by_a_phone_appears_in_the_list_and_its_detail(admin, chain):
    listed = admin.get("/office/incidents")
    assert listed.status_code == 200
    assert chain.east_incident in incident_links(listed.text)
    assert "华东一店 East 1" in listed.text and "收银台 1 Till 1" in listed.text

    detail = admin.get(f"/office/incidents/{chain.east_incident}")
    assert detail.status_code == 200
    html = detail.text
    timeline = html[html.index('<ol class="timeline">'):]
    t2 = {step.id: step.title.zh for step in LIBRARY.flows["t2"].steps}
    # Each check tried, by its title from the content, in the order tried; never by its id.
    assert timeline.index(t2["power"]) < timeline.index(t2["network"])
    assert "没解决" in html and "解决了" in html
    assert ">power<" not in html and ">network<" not in html
    assert f'src="/office/photos/{chain.east_photo}/thumb"' in html
    assert f'href="/office/photos/{chain.east_photo}/large"' in html
    assert "网络中断，顾客改用现金" in html  # the note
    assert "收银员 Li" in html and "东店手机 east phone" in html  # who, on which phone
    assert "手机上记录于" in html and "到达总部于" in html
    assert "上海市人民路 1 号" in html  # where: the shop's address


def test_the_detail_page_is_in_english_for_an_english_user(admin, chain):
    from tests.fixtures import office_post

    assert office_post(admin, "/office/lang", {"lang": "en", "next": "/office/"}).status_code == 303
    html = admin.get(f"/office/incidents/{chain.east_incident}").text
    assert '<html lang="en">' in html
    assert "Power and cables" in html and "Network connection" in html
    assert "Reached head office" in html


@pytest.mark.parametrize(("params", "east", "west"), [
    ({}, True, True),
    ({"region": "华东 East"}, True, False),
    ({"code": "51"}, False, True),
    ({"outcome": "resolved"}, True, False),
    ({"outcome": "escalated"}, False, True),
    ({"outcome": "open"}, False, False),
    ({"terminal": "收银台 1 Till 1"}, True, True),
    ({"terminal": "收银台 9"}, False, False),
    ({"from": "2026-05-01", "to": "2026-05-01"}, True, True),
    ({"from": "2026-05-02"}, False, False),
    ({"to": "2026-04-30"}, False, False),
    ({"q": "现金"}, True, False),
    ({"q": "HYPERLINK"}, False, True),
    ({"q": "%"}, False, False),  # LIKE's wildcard is taken literally
])
def test_each_filter_narrows_the_list(shared, params, east, west):
    links = incident_links(shared.admin.get("/office/incidents", params=params).text)
    assert (shared.chain.east_incident in links, shared.chain.west_incident in links) == (east, west)


def test_the_shop_filter_and_text_in_a_steps_note(admin, chain, client):
    assert incident_links(admin.get("/office/incidents", params={"shop": chain.west}).text) == [chain.west_incident]
    phone = enroll(client, chain.east, "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "second phone")
    other = opened(code="T2", device=phone.device)
    checked = step(other["id"], "power", "cant_check", device=phone.device)
    checked["payload"]["note"] = "插座松了"
    assert push(client, phone, other, checked) == ["stored", "stored"]
    assert incident_links(admin.get("/office/incidents", params={"q": "插座"}).text) == [other["id"]]


def test_filters_live_in_the_url_and_the_form_shows_them(admin, chain):
    html = admin.get("/office/incidents", params={"code": "T2", "outcome": "resolved", "q": "现金"}).text
    assert 'name="code" value="T2"' in html
    assert '<option value="resolved" selected>' in html
    assert 'name="q" type="search" value="现金"' in html
    assert 'href="/office/incidents/export?code=T2&amp;outcome=resolved&amp;q=%E7%8E%B0%E9%87%91"' in html


def test_a_bad_filter_is_a_400_naming_it(admin, chain):
    response = admin.get("/office/incidents", params={"from": "yesterday"})
    assert response.status_code == 400
    assert "from" in response.text


def test_pages_by_keyset_cover_every_incident_once(admin, client, chain):
    phone = enroll(client, chain.east, "2c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "busy phone")
    made = []
    for minute in range(70):  # 72 in all: more than a page of 50
        event = opened(code="05", device=phone.device)
        event["payload"]["occurred_at"] = f"2026-04-01T08:{minute % 60:02d}:{minute // 60:02d}Z"
        made.append(event)
    for i in range(0, 70, 35):
        push(client, phone, *made[i:i + 35])
    first = admin.get("/office/incidents").text
    following = re.search(r'href="(/office/incidents\?after=[^"]+)" rel="next"', first).group(1)
    second = admin.get(following.replace("&amp;", "&")).text
    assert 'rel="next"' not in second
    seen = incident_links(first) + incident_links(second)
    assert len(seen) == len(set(seen)) == 72
    sql, _ = queries.incidents_sql(queries.Scope(), queries.IncidentFilter(), queries.Cursor("x", "y", 1), 50)
    assert "OFFSET" not in sql.upper()


def test_an_unknown_incident_is_a_404_on_the_office_page(admin, chain):
    response = admin.get("/office/incidents/01900000-0000-7000-8000-000000000000")
    assert response.status_code == 404
    assert "posaid 总部" in response.text and "/static/js/" not in response.text and "sw.js" not in response.text


def test_an_incident_closed_twice_shows_the_close_that_decided_it(admin, client, chain):
    phone = enroll(client, chain.west, "3c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "w2")
    event = opened(code="T2", device=phone.device)
    push(client, phone, event, closed(event["id"], "escalated", "restart", device=phone.device),
         closed(event["id"], "resolved", "restart", at="2026-05-01T11:00:00Z", device=phone.device))
    html = admin.get(f"/office/incidents/{event['id']}").text
    assert '<span class="badge resolved">已解决</span>' in html
    assert "重启终端" in html  # the step it was resolved at, by its title
