"""OpenAPI helpers: what the published schema says beyond what Litestar infers from the handlers.

Every refusal an operation can answer is listed with the problem+json body it carries (RFC 9457,
as server/errors.py writes it); request bodies and headers that handlers read themselves (a
push's raw bytes, a blob's upload headers) are described here; and the bearer-token scheme.
"""

from http import HTTPStatus

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Components, Operation, Schema, SecurityScheme

BEARER = [{"bearer": []}]  # the security requirement of every authenticated route
COMPONENTS = Components(
    security_schemes={
        "bearer": SecurityScheme(type="http", scheme="bearer", description="a device token from /api/v1/enroll")
    }
)
PROBLEM = "application/problem+json"


class FieldError(msgspec.Struct):
    message: str
    key: str | None = None
    source: str | None = None


class Problem(msgspec.Struct):
    """A refusal, as every error answer carries it: the status and a detail naming what is at fault."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None  # each field a request body's validation refused


WHY = {
    400: "the request is malformed; the detail names the field",
    401: "no bearer token, or one unknown or revoked",
    403: "the enrollment code is unknown, used or expired",
    404: "nothing there",
    408: "the request's body stopped arriving",
    409: "another upload of this blob is under way, the offset is not the one held, or the device is enrolled",
    413: "too much in one request: events in a push, bytes in a blob, unfinished uploads of a device",
    415: "the blob is not a JPEG, PNG or WebP image",
    422: "the blob does not hash to its name, is a decompression bomb, or carries text metadata",
    429: "too many attempts; Retry-After says when to try again",
    503: "the database is busy; Retry-After says when to try again",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """The `responses` of an operation that can refuse with these statuses, each a problem+json body."""
    return {
        status: ResponseSpec(Problem, description=f"{HTTPStatus(status).phrase}: {WHY[status]}", media_type=PROBLEM,
                             generate_examples=False)
        for status in statuses
    }


def documented(body: dict | None = None, media_types: tuple[str, ...] = ("application/json",),
               headers: tuple[tuple[str, dict, str], ...] = ()) -> type[Operation]:
    """An operation that shows a request body (and headers) the handler reads itself from the raw request."""

    class DocumentedOperation(Operation):
        def to_schema(self) -> dict:
            spec = super().to_schema()
            if body is not None:
                spec["requestBody"] = {"required": True, "content": {m: {"schema": body} for m in media_types}}
            if headers:
                spec.setdefault("parameters", []).extend(
                    {"name": name, "in": "header", "required": False, "schema": schema, "description": about}
                    for name, schema, about in headers
                )
            return spec

    return DocumentedOperation


class ClosedStructs(StructSchemaPlugin):
    """Wire types refuse unknown fields (`forbid_unknown_fields`), and their schemas say so
    (`additionalProperties: false`), as msgspec's own schemas do and Litestar's do not."""

    def is_plugin_supported_field(self, field_definition) -> bool:
        config = getattr(field_definition.type_, "__struct_config__", None)
        return super().is_plugin_supported_field(field_definition) and bool(config and config.forbid_unknown_fields)

    def to_openapi_schema(self, field_definition, schema_creator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        return schema
