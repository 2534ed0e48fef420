"""An incident's transaction (issue 12): on the detail page in order and in words, a filter of the
list, columns of the exports."""

import csv
import io

from tests.factories import event
from tests.fixtures import push

TX = {"amount": "128.50", "currency": "CNY", "kind": "refund", "entry": "contactless", "rrn": "123456789012",
      "trace": "000123", "batch": "000045", "auth_code": "A1B2C3", "charged": "yes", "card_last4": "4242"}


def test_the_detail_shows_the_transaction_in_order_and_in_words(admin, client, chain):
    told = event("incident.transaction", {"incident": chain.east_incident, "transaction": TX}, v=2,
                 at="2026-05-01T10:04:00Z")
    assert push(client, chain.east_phone, told) == ["stored"]
    html = admin.get(f"/office/incidents/{chain.east_incident}").text
    section = html[html.index('id="tx-h"'):html.index("</section>")]
    order = ["128.50 CNY", "退货", "挥卡（非接触）", "123456789012", "000123", "000045", "A1B2C3", "已扣款", "4242"]
    positions = [section.index(text) for text in order]
    assert positions == sorted(positions)
    assert ">contactless<" not in section and ">refund<" not in section
    assert "补充交易信息" in html  # the timeline names the event
    english = admin.get(f"/office/incidents/{chain.east_incident}?lang=en")
    assert english.status_code == 200


def test_the_list_filters_by_kind_entry_and_charged(admin, client, chain):
    told = event("incident.transaction", {"incident": chain.east_incident, "transaction": TX}, v=2)
    assert push(client, chain.east_phone, told) == ["stored"]
    for query, found in [("kind=refund", True), ("kind=sale", False), ("entry=contactless&charged=yes", True),
                         ("charged=no", False)]:
        page = admin.get(f"/office/incidents?{query}").text
        assert (chain.east_incident in page) is found, query
        assert chain.west_incident not in page
    assert admin.get("/office/incidents?entry=telepathy").status_code == 400


def test_the_exports_carry_the_transaction(admin, client, chain):
    told = event("incident.transaction", {"incident": chain.east_incident, "transaction": TX}, v=2)
    assert push(client, chain.east_phone, told) == ["stored"]
    response = admin.get("/office/incidents.csv?kind=refund")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header = rows[0]
    row = dict(zip(header, rows[1], strict=True))
    assert row["交易金额"] == "128.50" and row["读卡方式"] == "挥卡（非接触）" and row["交易类型"] == "退货"
    assert row["参考号（RRN）"] == "123456789012" and row["卡号后四位"] == "4242" and row["顾客是否被扣款"] == "已扣款"
    assert header[-1] == "记录编号"
