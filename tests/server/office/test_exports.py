"""Exports: CSV, XLSX and a ZIP of photos hold exactly the filtered rows, Chinese intact, formulas
neutralised, streamed, and each download is in the audit log."""

import csv
import io
import zipfile

import openpyxl

from server import queries
from server.office.exports import csv_stream, neutralised
from sync.blobs import blob_key
from tests.images import sha


def read_csv(response) -> list[list[str]]:
    assert response.content.startswith("\ufeff".encode())  # a BOM, so spreadsheets read UTF-8
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_csv_holds_exactly_the_filtered_rows_with_chinese_intact(shared):
    response = shared.admin.get("/office/incidents.csv", params={"region": "华东 East"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="incidents.csv"'
    rows = read_csv(response)
    assert rows[0][:3] == ["时间", "门店编号", "门店"]
    assert [row[-1] for row in rows[1:]] == [shared.chain.east_incident]
    assert rows[1][2] == "华东一店 East 1" and rows[1][11] == "网络中断，顾客改用现金"
    assert rows[1][7] == "已解决" and rows[1][6] == "T2：交易没能处理完成"
    everything = read_csv(shared.admin.get("/office/incidents.csv"))
    assert len(everything) == 3


def test_a_formula_cell_is_neutralised(shared):
    rows = read_csv(shared.admin.get("/office/incidents.csv", params={"code": "51"}))
    assert rows[1][11] == "'=HYPERLINK(\"http://evil\")"
    assert [neutralised(v) for v in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "ok", 3]] == [
        "'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "ok", 3]


def test_the_xlsx_parses_and_holds_the_filtered_rows_and_their_checks(shared):
    response = shared.admin.get("/office/incidents.xlsx", params={"code": "T2"})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == ["故障", "排查步骤"]
    incidents = list(book["故障"].iter_rows(values_only=True))
    assert incidents[0][0] == "时间" and len(incidents) == 2
    assert incidents[1][2] == "华东一店 East 1" and incidents[1][-1] == shared.chain.east_incident
    steps = list(book["排查步骤"].iter_rows(values_only=True))
    assert [(row[0], row[3], row[4]) for row in steps[1:]] == [
        (shared.chain.east_incident, "电源和线缆", "没解决"), (shared.chain.east_incident, "网络连接", "解决了")]


def test_an_xlsx_cell_that_looks_like_a_formula_is_text(shared):
    response = shared.admin.get("/office/incidents.xlsx", params={"code": "51"})
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no formula anywhere
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.worksheets[0]["L2"].value == '=HYPERLINK("http://evil")'
    assert book.worksheets[0]["L2"].data_type == "s"


def test_the_zip_holds_the_photos_of_the_filtered_incidents(shared, tmp_path):
    response = shared.admin.get("/office/incidents.zip")
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = archive.namelist()
        assert archive.testzip() is None
        photos = {name: archive.read(name) for name in names}
    assert len(names) == 2
    east = next(name for name in names if shared.chain.east_incident in name)
    assert east.startswith("20260501-175800_shop1_") and east.endswith("_opened_1.jpg")
    assert sha(photos[east]) == shared.chain.east_photo  # the photo as the phone sent it
    only_west = shared.admin.get("/office/incidents.zip", params={"region": "华西 West"})
    with zipfile.ZipFile(io.BytesIO(only_west.content)) as archive:
        assert [sha(archive.read(n)) for n in archive.namelist()] == [shared.chain.west_photo]


def test_the_export_page_tells_the_size_before_the_download(shared):
    html = shared.admin.get("/office/incidents/export", params={"region": "华东 East"}).text
    assert "共 1 条故障记录，1 张照片" in html
    assert 'href="/office/incidents.csv?region=%E5%8D%8E%E4%B8%9C+East"' in html
    assert "约" in html


def test_runs_and_maintenance_export_too(shared):
    runs = read_csv(shared.admin.get("/office/checklists.csv"))
    assert runs[1][4] == "每日开店检查" and runs[1][-1] == shared.chain.east_run
    entries = read_csv(shared.admin.get("/office/maintenance.csv"))
    assert entries[1][5] == "软件更新" and "升级前版本: 2.4.0" in entries[1][6]
    book = openpyxl.load_workbook(io.BytesIO(shared.admin.get("/office/maintenance.xlsx").content))
    assert book.sheetnames == ["维护记录"] and book.worksheets[0]["K2"].value == shared.chain.east_entry


def test_every_download_is_in_the_audit_log(client, admin, chain):
    admin.get("/office/incidents.csv", params={"code": "T2"})
    admin.get("/office/incidents.zip")
    with client.app.state.store.read() as db:
        entries = queries.audit_entries(db, action="export")
    assert [(e.actor, e.target, e.detail) for e in entries] == [
        ("boss", "incidents.zip", ""), ("boss", "incidents.csv", "code=T2")]


def test_the_csv_is_written_a_page_at_a_time():
    pages = ([["行", n]] for n in range(3))
    chunks = list(csv_stream(["标题", "n"], pages))
    assert len(chunks) == 3  # one chunk per page of rows: nothing waits for the whole export
    assert b"".join(chunks).decode("utf-8-sig") == "标题,n\r\n行,0\r\n行,1\r\n行,2\r\n"


def test_a_photo_missing_from_disk_is_left_out_of_the_zip(client, admin, chain):
    client.app.state.blob_store.shelf.path(blob_key(chain.east_photo)).unlink()
    with zipfile.ZipFile(io.BytesIO(admin.get("/office/incidents.zip").content)) as archive:
        assert [sha(archive.read(n)) for n in archive.namelist()] == [chain.west_photo]
