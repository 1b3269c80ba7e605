"""What every dashboard answer carries and refuses: security headers, CSRF, return paths of our own only.

- Headers on every response (errors too; bot/web.py sets them for the whole server): a Content-Security-Policy
  with no inline script or style (scripts and styles come from /dashboard/static only), `frame-ancestors 'none'`
  (and X-Frame-Options DENY for old browsers), `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin`,
  and no caching of pages.
- CSRF: every form carries the session's token (`csrf` field, compared in constant time); a write also needs
  an Origin, when the browser sends one, of this site. A refused form changes nothing.
- Return paths: only a path of the dashboard itself (`/dashboard/...`), never a scheme, a host, `//` or `\\`.
"""

from __future__ import annotations

import hmac
import re

from aiohttp import web

from bot.web import CSP, SECURITY_HEADERS, security_headers

__all__ = ["CSP", "SECURITY_HEADERS", "csrf_ok", "origin_of", "safe_return_path", "security_headers"]

PREFIX = "/dashboard"
CSRF_FIELD = "csrf"
_SAFE_PATH = re.compile(r"/dashboard/[A-Za-z0-9._~/-]*(?:\?[A-Za-z0-9._~%&=+-]*)?")


def safe_return_path(value: str | None) -> str:
    """`value` when it is a path of the dashboard itself, else the dashboard's start page."""
    if not value or len(value) > 500 or "//" in value or "\\" in value or ".." in value:
        return f"{PREFIX}/"
    return value if _SAFE_PATH.fullmatch(value) else f"{PREFIX}/"


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL (an Origin header's form)."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def csrf_ok(request: web.Request, expected: str, given: str | None, public_base_url: str | None = None) -> bool:
    """The form's token is the session's, and the browser's Origin (when sent) is this site: the address it was
    reached at, or the public one (`[web] public_base_url`, behind a TLS proxy)."""
    origin = request.headers.get("Origin")
    ours = {f"{request.scheme}://{request.host}"} | ({origin_of(public_base_url)} if public_base_url else set())
    if origin is not None and origin not in ours:
        return False
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
