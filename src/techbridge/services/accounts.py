"""Accounts: argon2 password hashing, login with rate limiting, and API tokens.

Passwords are only ever handled as arguments here; neither they nor their hashes leave this module
except as the stored hash. API tokens are random (256 bits), so a fast SHA-256 of them is a safe
lookup key; the clear token is returned once, when it is issued.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from ..domain.accounts import ORGANIZATION_ROLES, ROLE_LABELS_ZH, Role, User, check_role_shape
from ..errors import NotAuthenticated, PermissionDenied, TechBridgeError, TooManyLoginAttempts
from ..store import accounts as store

MIN_PASSWORD_LENGTH = 8
USERNAME_MAX_LENGTH = 50  # users.username and login_attempts.username are VARCHAR(50)
MAX_FAILED_LOGINS = 5
"""Failed logins allowed per username and address within ``LOGIN_WINDOW`` before refusing."""
LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_TOKEN_LIFETIME = timedelta(days=7)
TOKEN_PREFIX = "tb_"

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
class IssuedToken:
    """A freshly made token: ``token`` is the only time the clear value exists."""

    token: str
    info: TokenInfo


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite returns stored UTC timestamps without their zone.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise TechBridgeError(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符 (password too short)")
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
    try:
        check_role_shape(role=role, zone_code=zone_code, organization=organization)
    except ValueError as exc:
        raise TechBridgeError(str(exc)) from None
    return store.insert_user(
        session,
        username=username,
        password_hash=hash_password(password),
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
    """Check a password, refusing after too many recent failures for this username and address.

    Every attempt is recorded, so the limit holds across processes and restarts.
    """
    if len(username) > USERNAME_MAX_LENGTH:  # no account has such a name, and the attempt log can't hold it
        raise NotAuthenticated("用户名或密码错误 (wrong username or password)")
    failures = store.count_failed_logins(session, username=username, ip=ip, since=_now() - LOGIN_WINDOW)
    if failures >= MAX_FAILED_LOGINS:
        raise TooManyLoginAttempts(int(LOGIN_WINDOW.total_seconds()))
    row = store.find_user_row(session, username)
    valid = verify_password(row.password_hash if row else _DUMMY_HASH, password)
    if row is None or not valid or not row.is_active:
        _record_failure(session, username=username, ip=ip)
        raise NotAuthenticated("用户名或密码错误 (wrong username or password)")
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = _hasher.hash(password)
    row.last_login_at = _now()
    store.record_login_attempt(session, username=username, ip=ip, succeeded=True)
    return store.row_to_user(row)


def _record_failure(session: Session, *, username: str, ip: str) -> None:
    # The caller's transaction rolls back on the error about to be raised; the failure must outlive it.
    with Session(session.get_bind()) as own:
        store.record_login_attempt(own, username=username, ip=ip, succeeded=False)
        own.commit()


def change_password(session: Session, *, user: User, current_password: str, new_password: str) -> None:
    row = store.load_user_row(session, user.id, scope=user.scope)
    if not verify_password(row.password_hash, current_password):
        raise PermissionDenied("当前密码不正确")
    row.password_hash = hash_password(new_password)
    session.flush()


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
    return user


def active_user(session: Session, user_id: int) -> User:
    """The user a signed session cookie names, if the account still exists and is active."""
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
    session.flush()
    return store.row_to_user(row)
