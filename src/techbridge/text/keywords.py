"""Keyword extraction for explanations: the terms of a text that say most about it (tf × idf)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence


def extract_keywords(tokens: Sequence[str], *, idf: Callable[[str], float], top_k: int = 5) -> list[str]:
    """The ``top_k`` tokens by tf × idf; ties keep first-occurrence order so results are stable.

    >>> extract_keywords(["电池", "隔膜", "电池", "方法"], idf={"电池": 2.0, "隔膜": 3.0, "方法": 0.1}.get)
    ['电池', '隔膜', '方法']
    """
    counts = Counter(tokens)
    order = {tok: i for i, tok in reversed(list(enumerate(tokens)))}
    ranked = sorted(counts, key=lambda t: (-counts[t] * idf(t), order[t]))
    return ranked[:top_k]


DOMAIN_SINGLE_CHARS = frozenset(
    "钢铁铝铜锌镍钛锂钠钾镁钙硅碳氢氧氮硫磷氯金银锡铅钨钼钴铬锰稀"  # materials and elements
    "膜泵阀轴锅炉塔罐桨齿辊模刀钻焊铸锻"  # components and processes
)
"""Single characters that name a material, part or medium on their own and so make a checkable reason;
every other matched term must have two or more characters."""


WORK_WORDS = frozenset(
    "升级 优化 提升 改进 改善 改造 提高 研发 开发 研究 设计 应用 实现 解决 工艺 技术 方法 方案 系统 装置 设备"
    " 产品 项目 需求 新型 一种 相关 问题 治理 处理 办法 做法 怎么 怎样 如何 什么 哪些 是否 能否".split()
)
"""Words that say what kind of work a demand asks for (or ask about it: 怎么, 办法), not its problem or
object: a record that lacks 升级 or 工艺 is not missing anything a reader would look for, so they are never
named as missing."""


def readable_terms(terms: Iterable[str]) -> list[str]:
    """Matched terms worth showing to a reader: two or more characters (or a known single-character
    term), and no fragment of a longer matched term ("高分子" hides "高分" and "分子").

    >>> readable_terms(["高分子", "高分", "分子", "隐", "钢", "涂层"])
    ['高分子', '钢', '涂层']
    """
    unique = list(dict.fromkeys(terms))
    return Readable(unique).of([True] * len(unique))


class Readable:
    """``readable_terms`` for many subsets of one list of distinct terms: which term is a fragment of which
    is worked out once per list, so each subset is one pass (reasons ask for two subsets per record).

    >>> Readable(["高分子", "高分", "分子", "隐", "钢"]).of([True, True, False, True, True])
    ['高分子', '钢']
    """

    def __init__(self, terms: Sequence[str]) -> None:
        self.terms = list(terms)
        self._eligible = [len(t) >= 2 or t in DOMAIN_SINGLE_CHARS for t in self.terms]
        containing: dict[str, list[int]] = {}
        for j, other in enumerate(self.terms):
            if self._eligible[j]:
                for fragment in {
                    other[i:k] for i in range(len(other)) for k in range(i + 1, len(other) + 1)
                } - {other}:
                    containing.setdefault(fragment, []).append(j)
        self._longer = [containing.get(t, []) for t in self.terms]

    def of(self, chosen: Sequence[bool]) -> list[str]:
        """The readable terms among those ``chosen`` (one flag per term), in list order."""
        rows = zip(self.terms, self._eligible, self._longer, chosen, strict=True)
        return [t for t, ok, longer, pick in rows if pick and ok and not any(chosen[j] for j in longer)]
