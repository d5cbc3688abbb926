"""What every gateway response carries, and what a request that came over HTTPS adds.

The client's address and scheme are uvicorn's own proxy-header handling's
(``ProxyHeadersMiddleware``): ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed only
from the proxies of ``AMNESTY_TRUSTED_PROXIES``. When the scheme is then ``https``, every
cookie gets ``Secure`` and the response carries HSTS. Every response forbids framing and
sniffing and, unless its page says otherwise, allows no content at all (CSP).
"""

from __future__ import annotations

from functools import lru_cache

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from knowledge.local.files import secret_file
from settings import Settings

# A page that loads a script or a style sets its own, narrower-than-nothing-else policy.
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
BASE_HEADERS = (
    (b"content-security-policy", DEFAULT_CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
HSTS = (b"strict-transport-security", b"max-age=31536000")


def secured(headers: list[tuple[bytes, bytes]], https: bool) -> list[tuple[bytes, bytes]]:
    """``headers`` with the defaults added where missing, and Secure cookies and HSTS on HTTPS."""
    present = {name.lower() for name, _ in headers}
    result = []
    for name, value in headers:
        if https and name.lower() == b"set-cookie" and b"secure" not in value.lower():
            value += b"; Secure"
        result.append((name, value))
    result += [(name, value) for name, value in BASE_HEADERS if name not in present]
    if https:
        result.append(HSTS)
    return result


class SecurityHeaders:
    """Pure ASGI middleware applying :func:`secured` to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = secured(list(message.get("headers", [])), https)
            await send(message)

        await self.app(scope, receive, send_secured)


@lru_cache(maxsize=8)
def app_secret(settings: Settings) -> str:
    """The key that signs the gateway's cookies (staff sessions, the web chat's browser id):
    ``AMNESTY_SECRET_KEY``, or made once into var_dir (0600, never empty)."""
    if settings.secret_key:
        return settings.secret_key
    return secret_file(settings.var_dir / "staff_secret_key")


def gateway_middleware(settings: Settings) -> list[Middleware]:
    """Outermost first: the real client and scheme, then the headers that depend on them."""
    return [
        Middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies),
        Middleware(SecurityHeaders),
    ]
