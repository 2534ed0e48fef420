"""The app over Litestar's test client: health, schema, pages in both languages, errors, headers."""

import re

import pytest


def test_healthz(client):
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["role"] == "hq"
    assert len(body["content_version"]) == 16


def test_openapi_schema(client):
    schema = client.get("/schema").json()
    assert schema["info"]["title"] == "posaid"
    assert "/healthz" in schema["paths"]


@pytest.mark.parametrize(
    ("url", "lang", "text"),
    [
        ("/", "zh-CN", "POS 机报错了？"),
        ("/zh", "zh-CN", "POS 机报错了？"),
        ("/en", "en", "POS terminal error?"),
        ("/zh/codes/T2", "zh-CN", "开始逐步排查"),
        ("/en/codes/T2", "en", "Start the checks"),
        ("/en/codes/51", "en", "Insufficient funds"),
        ("/zh/flows/t2", "zh-CN", "还没好"),
        ("/en/flows/t2", "en", "What to tell them"),
        ("/en/checklists/daily", "en", "If it is a problem"),
    ],
)
def test_pages_read_without_javascript(client, url, lang, text):
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert f'<html lang="{lang}">' in response.text
    assert text in response.text


def test_language_switch_links_the_same_page(client):
    zh = client.get("/zh/codes/T2").text
    assert 'href="/en/codes/T2" hreflang="en" lang="en">English</a>' in zh
    en = client.get("/en/codes/T2").text
    assert 'href="/zh/codes/T2" hreflang="zh-CN" lang="zh-CN">中文</a>' in en


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_answer_leads_to_a_section_of_its_flow(client, lang):
    """Each flow is one page; every answer links to a step, the fixed ending or a support card on it."""
    import re

    from content.load import load

    for flow in load().flows.values():
        html = client.get(f"/{lang}/flows/{flow.id}").text
        ids = set(re.findall(r'<section class="step[^"]*" id="([^"]+)"', html))
        targets = set(re.findall(r'data-answer="\w+" href="#([^"]+)"', html))
        assert len(re.findall(r"data-answer=", html)) == 3 * len(flow.steps)
        assert targets <= ids, flow.id
        assert "fixed" in targets or any(t.startswith("call-") for t in targets)


def test_security_headers_everywhere(client):
    for url in ["/zh", "/static/css/app.css", "/api/v1/nothing", "/zh/nothing"]:
        headers = client.get(url).headers
        assert "script-src 'self'" in headers["content-security-policy"], url
        assert "'unsafe-inline'" not in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"


def test_no_inline_script_in_pages(client):
    html = client.get("/en/codes/T2").text
    assert "<script>" not in html and "onclick" not in html
    assert re.search(r'<script type="module" src="/static/js/app\.js\?v=[0-9a-f]{10}"></script>', html)


def test_errors_are_problem_details_for_api_and_pages_for_html(client):
    api = client.get("/api/v1/nothing")
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["status"] == 404
    page = client.get("/en/nothing")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "There is no such page." in page.text
    assert "没有这个页面。" in client.get("/zh/nothing").text


def test_an_error_outside_the_app_gets_a_page_that_loads_no_app(client):
    """The office's pages are not the phone app: their errors must not start its scripts or worker."""
    page = client.get("/office/nothing", headers={"accept": "text/html", "accept-language": "en-GB,en;q=0.9"})
    assert page.status_code == 404
    assert '<html lang="en">' in page.text and "There is no such page." in page.text
    assert "<script" not in page.text and "sw.js" not in page.text and "manifest" not in page.text
    app_page = client.get("/en/nothing")
    assert re.search(r'<script type="module" src="/static/js/app\.js\?v=[0-9a-f]{10}"></script>', app_page.text)


def test_the_app_claims_only_the_pages_it_rendered(client):
    assert client.get("/en/codes/T2").status_code == 200
    assert client.get("/en/codes/NOPE").status_code == 404
    assert client.get("/en/codes/T2/more").status_code == 404


def test_etag_revalidates(client):
    first = client.get("/en/codes/T2")
    again = client.get("/en/codes/T2", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304


def test_content_is_escaped(settings, content_dir):
    from litestar.testing import TestClient

    from server.app import create_app

    t2 = content_dir / "codes" / "T2.toml"
    text = t2.read_text(encoding="utf-8").replace('en = "Sorry, this payment', 'en = "<script>alert(1)</script>Sorry, this payment', 1)
    t2.write_text(text, encoding="utf-8")
    with TestClient(app=create_app(settings)) as client:
        html = client.get("/en/codes/T2").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
