"""The published API says what it does: schemathesis drives every operation of the sync API from
the server's own OpenAPI schema, over real HTTP, with a device's token and without one, and runs
all its checks on every answer (status codes and bodies as documented, no 5xx, bad input refused,
good input accepted)."""

import json
import urllib.request

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.fixtures import DEVICE, LiveServer, call, code_for, free_port

pytestmark = pytest.mark.slow

EXAMPLES = 25  # per operation and token: bounded, so the suite keeps to its time


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("schema") / "data", None, free_port(), body_idle_seconds=2).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def token(server) -> dict[str, str]:
    body = json.dumps({"code": code_for(server, "Schema shop"), "device": DEVICE, "name": "schema phone"}).encode()
    return {"Authorization": "Bearer " + call(server, "POST", "/api/v1/enroll", body)["token"]}


def operations(server) -> list:
    with urllib.request.urlopen(server.url + "/schema/openapi.json") as response:
        schema = schemathesis.openapi.from_dict(json.loads(response.read())).include(path_regex="^/api/")
    return [result.ok() for result in schema.get_all_operations()]


def exercise(server, operation, headers: dict[str, str]) -> None:
    # A blob's body must hash to its name: a relation no schema can state, so bytes the schema
    # allows are refused (422) all the same, and the positive-data check does not apply there.
    excluded = [positive_data_acceptance] if operation.method.upper() == "PUT" else []

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def check(case):
        case.call_and_validate(base_url=server.url, headers=headers, excluded_checks=excluded)

    check()


def test_every_operation_with_a_token(server, token):
    labels = []
    for operation in operations(server):
        exercise(server, operation, token)
        labels.append(operation.label)
    assert {"POST /api/v1/enroll", "POST /api/v1/events", "GET /api/v1/pull", "PUT /api/v1/blobs/{sha}"} <= set(labels)


def test_every_operation_without_a_token(server):
    for operation in operations(server):
        exercise(server, operation, {})
