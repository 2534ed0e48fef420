"""Events as a phone records them (plain JSON-ready dicts), for tests to push."""

from tests.fixtures import DEVICE, uuid7


def event(type_: str, payload: dict, *, at: str = "2026-05-01T10:00:00Z", blobs=(), device=DEVICE, **extra) -> dict:
    return {"type": type_, "id": extra.pop("id", None) or uuid7(), "device": device, "at": at,
            "recorded_by": "收银员 Li", "blobs": list(blobs), "payload": payload, **extra}


def opened(code="T2", note="", blobs=(), **extra) -> dict:
    payload = {"code": code, "terminal": "收银台 1 Till 1", "occurred_at": "2026-05-01T09:58:00Z", "note": note}
    return event("incident.opened", payload, blobs=blobs, **extra)


def step(incident: str, step_id="power", answer="not_fixed", at="2026-05-01T10:01:00Z", **extra) -> dict:
    payload = {"incident": incident, "flow": "t2", "step": step_id, "answer": answer}
    return event("incident.step", payload, at=at, **extra)


def noted(incident: str, note="customer paid cash", blobs=(), at="2026-05-01T10:02:00Z", **extra) -> dict:
    return event("incident.noted", {"incident": incident, "note": note}, at=at, blobs=blobs, **extra)


def closed(incident: str, outcome="resolved", step_id="power", at="2026-05-01T10:05:00Z", **extra) -> dict:
    payload = {"incident": incident, "outcome": outcome, "step": step_id}
    if outcome == "escalated":
        payload["support"] = "acquirer"
    return event("incident.closed", payload, at=at, **extra)


def checklist(results=("ok", "problem", "na"), photo=None, note="", **extra) -> dict:
    names = ["power-battery", "paper", "network-signin", "first-transaction"]
    items = [{"item": names[i], "result": result, "note": note} for i, result in enumerate(results)]
    if photo:
        items[0]["photo"] = photo
    payload = {"checklist": "daily", "period": "2026-05-01", "items": items, "signed_by": "店长 Wang"}
    return event("checklist.completed", payload, **extra)


def maintenance(fields=None, note="", **extra) -> dict:
    payload = {"terminal": "收银台 1 Till 1", "kind": "software-update", "done_at": "2026-05-01T18:00:00Z",
               "fields": fields or {"version-before": "2.4.0", "version-after": "2.4.1"}, "note": note}
    return event("maintenance.logged", payload, **extra)
