"""Security headers on every response, static files and errors included."""

from litestar.types import Message, Scope

# No inline script or style anywhere: pages load /static files only, so the policy can be strict.
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
])

HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(self), geolocation=(), microphone=()"),
]


# Sent only when the server itself speaks TLS: a year, as browsers' preload rules expect.
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


def security_headers(tls: bool):
    """A before_send hook adding the headers to every response, 404s that match no route included."""
    headers = HEADERS + [HSTS] if tls else HEADERS

    async def add_security_headers(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = list(message.get("headers", [])) + headers

    return add_security_headers
