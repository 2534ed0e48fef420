"""No request may hold the server for ever: a body that stops arriving is ended.

An ASGI middleware wraps `receive` so that, until a request's body has fully arrived, each wait
for the next part of it is bounded by the `body_idle_seconds` setting. A client that goes silent
without closing (a half-open link, a phone out of range mid-upload) then gets RequestTimeout
(408): the blob upload route keeps the bytes that came for a resume and lets go of its claim.
Once the body is complete, `receive` is left alone (it then only waits for a disconnect).
"""

import anyio
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from sync.errors import RequestTimeout


class BodyTimeout:
    """Bound each wait for the next part of a request body."""

    def __init__(self, app: ASGIApp, idle_seconds: float):
        self.app, self.idle_seconds = app, idle_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        complete = False

        async def bounded_receive() -> Message:
            nonlocal complete
            if complete:
                return await receive()
            try:
                with anyio.fail_after(self.idle_seconds):
                    message = await receive()
            except TimeoutError:
                raise RequestTimeout(
                    f"body: nothing arrived for {self.idle_seconds:g} s; send the rest again from the offset "
                    "the server holds") from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                complete = True
            return message

        await self.app(scope, bounded_receive, send)
