"""OpenAPI helpers: request bodies that handlers read as raw bytes, and the bearer-token scheme."""

from litestar.openapi.spec import Components, Operation, SecurityScheme

BEARER = [{"bearer": []}]  # the security requirement of every authenticated route
COMPONENTS = Components(
    security_schemes={
        "bearer": SecurityScheme(type="http", scheme="bearer", description="a device token from /api/v1/enroll")
    }
)


def documented_body(schema: dict, media_types: tuple[str, ...] = ("application/json",)) -> type[Operation]:
    """An operation that shows a request body the handler decodes itself from the raw bytes."""

    class BodyOperation(Operation):
        def to_schema(self) -> dict:
            spec = super().to_schema()
            spec["requestBody"] = {"required": True, "content": {m: {"schema": schema} for m in media_types}}
            return spec

    return BodyOperation
