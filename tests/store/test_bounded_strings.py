"""Every bounded text column has its bound checked before the store (issue 9 #13).

SQLite stores any length in a ``VARCHAR(n)``; PostgreSQL refuses what is too long. Unless the platform checks
each bound itself, the same request succeeds on one database and fails on the other. The first test walks
every ``String(n)`` column of the schema, so a new column cannot be added without saying what bounds it.
"""

from __future__ import annotations

from enum import Enum

import annotated_types
import pytest
from pydantic import BaseModel, ValidationError
from sqlalchemy import String

from techbridge.api.routers.deals import DealCreate
from techbridge.api.schemas import TokenCreate
from techbridge.domain.accounts import Role, User
from techbridge.domain.bookings import BOOKED_BY_MAX_LENGTH, PURPOSE_MAX_LENGTH
from techbridge.domain.calendar import BookingStatus
from techbridge.domain.deals import RESOURCE_KINDS, DealStage
from techbridge.domain.records import (
    RECORD_TYPES,
    Achievement,
    Demand,
    IndustryChain,
    Organization,
    Record,
    Zone,
)
from techbridge.services import jobs as job_service
from techbridge.services.accounts import USERNAME_MAX_LENGTH
from techbridge.services.deal_work import ALLOWED_SUFFIXES
from techbridge.services.notifications import EMAIL_MAX_LENGTH
from techbridge.services.notifications import KIND_LABELS as NOTIFICATION_KINDS
from techbridge.services.zone_thesaurus import RELATED_MAX_LENGTH, TERM_MAX_LENGTH
from techbridge.store import accounts as _accounts  # noqa: F401  (registers the account tables)
from techbridge.store import deal_notes as _deal_notes  # noqa: F401  (registers the note and file tables)
from techbridge.store import deals as _deals  # noqa: F401  (registers the deal tables)
from techbridge.store import jobs as job_store
from techbridge.store import notifications as _notifications  # noqa: F401  (registers its tables)
from techbridge.store import zone_settings as _zone_settings  # noqa: F401  (registers its table)
from techbridge.store import zone_thesaurus as _zone_thesaurus  # noqa: F401  (registers its table)
from techbridge.store.tables import RECORD_TABLES, Base
from techbridge.text.thesaurus import RELATIONS

MODELS: dict[str, type[BaseModel]] = {
    **{RECORD_TABLES[kind].__tablename__: RECORD_TYPES[kind] for kind in RECORD_TABLES},
    "zones": Zone,
    "industry_chains": IndustryChain,
}
"""Tables whose columns are named like the fields of the domain model that validates their rows."""
DERIVED = {"natural_key", "content_hash", "duplicate_key"}
"""Computed by the domain models: short prefixes and hex digests (see ``Record.natural_key``)."""
PARSED = {
    ("achievements", "application_number"): Achievement,
    ("achievements", "publication_number"): Achievement,
    ("organizations", "credit_code"): Organization,
    ("zones", "approved_date"): Zone,
}
"""Identifiers the domain parses into a canonical form or checks against a pattern."""
KINDS = [*RECORD_TYPES, *(table.__tablename__ for table in RECORD_TABLES.values())]
OTHER: dict[tuple[str, str], object] = {
    ("users", "username"): (User, "username"),
    ("users", "display_name"): (User, "display_name"),
    ("users", "zone_code"): (User, "zone_code"),
    ("users", "organization"): (User, "organization"),
    ("users", "role"): Role,
    ("users", "password_hash"): "an argon2 hash, under 100 characters",
    ("users", "username_key"): "the case-folded username: a 50-character name folds to far less than 200",
    ("user_sessions", "key_hash"): "a SHA-256 hex digest",
    ("api_tokens", "name"): (TokenCreate, "name"),  # the web form cuts the name to 100
    ("api_tokens", "token_hash"): "a SHA-256 hex digest",
    ("api_tokens", "prefix"): "the first 10 characters of the token",
    ("login_attempts", "username"): USERNAME_MAX_LENGTH,  # longer names are refused before the log
    ("login_attempts", "ip"): "the client's address (an IPv6 address is at most 45 characters)",
    ("instrument_bookings", "purpose"): PURPOSE_MAX_LENGTH,
    ("instrument_bookings", "booked_by"): BOOKED_BY_MAX_LENGTH,
    ("instrument_bookings", "status"): BookingStatus,
    ("instrument_bookings", "decided_by"): "cut to 100 characters by store.bookings.set_status",
    ("instrument_bookings", "decision_note"): "cut to 500 characters by store.bookings.set_status",
    ("site_flags", "key"): "names fixed in the code (store.site_flags.DEMO_NOTICE)",
    ("deals", "zone_code"): (Record, "zone_code"),
    ("deals", "title"): "cut to 300 characters by services.deals.start_deal",
    ("deals", "stage"): DealStage,
    ("deals", "enterprise"): (DealCreate, "enterprise"),  # or the demand's organisation
    ("deals", "industry_chain"): (Demand, "industry_chain"),
    ("deals", "created_by"): (User, "username"),
    ("deal_events", "from_stage"): DealStage,
    ("deal_events", "to_stage"): DealStage,
    ("deal_events", "actor"): (User, "username"),
    ("deal_resources", "resource_kind"): RESOURCE_KINDS,
    ("deal_resources", "resource_zone"): (Record, "zone_code"),
    ("deal_resources", "title"): (Achievement, "title"),  # the longest title or name of any kind
    ("deal_resources", "owner"): (Achievement, "owner"),  # every owner field (OWNER_FIELDS) is 200
    ("deal_notes", "author"): (User, "username"),
    ("deal_notes", "author_name"): (User, "display_name"),
    ("deal_files", "name"): "cut to 200 characters by services.deal_work",
    ("deal_files", "content_type"): list(ALLOWED_SUFFIXES.values()),
    ("deal_files", "storage_key"): "a random key made by services.deal_work (secrets.token_hex)",
    ("deal_files", "uploaded_by"): (User, "username"),
    ("match_results", "source_kind"): KINDS,
    ("match_results", "target_kind"): KINDS,
    ("match_runs", "source_kind"): KINDS,
    ("match_results", "source_zone"): (Record, "zone_code"),
    ("match_results", "target_zone"): (Record, "zone_code"),
    ("import_log", "kind"): KINDS,
    ("import_log", "file_name"): "a file's name: at most 255 bytes on Linux",
    ("import_log", "zone_code"): (Record, "zone_code"),
    ("jobs", "kind"): list(job_service.KIND_LABELS),
    ("jobs", "state"): [job_store.QUEUED, job_store.RUNNING, *job_store.FINISHED_STATES],
    ("jobs", "title"): "cut to 300 characters by store.jobs",
    ("jobs", "zone_code"): (Record, "zone_code"),
    ("jobs", "created_by"): "cut to 50 characters by store.jobs",
    ("jobs", "progress_note"): "cut to 200 characters by store.jobs",
    ("jobs", "dedupe_key"): "made by services.jobs: match:<kind>/<id> or batch_match",
    ("jobs", "worker"): "cut to 100 characters by store.jobs.claim",
    ("zone_settings", "zone_code"): (Record, "zone_code"),
    ("zone_settings", "name"): "option names and import_mapping:<kind> (services.zone_settings)",
    ("zone_settings", "updated_by"): "cut to 50 characters by store.zone_settings.put_setting",
    ("zone_thesaurus_terms", "zone_code"): (Record, "zone_code"),
    ("zone_thesaurus_terms", "term"): TERM_MAX_LENGTH,
    ("zone_thesaurus_terms", "related"): RELATED_MAX_LENGTH,
    ("zone_thesaurus_terms", "relation"): list(RELATIONS),
    ("notification_prefs", "email"): EMAIL_MAX_LENGTH,
    ("notifications", "kind"): list(NOTIFICATION_KINDS),
    ("notifications", "title"): "cut to 300 characters by store.notifications.insert_notifications",
    ("notifications", "link"): "cut to 500 characters by store.notifications.insert_notifications",
    ("notifications", "email_state"): ["pending", "sent", "failed", "skipped"],
    ("notifications", "email_error"): "cut to 300 characters by store.notifications.set_email_state",
}
"""Every other bounded column: the model field, limit, enum or values that bound it, or why none is needed."""


def _max_length(model: type[BaseModel], name: str) -> int | None:
    field = model.model_fields[name]
    return next((m.max_length for m in field.metadata if isinstance(m, annotated_types.MaxLen)), None)


def _longest(bound: object) -> int | None:
    """The longest value ``bound`` lets through (None: unbounded); a string is a stated reason."""
    if isinstance(bound, tuple) and isinstance(bound[0], type) and issubclass(bound[0], BaseModel):
        return _max_length(*bound)
    if isinstance(bound, int):
        return bound
    if isinstance(bound, type) and issubclass(bound, Enum):
        return max(len(str(member.value)) for member in bound)
    if isinstance(bound, list | tuple):
        return max(len(value) for value in bound)
    assert isinstance(bound, str) and bound, bound
    return 0


def _bounded_columns() -> list[tuple[str, str, int]]:
    return [
        (table.name, column.name, column.type.length)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, String) and column.type.length
    ]


@pytest.mark.parametrize(("table", "column", "length"), _bounded_columns(), ids=lambda v: str(v))
def test_every_bounded_column_is_bounded_before_the_store(table: str, column: str, length: int) -> None:
    if (table, column) in PARSED or (table in MODELS and column in DERIVED):
        return  # checked by the tests below
    if table in MODELS and column in MODELS[table].model_fields:
        annotation = MODELS[table].model_fields[column].annotation
        is_enum = isinstance(annotation, type) and issubclass(annotation, Enum)
        bound: object = annotation if is_enum else (MODELS[table], column)
    else:
        assert (table, column) in OTHER, f"{table}.{column} VARCHAR({length}): say what bounds it in OTHER"
        bound = OTHER[(table, column)]
    longest = _longest(bound)
    assert longest is not None, f"{table}.{column} VARCHAR({length}) is not bounded by {bound}"
    assert longest <= length, (
        f"{table}.{column}: {bound} lets {longest} characters through, column has {length}"
    )


@pytest.mark.parametrize(("table", "column"), sorted(PARSED))
def test_parsed_identifiers_refuse_what_does_not_fit(table: str, column: str) -> None:
    model = PARSED[(table, column)]
    base = {"zone_code": "wuxi", "title": "一种测试方法", "name": "测试名称", "code": "t", "province": "江苏"}
    with pytest.raises(ValidationError):
        model.model_validate({**base, column: "CN" + "1" * 40})


def test_derived_keys_fit_their_columns() -> None:
    """``content_hash`` is a SHA-1 hex digest (40); the natural and near-duplicate keys are built here."""
    longest = Demand(zone_code="z" * 32, title="标题" * 100, organization="单位" * 100, external_id="e" * 64)
    assert len(longest.natural_key()) <= 200
    assert len(longest.duplicate_key() or "") <= 20
    assert len(longest.model_copy(update={"external_id": None}).natural_key()) <= 200


def test_a_login_with_an_overlong_username_is_refused_alike_on_every_database(db_url: str) -> None:
    """The failed attempt was logged into VARCHAR(50): stored on SQLite, a DataError (500) on PostgreSQL."""
    from techbridge.errors import NotAuthenticated
    from techbridge.services import accounts
    from techbridge.store.db import session_scope

    with session_scope(db_url) as session, pytest.raises(NotAuthenticated):
        accounts.authenticate(session, username="u" * 60, password="whatever-1", ip="203.0.113.9")


@pytest.mark.parametrize("field", ["display_name", "organization"])
def test_an_overlong_account_field_is_refused_alike_on_every_database(db_url: str, field: str) -> None:
    """SQLite stored these and then failed to read the account back; PostgreSQL refused the insert."""
    from techbridge.errors import TechBridgeError
    from techbridge.services import accounts
    from techbridge.store.db import session_scope

    fields = {"display_name": "", "organization": "无锡甲公司", field: "长" * 201}
    with session_scope(db_url) as session, pytest.raises(TechBridgeError, match="太长"):
        accounts.create_user(
            session, username="long_names", password="a-very-long-passphrase-42", role=Role.ENTERPRISE,
            zone_code="wuxi", **fields,
        )  # fmt: skip
