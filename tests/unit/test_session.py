"""The monitor's callers: a Bearer token or the session cookie it was exchanged for; nothing else gets in."""

import pytest

from isf.access import Role
from services.monitor.session import SESSION_S, Unauthorized, caller, issue, token_key

NATIONAL, VEST = "n" * 20, "v" * 20
TOKENS = {NATIONAL: Role("national"), VEST: Role("rhf", "vest")}
NOW = 1_800_000_000.0


def test_a_bearer_token_names_its_role_in_any_case_of_the_scheme():
    assert caller(TOKENS, f"Bearer {VEST}", None, False, NOW) == (VEST, Role("rhf", "vest"))
    assert caller(TOKENS, f"bearer {NATIONAL}", None, False, NOW)[1] == Role("national")


@pytest.mark.parametrize("header", [f"Basic {NATIONAL}", NATIONAL, "Bearer", "Bearer ", f"Bearer {NATIONAL} x"])
def test_a_malformed_authorization_header_is_refused_even_with_a_valid_session(header):
    with pytest.raises(Unauthorized, match="malformed"):
        caller(TOKENS, header, issue(NATIONAL, NOW), False, NOW)


def test_a_token_in_the_url_is_refused_whatever_else_comes_with_it():
    with pytest.raises(Unauthorized, match="URL"):
        caller(TOKENS, f"Bearer {NATIONAL}", None, True, NOW)


def test_a_session_is_the_role_of_its_token_until_it_expires_or_the_token_is_removed():
    cookie = issue(VEST, NOW)
    assert NATIONAL not in cookie and VEST not in cookie
    assert caller(TOKENS, None, cookie, False, NOW + SESSION_S - 1) == (VEST, Role("rhf", "vest"))
    for tokens, at in ((TOKENS, NOW + SESSION_S + 1), ({NATIONAL: Role("national")}, NOW)):
        with pytest.raises(Unauthorized, match="missing or unknown token"):
            caller(tokens, None, cookie, False, at)


@pytest.mark.parametrize("change", [lambda c: c[:-1] + ("0" if c[-1] != "0" else "1"), lambda c: "9" + c, str.upper])
def test_a_changed_session_cookie_is_refused(change):
    with pytest.raises(Unauthorized):
        caller(TOKENS, None, change(issue(NATIONAL, NOW)), False, NOW)


def test_no_credentials_is_refused_and_a_token_key_reveals_nothing_of_the_token():
    with pytest.raises(Unauthorized, match="missing or unknown token"):
        caller(TOKENS, None, None, False, NOW)
    assert token_key(NATIONAL) != token_key(VEST) and NATIONAL not in token_key(NATIONAL)
