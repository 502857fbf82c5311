"""Reasons users read next to a match; each one states a fact the score actually used."""

from __future__ import annotations

from typing import NamedTuple

FIELD_NAMES_ZH = {"ipc": "IPC 分类", "discipline": "学科", "chain": "产业链"}


class Reason(NamedTuple):
    """``code`` is stable for programs (``terms``, ``ipc``, ``zone`` …); ``text`` is for people;
    ``terms`` are the words it names: shared words for ``TERM_CODES`` (a page marks them in both texts),
    the demand's uncovered title words for ``missing_terms``."""

    code: str
    text: str
    terms: tuple[str, ...] = ()


TERM_CODES = ("title_terms", "terms", "related_terms")
"""Reason codes whose ``terms`` are words both texts contain (a page marks them in each)."""


def matched_terms(terms: list[str], *, in_title: bool) -> Reason:
    where = "标题" if in_title else "正文"
    return Reason(
        "title_terms" if in_title else "terms", f"双方都提到 (对方{where}): {'、'.join(terms)}", tuple(terms)
    )


def related_terms(pairs: list[tuple[str, str]]) -> Reason:
    """Words the record uses for a term of the demand (thesaurus: 功率半导体 → IGBT); ``terms`` holds both,
    so the page marks each in its own text."""
    shown = "、".join(f"{word} ({term})" for word, term in pairs)
    terms = tuple(dict.fromkeys([w for w, _ in pairs] + [t for _, t in pairs]))
    return Reason("related_terms", f"记录使用需求用词的相关词: {shown}", terms)


def absent_terms(terms: list[str]) -> Reason:
    """Title words that no record the demand is matched with mentions, nor a related word of them: the
    catalogue it may see has nothing on them (the page says so once, above the list)."""
    return Reason("absent_terms", f"可匹配的记录都没有提到需求标题中的 {'、'.join(terms)}", tuple(terms))


def missing_terms(terms: list[str]) -> Reason:
    """Words of the demand's title the record never mentions: a reader sees at once when a record is on
    the demand's object but not its problem (a motor rotor for 永磁体退磁检测). ``terms`` holds them, so a
    page can say which words no listed record covers; they are not shared words (``TERM_CODES``)."""
    return Reason("missing_terms", f"需求标题中的 {'、'.join(terms)} 未在该记录中出现", tuple(terms))


def shared_labels(field: str, labels: list[str]) -> Reason:
    return Reason(field, f"{FIELD_NAMES_ZH[field]}相同: {'、'.join(labels)}")


def predicted_labels(field: str, labels: list[tuple[str, float]]) -> Reason:
    shown = "、".join(f"{label} ({share:.0%})" for label, share in labels)
    return Reason(field, f"预测所属{FIELD_NAMES_ZH[field]} {shown}, 与该记录一致")


def zone(*, same: bool, zone_code: str) -> Reason:
    if same:
        return Reason("zone", "本园区资源")
    return Reason("zone", f"跨园区共享资源 (来自 {zone_code})")


def maturity(trl: int) -> Reason:
    return Reason("maturity", f"技术成熟度 TRL {trl}")


def within_budget(price: float, budget: float) -> Reason:
    return Reason("price", f"报价 {price:g} 在预算 {budget:g} 以内")


def availability(kind: str) -> Reason:
    text = {"instrument": "仪器可预约", "expert": "专家当前可承接", "demand": "需求征集中"}.get(
        kind, "当前可对接"
    )
    return Reason("availability", text)


def capacity(share: float) -> Reason:
    return Reason("capacity", f"专家尚余 {share:.0%} 对接名额")


def dense(similarity: float) -> Reason:
    return Reason("dense", f"语义相近: 两段描述的语义相似度 {similarity:.2f}")
