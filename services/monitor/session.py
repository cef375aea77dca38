"""Who is asking the monitor: a token in `Authorization: Bearer <token>`, or the session cookie a token was
exchanged for once (the dashboard's sign-in). A token in a URL, a malformed Authorization header or an
unknown token is refused, never passed over for another way in.

The cookie is `<expiry>.<nonce>.<HMAC-SHA256 of both, keyed with the token>`: any monitor replica checks it
against the configured tokens (in constant time, like the tokens themselves), it ends at its expiry, and a
token removed from the configuration ends its sessions.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from isf.access import Role, role_of

COOKIE = "isf_session"
SESSION_S = 8 * 3600
_BEARER = re.compile(r"bearer +([\x21-\x7e]+) *", re.IGNORECASE)  # a token is printable ASCII, no spaces
_SESSION = re.compile(r"([0-9]{1,12})\.([A-Za-z0-9_-]{1,32})\.([0-9a-f]{64})")


class Unauthorized(Exception):
    """No usable credentials; the message says why without repeating what was presented."""


def _mac(token: str, expires: str, nonce: str) -> str:
    return hmac.new(token.encode(), f"isf-session|{expires}|{nonce}".encode(), hashlib.sha256).hexdigest()


def issue(token: str, now: float) -> str:
    """A session cookie value for a known token, valid for SESSION_S seconds."""
    expires, nonce = str(int(now) + SESSION_S), secrets.token_urlsafe(12)
    return f"{expires}.{nonce}.{_mac(token, expires, nonce)}"


def _session_token(tokens: dict[str, Role], value: str, now: float) -> str | None:
    m = _SESSION.fullmatch(value)
    if m is None or int(m.group(1)) < now:
        return None
    found = None
    for token in tokens:  # every token is tried: the time taken says nothing about which matched
        if hmac.compare_digest(_mac(token, m.group(1), m.group(2)), m.group(3)):
            found = token
    return found


def caller(
    tokens: dict[str, Role], authorization: str | None, cookie: str | None, token_in_query: bool, now: float
) -> tuple[str, Role]:
    """The token and role of a request; `Unauthorized` if there is none."""
    if token_in_query:
        raise Unauthorized("a token in the URL is refused: send Authorization: Bearer <token> or sign in")
    if authorization is not None:
        m = _BEARER.fullmatch(authorization)
        if m is None:
            raise Unauthorized("malformed Authorization header: expected Bearer <token>")
        role = role_of(tokens, m.group(1))
        if role is None:
            raise Unauthorized("missing or unknown token")
        return m.group(1), role
    token = _session_token(tokens, cookie, now) if cookie else None
    if token is None:
        raise Unauthorized("missing or unknown token")
    return token, tokens[token]


def token_key(token: str) -> str:
    """A name for a token that limits can count by and that reveals nothing of it."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]
