"""The OData v4 feed: service document, $metadata, $filter, $select, $count, paging by nextLink, a
400 naming what is not supported, and a feed token scoped like its user, revocable."""

import base64
import re
import xml.etree.ElementTree as ET

import pytest

from server import odata
from tests.fixtures import office_post


def make_token(client, name="Power BI") -> str:
    page = office_post(client, "/office/feeds", {"name": name}, page="/office/feeds")
    assert page.status_code == 200
    return re.search(r'<p class="code">(pf_[^<]+)</p>', page.text).group(1)


def basic(token: str, user: str = "boss") -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()}


def test_the_service_document_and_metadata(admin, chain):
    token = make_token(admin)
    service = admin.get("/office/odata/", headers=basic(token))
    assert service.status_code == 200 and service.headers["odata-version"] == "4.0"
    body = service.json()
    assert body["@odata.context"].endswith("/office/odata/$metadata")
    assert [s["name"] for s in body["value"]] == ["Incidents", "Steps", "ChecklistRuns", "Actions", "Maintenance"]
    metadata = admin.get("/office/odata/$metadata", headers={"Authorization": f"Bearer {token}"})
    assert metadata.status_code == 200 and "xml" in metadata.headers["content-type"]
    root = ET.fromstring(metadata.content)
    edm = "{http://docs.oasis-open.org/odata/ns/edm}"
    sets = [e.get("Name") for e in root.iter(f"{edm}EntitySet")]
    assert sets == ["Incidents", "Steps", "ChecklistRuns", "Actions", "Maintenance"]
    incident = next(e for e in root.iter(f"{edm}EntityType") if e.get("Name") == "Incident")
    assert [k.get("Name") for k in incident.iter(f"{edm}PropertyRef")] == ["shop_id", "id"]


def test_filter_select_count_and_the_answer_of_the_office(admin, chain):
    headers = basic(make_token(admin))
    answer = admin.get("/office/odata/Incidents", params={"$filter": "code eq 'T2' and steps gt 1",
                                                           "$select": "id,code,shop,opened_at", "$count": "true"},
                       headers=headers).json()
    assert answer["@odata.count"] == 1
    assert answer["value"] == [{"id": chain.east_incident, "code": "T2", "shop": "华东一店 East 1",
                                "opened_at": "2026-05-01T09:58:00+00:00"}]
    assert answer["@odata.context"].endswith("$metadata#Incidents(id,code,shop,opened_at)")
    later = admin.get("/office/odata/Incidents", params={"$filter": "opened_at gt 2026-05-02T00:00:00Z"},
                      headers=headers).json()
    assert later["value"] == []
    runs = admin.get("/office/odata/ChecklistRuns", params={"$filter": "(problems ne 0) and period eq 2026-05-01"},
                     headers=headers).json()
    assert [r["id"] for r in runs["value"]] == [chain.east_run]
    assert admin.get("/office/odata/Actions", headers=headers).json()["value"][0]["item"] == "paper"
    assert admin.get("/office/odata/Steps", params={"$filter": "answer eq 'fixed'"},
                     headers=headers).json()["value"][0]["step"] == "network"
    assert len(admin.get("/office/odata/Maintenance", headers=headers).json()["value"]) == 1


@pytest.mark.parametrize(("params", "named"), [
    ({"$filter": "contains(note, 'x')"}, "contains()"),
    ({"$filter": "code eq 'T2' or code eq '51'"}, "'or'"),
    ({"$filter": "steps ge 1"}, "'ge'"),
    ({"$filter": "colour eq 'red'"}, "'colour'"),
    ({"$filter": "steps eq 'many'"}, "Edm.Int64"),
    ({"$orderby": "opened_at desc"}, "$orderby"),
    ({"$expand": "Steps"}, "$expand"),
    ({"$select": "id,colour"}, "'colour'"),
    ({"$top": "-1"}, "$top"),
])
def test_what_is_not_supported_is_a_400_naming_it(admin, chain, params, named):
    response = admin.get("/office/odata/Incidents", params=params, headers=basic(make_token(admin)))
    assert response.status_code == 400
    assert named in response.json()["error"]["message"]


def test_pages_follow_the_next_link(admin, chain, monkeypatch):
    monkeypatch.setattr(odata, "PAGE", 1)
    headers = basic(make_token(admin))
    seen, url, pages = [], "/office/odata/Incidents?$select=id&$count=true", 0
    while url:
        answer = admin.get(url, headers=headers).json()
        seen += [row["id"] for row in answer["value"]]
        url = answer.get("@odata.nextLink", "").replace("http://testserver.local", "")
        pages += 1
    assert pages == 2 and sorted(seen) == sorted([chain.east_incident, chain.west_incident])
    top = admin.get("/office/odata/Incidents?$top=1", headers=headers).json()
    assert len(top["value"]) == 1 and "@odata.nextLink" not in top
    assert admin.get("/office/odata/Incidents?$skip=1", headers=headers).json()["value"][0]["id"] in seen


def test_a_regional_token_sees_only_its_region_and_a_revoked_one_nothing(signed_in, client, chain):
    east = signed_in("east-lead", "regional", ["华东 East"])
    token = make_token(east, "Excel")
    answer = client.get("/office/odata/Incidents", headers=basic(token, "east-lead")).json()
    assert [row["id"] for row in answer["value"]] == [chain.east_incident]
    assert client.get("/office/odata/Incidents", params={"$filter": "region eq '华西 West'", "$count": "true"},
                      headers=basic(token)).json()["@odata.count"] == 0
    page = east.get("/office/feeds").text
    assert token not in page  # shown once only
    token_id = re.search(r'/office/feeds/(\d+)/revoke', page).group(1)
    assert office_post(east, f"/office/feeds/{token_id}/revoke", page="/office/feeds").status_code == 303
    refused = client.get("/office/odata/Incidents", headers=basic(token))
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic")
    assert client.get("/office/odata/").status_code == 401
    with client.app.state.store.read() as db:
        assert token not in str(db.execute("SELECT * FROM feed_tokens").fetchall())
