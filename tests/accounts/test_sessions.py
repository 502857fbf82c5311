"""Signed session cookies and CSRF tokens, as the web pages use them."""

from __future__ import annotations

from techbridge.services.sessions import (
    check_csrf,
    csrf_token,
    decode_session,
    encode_session,
    new_session,
)

SECRET = "test-secret"


def test_session_round_trip_and_tampering() -> None:
    session = new_session(7)
    cookie = encode_session(SECRET, session)
    assert decode_session(SECRET, cookie) == session
    assert decode_session("other-secret", cookie) is None
    assert decode_session(SECRET, cookie[:-2] + "xx") is None
    assert decode_session(SECRET, None) is None
    assert decode_session(SECRET, cookie, max_age=-1) is None
    assert new_session(7).nonce != session.nonce


def test_csrf_token_is_bound_to_its_session() -> None:
    mine, theirs = new_session(7), new_session(8)
    token = csrf_token(SECRET, mine)
    assert check_csrf(SECRET, mine, token)
    assert not check_csrf(SECRET, theirs, token)
    assert not check_csrf(SECRET, mine, None)
    assert not check_csrf(SECRET, mine, "forged")
    assert not check_csrf("other-secret", mine, token)
