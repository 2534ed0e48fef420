"""The hub's certificate page: how to install the shop's certificate authority on a phone.

/zh/tls and /en/tls say how on Android and on iOS, with the authority's fingerprint to compare
and a QR code (inline SVG) linking to its download (/tls/posaid-ca.crt), so a phone can get it from a screen
in the back office. Each answers 404 until `posaid tls init` has made the authority (server/tls.py).
"""

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler

from content.load import Library
from server.office.register import public_base, qr_svg
from server.settings import Settings
from server.site import Site, Translator, assets, environment, render
from server.tls import authority

CA_FILE = "/tls/posaid-ca.crt"


def _authority(settings: Settings) -> tuple[bytes, str]:
    found = authority(settings.data)
    if found is None:
        raise NotFoundException("no certificate authority here: run `posaid tls init` on the hub")
    return found


def _download_url(request: Request, settings: Settings) -> str:
    return public_base(settings, request).rstrip("/") + CA_FILE


def routes() -> list[HTTPRouteHandler]:
    env = environment()

    @get(["/zh/tls", "/en/tls"], include_in_schema=False, sync_to_thread=False)
    def page(request: Request, settings: NamedDependency[Settings], library: NamedDependency[Library],
             site: NamedDependency[Site]) -> Response:
        """How to install the shop's certificate authority on Android and iOS."""
        _, fingerprint = _authority(settings)
        env.globals.update(asset=assets(site.static), public_url=public_base(settings, request).rstrip("/"))
        lang = request.url.path.split("/")[1]
        url = _download_url(request, settings)
        html = render(env, library, lang, request.url.path, "tls.html", download=CA_FILE, download_url=url,
                      fingerprint=fingerprint, qr=qr_svg(url, Translator(library.strings, lang)("tls.qr_title")))
        return Response(html, media_type="text/html", headers={"cache-control": "no-cache"})

    @get(CA_FILE, include_in_schema=False, sync_to_thread=False)
    def download(settings: NamedDependency[Settings]) -> Response:
        """The authority's certificate (DER), as phones install it."""
        der, _ = _authority(settings)
        return Response(der, media_type="application/x-x509-ca-cert",
                        headers={"content-disposition": 'attachment; filename="posaid-ca.crt"', "cache-control": "no-cache"})

    return [page, download]
