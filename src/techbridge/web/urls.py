"""Every URL the web pages link to is built here, so no template or route hand-writes a path."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, urlencode

STATIC_DIR = Path(__file__).parent / "static"

# The path segment of each record kind's pages.
KIND_PATHS = {
    "demand": "demands",
    "achievement": "achievements",
    "expert": "experts",
    "instrument": "instruments",
    "pilot_platform": "pilot-platforms",
}
PATH_KINDS = {path: kind for kind, path in KIND_PATHS.items()}


@lru_cache(maxsize=64)
def _content_hash(path: str) -> str:
    return hashlib.sha1((STATIC_DIR / path).read_bytes()).hexdigest()[:10]


def _with_query(path: str, params: dict[str, object]) -> str:
    clean = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(clean)}" if clean else path


class Urls:
    """URL builder handed to every template as ``urls``."""

    def home(self) -> str:
        return "/"

    def login(self, next_url: str | None = None) -> str:
        return _with_query("/login", {"next": next_url})

    def logout(self) -> str:
        return "/logout"

    def static(self, path: str) -> str:
        """Asset URL with a content hash, so browsers refetch exactly when the file changes."""
        return f"/static/{path}?v={_content_hash(path)}"

    def kind_list(self, kind: str, /, **params: object) -> str:
        return _with_query(f"/{KIND_PATHS[kind]}", params)

    def record_new(self, kind: str) -> str:
        return f"/{KIND_PATHS[kind]}/new"

    def record(self, kind: str, record_id: int) -> str:
        return f"/{KIND_PATHS[kind]}/{record_id}"

    def record_edit(self, kind: str, record_id: int) -> str:
        return f"{self.record(kind, record_id)}/edit"

    def record_archive(self, kind: str, record_id: int) -> str:
        return f"{self.record(kind, record_id)}/archive"

    def matches(self, kind: str, record_id: int) -> str:
        return f"{self.record(kind, record_id)}/matches"

    def run_matching(self, kind: str, record_id: int) -> str:
        return f"{self.record(kind, record_id)}/matches/run"

    def start_deal(self, kind: str, record_id: int) -> str:
        return f"{self.record(kind, record_id)}/deals"

    def deal_confirm(self, kind: str, record_id: int, target_kind: str, target_id: int) -> str:
        """The confirmation step (with a note) before a deal is started from a match."""
        path = f"{self.record(kind, record_id)}/deals/new"
        return _with_query(path, {"target_kind": target_kind, "target_id": target_id})

    def deal_note(self, deal_id: int) -> str:
        return f"/deals/{deal_id}/notes"

    def deal_file(self, deal_id: int, file_id: int) -> str:
        return f"/deals/{deal_id}/files/{file_id}"

    def bookings(self, instrument_id: int, week: str | None = None) -> str:
        return _with_query(self.record("instrument", instrument_id), {"week": week})

    def booking_create(self, instrument_id: int) -> str:
        return f"{self.record('instrument', instrument_id)}/bookings"

    def free_slots(self, instrument_id: int, /, **params: object) -> str:
        return _with_query(f"{self.record('instrument', instrument_id)}/free-slots", params)

    def my_bookings(self) -> str:
        return "/bookings"

    def booking_decision(self, booking_id: int) -> str:
        return f"/bookings/{booking_id}/decision"

    def booking_cancel(self, booking_id: int) -> str:
        return f"/bookings/{booking_id}/cancel"

    def capability(self) -> str:
        return "/capability"

    def import_upload(self) -> str:
        return "/import"

    def import_confirm(self) -> str:
        return "/import/confirm"

    def account(self) -> str:
        return "/account"

    def account_password(self) -> str:
        return "/account/password"

    def account_tokens(self) -> str:
        return "/account/tokens"

    def admin_users(self) -> str:
        return "/admin/users"

    def deals(self) -> str:
        return "/deals"

    def deal(self, deal_id: int) -> str:
        return f"/deals/{deal_id}"

    def deal_advance(self, deal_id: int) -> str:
        return f"/deals/{deal_id}/advance"

    def deal_drop(self, deal_id: int) -> str:
        return f"/deals/{deal_id}/drop"

    def dashboard(self, zone: str = "") -> str:
        return _with_query("/dashboard", {"zone": zone})

    def funnel(self, zone: str = "") -> str:
        return _with_query("/dashboard/funnel", {"zone": zone})

    def monthly_report(self, month: str = "", zone: str = "") -> str:
        return _with_query("/reports/monthly", {"month": month, "zone": zone})

    def analytics_export(self, metric: str, fmt: str, zone: str = "") -> str:
        """Download of one analytics table, served by the REST API with the same login."""
        return _with_query(f"/api/v1/analytics/{metric}/export", {"format": fmt, "zone": zone})

    # -- background jobs, exports, notifications, settings (web/views/) --

    def jobs(self, zone: str = "") -> str:
        return _with_query("/jobs", {"zone": zone})

    def job(self, job_id: int) -> str:
        return f"/jobs/{job_id}"

    def job_status(self, job_id: int) -> str:
        return f"/jobs/{job_id}/status"

    def job_cancel(self, job_id: int) -> str:
        return f"/jobs/{job_id}/cancel"

    def job_file(self, job_id: int, name: str) -> str:
        return f"/jobs/{job_id}/files/{quote(name)}"

    def batch_match(self) -> str:
        return "/jobs/batch-match"

    def import_mapping(self) -> str:
        return "/import/mapping"

    def import_run(self, preview_id: int) -> str:
        return f"/import/{preview_id}/confirm"

    def import_template(self, kind: str, fmt: str) -> str:
        return f"/import/templates/{kind}.{fmt}"

    def kind_export(self, kind: str) -> str:
        return f"/{KIND_PATHS[kind]}/export"

    def record_restore(self, kind: str, record_id: int) -> str:
        return f"{self.record(kind, record_id)}/restore"

    def notifications(self) -> str:
        return "/notifications"

    def notification_open(self, notification_id: int) -> str:
        return f"/notifications/{notification_id}/open"

    def notifications_read_all(self) -> str:
        return "/notifications/read-all"

    def notification_prefs(self) -> str:
        return "/notifications/prefs"

    def zone_settings(self, zone: str = "") -> str:
        return _with_query("/settings/zone", {"zone": zone})

    def zone_mapping_forget(self, kind: str, zone: str = "") -> str:
        return _with_query(f"/settings/zone/mappings/{kind}/forget", {"zone": zone})

    def zone_thesaurus_upload(self, zone: str = "") -> str:
        return _with_query("/settings/zone/thesaurus", {"zone": zone})

    def zone_thesaurus_csv(self, zone: str = "") -> str:
        return _with_query("/settings/zone/thesaurus.csv", {"zone": zone})

    def zone_thesaurus_template(self) -> str:
        return "/settings/zone/thesaurus/template.csv"

    def chains(self, zone: str = "") -> str:
        return _with_query("/settings/chains", {"zone": zone})

    def chain_remove(self, code: str, zone: str = "") -> str:
        return _with_query(f"/settings/chains/{quote(code)}/remove", {"zone": zone})


urls = Urls()
