"""Accounts: argon2 password hashing, password rules, login with rate limiting, and API tokens.

Passwords are only ever handled as arguments here; neither they nor their hashes leave this module
except as the stored hash. API tokens are random (256 bits), so a fast SHA-256 of them is a safe
lookup key; the clear token is returned once, when it is issued.

Every password check (login, and the current password of a password change) goes through the same
limits, kept in the database so they hold across worker processes: see ``LIMITS``.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from ..domain.accounts import (
    ORGANIZATION_ROLES,
    ROLE_LABELS_ZH,
    Role,
    User,
    check_role_shape,
    username_key,
)
from ..errors import NotAuthenticated, PermissionDenied, TechBridgeError, TooManyLoginAttempts
from ..store import accounts as store
from . import sessions

MIN_PASSWORD_LENGTH = 8
USERNAME_MAX_LENGTH = 50  # users.username and login_attempts.username are VARCHAR(50)
MAX_PASSWORD_LENGTH = 200
LOGIN_WINDOW = timedelta(minutes=15)
"""Failures older than this no longer count, and no backoff is longer. Attempts older than this are
deleted (``_record_attempt``, ``prune_login_attempts``): no limit reads them again."""
PRUNE_BATCH = 1000
"""Most expired attempts one password check deletes, so a request's extra work stays bounded."""
LOGIN_TOKEN_LIFETIME = timedelta(days=7)
TOKEN_PREFIX = "tb_"


@dataclass(frozen=True)
class LoginLimit:
    """After ``threshold`` failures within ``LOGIN_WINDOW`` for one key, every further try (right password
    or not) must wait ``first_wait`` after the last failure, doubled per failure beyond the threshold and
    capped at ``LOGIN_WINDOW``."""

    threshold: int
    first_wait: timedelta
    by_username: bool
    by_address: bool


USER_ADDRESS_LIMIT = LoginLimit(threshold=5, first_wait=LOGIN_WINDOW, by_username=True, by_address=True)
"""One guesser at one account: five tries, then a quarter of an hour."""
ACCOUNT_LIMIT = LoginLimit(threshold=10, first_wait=timedelta(minutes=1), by_username=True, by_address=False)
"""Guesses at one account spread over many addresses. A backoff rather than a lock-out, so anyone
who can reach the login form cannot keep the owner out for long."""
ADDRESS_LIMIT = LoginLimit(threshold=20, first_wait=timedelta(minutes=1), by_username=False, by_address=True)
"""One address guessing at many accounts (password spraying); generous, since an office shares one
address."""
LIMITS = (USER_ADDRESS_LIMIT, ACCOUNT_LIMIT, ADDRESS_LIMIT)
MAX_FAILED_LOGINS = USER_ADDRESS_LIMIT.threshold
"""Failed logins allowed per username and address before refusing."""

_hasher = PasswordHasher()
# Verifying against this keeps a login for an unknown username as slow as one for a known user.
_DUMMY_HASH = _hasher.hash("techbridge-dummy-password")


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class Credential:
    """What a request proved who it is with: a browser session (by its key) or an API token (by its id)."""

    session_key: str | None = None
    token_id: int | None = None


@dataclass(frozen=True)
class IssuedToken:
    """A freshly made token: ``token`` is the only time the clear value exists."""

    token: str
    info: TokenInfo


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite returns stored UTC timestamps without their zone.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of public leaks (lower case), as the zxcvbn package ships them.

    Source: zxcvbn's ``passwords`` frequency list (Mark Burnett's 10 million password set as cleaned by
    the zxcvbn authors), MIT licence; see docs/security.md.
    """
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(word.casefold() for word in FREQUENCY_LISTS["passwords"])


def check_password(password: str, *, username: str) -> None:
    """Refuse a password that is short, blank, common, or built from the username (the reason in Chinese)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise TechBridgeError(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符 (password too short)")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise TechBridgeError(f"密码最多 {MAX_PASSWORD_LENGTH} 个字符 (password too long)")
    if not password.strip():
        raise TechBridgeError("密码不能全是空白字符 (password is blank)")
    folded = username_key(password)
    if username_key(username) in folded:
        raise TechBridgeError("密码不能包含用户名 (password contains the username)")
    if folded in common_passwords() or password.casefold() in common_passwords():
        raise TechBridgeError("密码过于常见, 很容易被猜中, 请换一个 (password is too common)")


def hash_password(password: str, *, username: str) -> str:
    check_password(password, username=username)
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    zone_code: str | None = None,
    organization: str | None = None,
    display_name: str = "",
) -> User:
    """Create an account; the role decides whether a zone and an organisation are required."""
    username = username.strip()
    if not 3 <= len(username) <= USERNAME_MAX_LENGTH:
        raise TechBridgeError(f"用户名长度应为 3–{USERNAME_MAX_LENGTH} 个字符")
    for label, value, limit in (("显示名称", display_name, 100), ("机构", organization or "", 200)):
        if len(value) > limit:  # as the columns hold: the same refusal on SQLite and PostgreSQL
            raise TechBridgeError(f"{label}太长, 最多 {limit} 个字")
    try:
        check_role_shape(role=role, zone_code=zone_code, organization=organization)
    except ValueError as exc:
        raise TechBridgeError(str(exc)) from None
    return store.insert_user(
        session,
        username=username,
        password_hash=hash_password(password, username=username),
        role=role,
        zone_code=zone_code or None,
        organization=organization or None,
        display_name=display_name or username,
    )


def check_can_manage(admin: User, *, role: Role, zone_code: str | None) -> None:
    """Platform admins create anyone; zone admins create non-admin users of their own zone."""
    if admin.role == Role.PLATFORM_ADMIN:
        return
    if admin.role != Role.ZONE_ADMIN:
        raise PermissionDenied("只有管理员可以管理账户")
    if role in (Role.PLATFORM_ADMIN, Role.ZONE_ADMIN) or zone_code != admin.zone_code:
        labels = "、".join(ROLE_LABELS_ZH[r] for r in sorted(ORGANIZATION_ROLES))
        raise PermissionDenied(f"园区管理员只能管理本园区的{labels}账户")


def authenticate(session: Session, *, username: str, password: str, ip: str) -> User:
    """Check a password, refusing while any of ``LIMITS`` holds for this username or address.

    Every attempt is recorded, so the limits hold across processes and restarts. The username is
    compared in its folded form, so changing its case counts as the same account.
    """
    if len(username) > USERNAME_MAX_LENGTH:  # no account has such a name, and the attempt log can't hold it
        raise NotAuthenticated("用户名或密码错误 (wrong username or password)")
    key = username_key(username)
    check_login_limits(session, username=key, ip=ip)
    row = store.find_user_row(session, username)
    valid = verify_password(row.password_hash if row else _DUMMY_HASH, password)
    if row is None or not valid or not row.is_active:
        _record_failure(session, username=key, ip=ip)
        raise NotAuthenticated("用户名或密码错误 (wrong username or password)")
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = _hasher.hash(password)
    row.last_login_at = _now()
    _record_attempt(session, username=key, ip=ip, succeeded=True)
    return store.row_to_user(row)


def check_login_limits(session: Session, *, username: str, ip: str) -> None:
    """Raise ``TooManyLoginAttempts`` (with the seconds to wait) while a limit holds for this try."""
    now = _now()
    wait_until = now
    for limit in LIMITS:
        count, last = store.failed_logins(
            session,
            since=now - LOGIN_WINDOW,
            username=username if limit.by_username else None,
            ip=ip if limit.by_address else None,
        )
        if count >= limit.threshold and last is not None:
            wait = min(limit.first_wait * 2 ** (count - limit.threshold), LOGIN_WINDOW)
            wait_until = max(wait_until, last + wait)
    if wait_until > now:
        raise TooManyLoginAttempts(math.ceil((wait_until - now).total_seconds()))


def _record_attempt(session: Session, *, username: str, ip: str, succeeded: bool) -> None:
    """Log a password check, first deleting the attempts of this username and of this address that have
    left ``LOGIN_WINDOW``.

    The limits never read those again: ``check_login_limits`` counts failures after ``now - LOGIN_WINDOW``,
    and a success older than that moves no count's start. They are deleted here, next to the insert,
    rather than in the check: the check runs before argon2's verify, and on SQLite a delete there would
    hold the database's write lock for as long as the hash takes.
    """
    store.delete_login_attempts(
        session, before=_now() - LOGIN_WINDOW, limit=PRUNE_BATCH, username=username, ip=ip
    )
    store.record_login_attempt(session, username=username, ip=ip, succeeded=succeeded)


def prune_login_attempts(session: Session, *, limit: int = 10 * PRUNE_BATCH) -> int:
    """Delete up to ``limit`` attempts of anyone that have left ``LOGIN_WINDOW`` (the worker's periodic
    cleanup: a name or an address never tried again keeps its last attempts otherwise)."""
    return store.delete_login_attempts(session, before=_now() - LOGIN_WINDOW, limit=limit)


def _record_failure(session: Session, *, username: str, ip: str) -> None:
    """Record a failed password check and commit it at once.

    The caller is about to raise, which rolls its unit of work back, and the failure must outlive that.
    It is committed in the caller's own transaction, which by then holds at most bookkeeping (a token's or
    session's last use): a second connection would wait for that transaction's write lock on SQLite.
    """
    _record_attempt(session, username=username, ip=ip, succeeded=False)
    session.commit()


def change_password(
    session: Session,
    *,
    user: User,
    current_password: str,
    new_password: str,
    ip: str,
    keep: Credential | None = None,
) -> None:
    """Set a new password and end every other session and API token of the user.

    The current password is checked under the same limits as a login (a stolen session must not become
    a way to guess it). Whoever knew the old password may hold a session or a token; only ``keep``, the
    credential the change was made with, survives, so the user stays logged in where they are.
    """
    key = username_key(user.username)
    check_login_limits(session, username=key, ip=ip)
    row = store.load_user_row(session, user.id, scope=user.scope)
    if not verify_password(row.password_hash, current_password):
        _record_failure(session, username=key, ip=ip)
        raise PermissionDenied("当前密码不正确")
    _record_attempt(session, username=key, ip=ip, succeeded=True)
    row.password_hash = hash_password(new_password, username=row.username)
    keep = keep or Credential()
    store.revoke_credentials(
        session,
        user_id=user.id,
        keep_session_hash=sessions.key_hash(keep.session_key) if keep.session_key else None,
        keep_token_id=keep.token_id,
    )
    session.flush()


def logout(session: Session, *, user: User, credential: Credential) -> None:
    """End the one session or token the request came with."""
    if credential.session_key is not None:
        sessions.end_session(session, sessions.BrowserSession(user.id, credential.session_key))
    if credential.token_id is not None:
        store.revoke_token(session, user_id=user.id, token_id=credential.token_id)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _token_info(row: store.ApiTokenRow) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        created_at=_aware(row.created_at),
        expires_at=_aware(row.expires_at) if row.expires_at else None,
        last_used_at=_aware(row.last_used_at) if row.last_used_at else None,
    )


def issue_token(session: Session, *, user: User, name: str, lifetime: timedelta | None = None) -> IssuedToken:
    """Make a bearer token for ``user``; ``lifetime=None`` means it lasts until revoked."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = store.insert_token(
        session,
        user_id=user.id,
        name=name,
        token_hash=_token_hash(token),
        prefix=token[:10],
        expires_at=_now() + lifetime if lifetime else None,
    )
    return IssuedToken(token=token, info=_token_info(row))


def user_for_token(session: Session, token: str) -> User:
    """The active user a bearer token belongs to, or NotAuthenticated."""
    return authenticate_token(session, token)[0]


def authenticate_token(session: Session, token: str) -> tuple[User, Credential]:
    """The active user a bearer token belongs to and the token as a credential, or NotAuthenticated."""
    row = store.find_token(session, _token_hash(token))
    if row is None or row.revoked_at is not None or (row.expires_at and _aware(row.expires_at) <= _now()):
        raise NotAuthenticated("令牌无效或已过期 (invalid or expired token)")
    user = store.get_user(session, row.user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated("账户已停用 (account disabled)")
    now = _now()
    # Recording every use would make each API call a write; once a minute is enough to audit. It is
    # written apart from the request's own work, so a busy database never fails the request for it.
    if row.last_used_at is None or _aware(row.last_used_at) < now - timedelta(minutes=1):
        store.record_token_use(session, row.id, now)
    return user, Credential(token_id=row.id)


def active_user(session: Session, user_id: int) -> User:
    """An account by id, if it still exists and is active (browser sessions: ``sessions.resume_session``)."""
    user = store.get_user(session, user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated("会话已失效, 请重新登录 (session expired)")
    return user


def list_tokens(session: Session, *, user: User) -> list[TokenInfo]:
    return [_token_info(row) for row in store.list_tokens(session, user.id)]


def revoke_token(session: Session, *, user: User, token_id: int) -> None:
    store.revoke_token(session, user_id=user.id, token_id=token_id)


def list_users(session: Session, *, admin: User) -> list[User]:
    if not admin.is_admin:
        raise PermissionDenied("只有管理员可以查看账户列表")
    return store.list_users(session, scope=admin.scope)


def set_active(session: Session, *, admin: User, user_id: int, is_active: bool) -> User:
    row = store.load_user_row(session, user_id, scope=admin.scope)
    check_can_manage(admin, role=Role(row.role), zone_code=row.zone_code)
    if row.id == admin.id:
        raise PermissionDenied("不能停用自己的账户")
    row.is_active = is_active
    if not is_active:
        # Switching the account back on later must not bring back what was out there.
        store.revoke_credentials(session, user_id=row.id)
    session.flush()
    return store.row_to_user(row)
