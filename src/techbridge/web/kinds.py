"""What each record kind shows on its list, detail and form pages: one table drives the generic views."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..domain.enums import AchievementKind, DemandStatus, LegalStatus, Visibility, label_zh

Choices = tuple[tuple[str, str], ...]


def _choices(enum_type: type[StrEnum]) -> Choices:
    return tuple((m.value, label_zh(m)) for m in enum_type)


TRL_CHOICES: Choices = tuple((str(n), f"TRL {n}") for n in range(1, 10))


@dataclass(frozen=True)
class Field:
    """A form input. ``widget`` is text, textarea, select, number, date, list or checkbox."""

    name: str
    widget: str = "text"
    choices: Choices = ()
    required: bool = False
    hint: str = ""


@dataclass(frozen=True)
class Filter:
    """A list-page filter. ``facet`` fills a select with the values present in the user's view."""

    name: str
    widget: str = "text"
    choices: Choices = ()
    facet: bool = False


@dataclass(frozen=True)
class KindView:
    kind: str
    title_field: str
    columns: tuple[str, ...]
    filters: tuple[Filter, ...]
    detail_fields: tuple[str, ...]
    form_fields: tuple[Field, ...]
    owner_field: str | None = None
    match_targets: tuple[str, ...] = ()

    @property
    def is_matchable(self) -> bool:
        return bool(self.match_targets)

    @property
    def nav_key(self) -> str:
        """The navigation entry its pages mark active: demands and achievements have their own."""
        return self.kind if self.kind in ("demand", "achievement") else "capability"


_VISIBILITY = Field("visibility", "select", _choices(Visibility), hint="共享后其他园区可以检索和匹配")

VIEWS: dict[str, KindView] = {
    "demand": KindView(
        kind="demand",
        title_field="title",
        columns=("organization", "industry_chain", "status", "visibility", "deadline", "updated_at"),
        filters=(
            Filter("status", "select", _choices(DemandStatus)),
            Filter("industry_chain", "select", facet=True),
            Filter("visibility", "select", _choices(Visibility)),
        ),
        detail_fields=(
            "organization",
            "industry_chain",
            "keywords",
            "budget_min",
            "budget_max",
            "deadline",
            "status",
            "visibility",
            "zone_code",
            "external_id",
            "description",
        ),
        form_fields=(
            Field("title", required=True, hint="一句话说清要解决的技术问题, 至少 4 个字"),
            Field("organization", required=True),
            Field("description", "textarea", hint="现状、技术指标、应用场景, 越具体匹配越准"),
            Field("industry_chain"),
            Field("keywords", "list", hint="用分号或顿号分隔, 例如: 锂电池; 隔膜"),
            Field("budget_min", "number"),
            Field("budget_max", "number"),
            Field("deadline", "date"),
            Field("status", "select", _choices(DemandStatus)),
            _VISIBILITY,
        ),
        owner_field="organization",
        match_targets=("achievement", "expert", "instrument", "pilot_platform"),
    ),
    "achievement": KindView(
        kind="achievement",
        title_field="title",
        columns=("kind", "owner", "ipc_codes", "trl", "legal_status", "visibility"),
        filters=(
            Filter("kind", "select", _choices(AchievementKind)),
            Filter("ipc"),
            Filter("owner", "select", facet=True),
            Filter("trl_min", "select", TRL_CHOICES),
            Filter("legal_status", "select", _choices(LegalStatus)),
        ),
        detail_fields=(
            "kind",
            "publication_number",
            "application_number",
            "owner",
            "applicants",
            "inventors",
            "ipc_codes",
            "legal_status",
            "trl",
            "transfer_modes",
            "asking_price",
            "discipline",
            "industry_chain",
            "keywords",
            "visibility",
            "zone_code",
            "abstract",
        ),
        form_fields=(
            Field("title", required=True),
            Field("kind", "select", _choices(AchievementKind)),
            Field("owner"),
            Field("publication_number", hint="例如 CN114081026A"),
            Field("application_number", hint="例如 CN202310123456.7"),
            Field("abstract", "textarea"),
            Field("ipc_codes", "list", hint="例如 H01M 10/052; G06F"),
            Field("applicants", "list"),
            Field("inventors", "list"),
            Field("legal_status", "select", _choices(LegalStatus)),
            Field("trl", "select", TRL_CHOICES),
            Field("transfer_modes", "list", hint="转让、许可、作价入股"),
            Field("asking_price", "number"),
            Field("industry_chain"),
            Field("keywords", "list"),
            _VISIBILITY,
        ),
        owner_field="owner",
        match_targets=("demand",),
    ),
    "expert": KindView(
        kind="expert",
        title_field="name",
        columns=("organization", "title", "fields", "visibility"),
        filters=(Filter("organization", "select", facet=True),),
        detail_fields=(
            "organization",
            "title",
            "fields",
            "keywords",
            "contact",
            "max_active_deals",
            "visibility",
            "zone_code",
            "bio",
        ),
        form_fields=(
            Field("name", required=True),
            Field("organization"),
            Field("title"),
            Field("fields", "list"),
            Field("keywords", "list"),
            Field("bio", "textarea"),
            Field("contact"),
            _VISIBILITY,
        ),
        owner_field="organization",
    ),
    "instrument": KindView(
        kind="instrument",
        title_field="name",
        columns=("model", "category", "owner", "location", "hourly_fee", "bookable"),
        filters=(Filter("category", "select", facet=True), Filter("owner", "select", facet=True)),
        detail_fields=(
            "model",
            "category",
            "owner",
            "location",
            "hourly_fee",
            "bookable",
            "visibility",
            "zone_code",
            "description",
        ),
        form_fields=(
            Field("name", required=True),
            Field("model"),
            Field("category"),
            Field("owner"),
            Field("location"),
            Field("hourly_fee", "number"),
            Field("description", "textarea"),
            Field("bookable", "checkbox"),
            _VISIBILITY,
        ),
        owner_field="owner",
    ),
    "pilot_platform": KindView(
        kind="pilot_platform",
        title_field="name",
        columns=("operator", "industry_chains", "capacity", "visibility"),
        filters=(Filter("operator", "select", facet=True),),
        detail_fields=("operator", "industry_chains", "capacity", "visibility", "zone_code", "capabilities"),
        form_fields=(
            Field("name", required=True),
            Field("operator"),
            Field("industry_chains", "list"),
            Field("capabilities", "textarea"),
            Field("capacity"),
            _VISIBILITY,
        ),
        owner_field="operator",
    ),
}

# Long text fields read as paragraphs on the detail page rather than as a table row.
PROSE_FIELDS = frozenset({"description", "abstract", "bio", "capabilities"})
