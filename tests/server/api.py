"""Helpers for the API tests: shops made in the app's database, devices enrolled over the API."""

from dataclasses import dataclass

from litestar.testing import TestClient

from server.auth import issue_code
from server.db import now

DEVICE = "0b7c5a52-8d3e-4d2a-9f1e-3c1a2b4d5e6f"
OTHER_DEVICE = "5d1f0c3e-2b4a-4c6d-8e9f-0a1b2c3d4e5f"


def add_shop(client: TestClient, name: str = "Shop A", terminals=("Till 1", "Till 2"), staff=("Wang", "Li")) -> int:
    with client.app.state.store.write() as db:
        shop_id = db["shops"].insert({"name": name, "created_at": now()}).last_pk
        db["terminals"].insert_all({"shop_id": shop_id, "name": t, "model": "X990"} for t in terminals)
        db["staff"].insert_all({"shop_id": shop_id, "name": s} for s in staff)
    return shop_id


def new_code(client: TestClient, shop_id: int) -> str:
    with client.app.state.store.write() as db:
        return issue_code(db, shop_id)[0]


@dataclass
class Phone:
    """An enrolled device: its id, shop and token, and the headers its requests carry."""

    device: str
    shop: int
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def enroll(client: TestClient, shop_id: int, device: str = DEVICE, name: str = "till 1 phone") -> Phone:
    response = client.post("/api/v1/enroll", json={"code": new_code(client, shop_id), "device": device, "name": name})
    assert response.status_code == 200, response.text
    return Phone(device=device, shop=shop_id, token=response.json()["token"])


def count(client: TestClient, table: str) -> int:
    return client.app.state.store.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
