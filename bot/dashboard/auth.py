"""Login with Discord (OAuth2 authorization code with `state` and PKCE S256, scopes `identify guilds`), logout.

- GET /dashboard/login?next=PATH: rate limited ([web] login_attempts_per_minute per address and in all); a new
  `state` (single use, stored hashed with the PKCE verifier and the return path, which must be a dashboard path)
  and a redirect to Discord's consent page.
- GET /dashboard/auth/callback?code&state: the state is taken (a replay or an unknown state is refused), the code
  exchanged with the verifier, the user read; a new session replaces the browser's old one (rotation) and the
  browser goes back to the return path.
- POST /dashboard/logout (CSRF-checked): the session ends, the cookie is cleared.
Neither the client secret nor any token is ever logged or shown.
"""

from __future__ import annotations

import base64
import hashlib
import logging

from aiohttp import web
from yarl import URL

from bot.dashboard.app import (
    SESSION_ID,
    clear_session_cookie,
    dashboard_of,
    set_session_cookie,
)
from bot.dashboard.context import refuse, render, user_page
from bot.dashboard.discord_api import DiscordRefused, DiscordUnavailable
from bot.dashboard.security import PREFIX, safe_return_path
from bot.dashboard.sessions import Session, new_token

log = logging.getLogger(__name__)

SCOPES = "identify guilds"


def pkce_challenge(verifier: str) -> str:
    """S256: base64url(SHA-256(verifier)) without padding (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


LOOPBACK = ("127.0.0.1", "::1")


def _client_address(request: web.Request) -> str:
    """Who starts a login, for the rate limit: the peer, or, when the peer is a proxy on this machine, the address
    it says it forwards for (the last X-Forwarded-For entry: the one the proxy added itself)."""
    peer = request.remote or "?"
    forwarded = request.headers.get("X-Forwarded-For")
    if peer in LOOPBACK and forwarded:
        return forwarded.split(",")[-1].strip()[:64] or peer
    return peer


async def login(request: web.Request) -> web.StreamResponse:
    dashboard = dashboard_of(request)
    if not dashboard.api.oauth_ready:
        return refuse(
            request,
            503,
            "Login with Discord is not set up on this bot: its host sets [web] client_id and client_secret.",
        )
    if not dashboard.login_limit.allow(_client_address(request)):
        return refuse(request, 429, "Too many logins started: wait a minute, then try again.")
    return_to = safe_return_path(request.query.get("next"))
    verifier = new_token()
    state = await dashboard.sessions.begin_login(verifier, return_to)
    query = {
        "response_type": "code",
        "client_id": str(dashboard.api.client_id),
        "scope": SCOPES,
        "state": state,
        "redirect_uri": dashboard.redirect_uri,
        "code_challenge": pkce_challenge(verifier),
        "code_challenge_method": "S256",
        "prompt": "none",
    }
    raise web.HTTPSeeOther(str(URL(dashboard.api.authorize_url).with_query(query)))


async def callback(request: web.Request) -> web.StreamResponse:
    dashboard = dashboard_of(request)
    pending = await dashboard.sessions.take_login(request.query.get("state", ""))
    if pending is None:
        return refuse(request, 400, "This login link was already used or is too old: log in again.")
    if "error" in request.query or not request.query.get("code"):
        return refuse(request, 400, "Discord did not let you log in (you may have cancelled): log in again.")
    try:
        token = await dashboard.api.exchange_code(request.query["code"], pending.verifier, dashboard.redirect_uri)
        user = await dashboard.api.current_user(token)
        # The token's one other use; it is never stored (the session keeps the list, each page re-checks).
        managed = [(g.id, g.name) for g in await dashboard.api.user_guilds(user.id, token) if g.manages]
    except DiscordRefused:
        return refuse(request, 400, "Discord refused this login: log in again.")
    except DiscordUnavailable:
        return refuse(request, 503, "Discord did not answer: try again in a moment.")
    sid = await dashboard.sessions.create(user.id, user.name, managed, replacing=request.get(SESSION_ID) or None)
    log.info("dashboard login: user %s", user.id)
    response = web.HTTPSeeOther(safe_return_path(pending.return_to))
    set_session_cookie(response, dashboard, sid)
    raise response


@user_page
async def logout(request: web.Request, user: Session) -> web.StreamResponse:
    dashboard = dashboard_of(request)
    await dashboard.sessions.end(request[SESSION_ID])
    response = web.HTTPSeeOther(f"{PREFIX}/")
    clear_session_cookie(response, dashboard)
    raise response


async def logged_out(request: web.Request) -> web.StreamResponse:
    return render(request, "login.html")


def register(app: web.Application) -> None:
    app.router.add_get("/login", login, name="login")
    app.router.add_get("/auth/callback", callback, name="auth_callback")
    app.router.add_post("/logout", logout, name="logout")
