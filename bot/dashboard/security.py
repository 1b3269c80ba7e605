"""What every dashboard answer carries and refuses: security headers, CSRF, return paths of our own only.

- Headers on every response (errors too): a Content-Security-Policy with no inline script or style (scripts and
  styles come from /dashboard/static only), `frame-ancestors 'none'` (and X-Frame-Options DENY for old
  browsers), `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin`, and no caching of pages.
- CSRF: every form carries the session's token (`csrf` field, compared in constant time); a write also needs
  an Origin, when the browser sends one, of this site. A refused form changes nothing.
- Return paths: only a path of the dashboard itself (`/dashboard/...`), never a scheme, a host, `//` or `\\`.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Awaitable, Callable

from aiohttp import web

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
PREFIX = "/dashboard"
CSRF_FIELD = "csrf"
_SAFE_PATH = re.compile(r"/dashboard/[A-Za-z0-9._~/-]*(?:\?[A-Za-z0-9._~%&=+-]*)?")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _stamp(exc.headers, request)
        raise
    _stamp(response.headers, request)
    return response


def _stamp(headers: object, request: web.Request) -> None:
    assert hasattr(headers, "setdefault")
    for name, value in SECURITY_HEADERS.items():
        headers[name] = value  # type: ignore[index]
    if not request.path.startswith(f"{PREFIX}/static/"):
        headers["Cache-Control"] = "no-store"  # type: ignore[index]


def safe_return_path(value: str | None) -> str:
    """`value` when it is a path of the dashboard itself, else the dashboard's start page."""
    if not value or len(value) > 500 or "//" in value or "\\" in value or ".." in value:
        return f"{PREFIX}/"
    return value if _SAFE_PATH.fullmatch(value) else f"{PREFIX}/"


def csrf_ok(request: web.Request, expected: str, given: str | None) -> bool:
    """The form's token is the session's, and the browser's Origin (when sent) is this site."""
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.host}":
        return False
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
