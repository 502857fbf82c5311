"""Where a demand says what it needs.

An enterprise's demand mixes background (我们是做汽车零部件的机加工厂, 二十多台数控设备) with the clause that
names what it wants (希望有能从历史排产中自动学习、越用越准的生产管控系统). The words for the solution are in
that clause, so the matching engine counts them once more (``MatchConfig.need_weight``, docs/matching.md).
"""

from __future__ import annotations

import re

_NEED = re.compile(
    r"(?:急需|亟需|需要|寻求|寻找|征集|希望|期望|期待|想要|想找|(?<!理)想(?!法)|要求|有没有|能否|如何|需(?!求))"
    r"([^。；;！!？?\n]+)"
)
"""A word that opens a request (需要, 寻求, 希望, 想…; a question, 如何…, 能否…, asks too), then the rest
of its sentence. 需求 and 理想 are not requests; 要求 is (要求检测准确率 98% 以上 states what is needed)."""


def need_clauses(*parts: str) -> list[str]:
    """The clauses of a text that say what is needed, in order (one per sentence). The parts (a demand's
    title and description) are read as separate sentences, so a request never runs across them; the
    matching engine and the 撮合 page both call this, so the page shows what the engine weighs.

    >>> need_clauses("我司生产湿法锂电池隔膜, 需提升陶瓷涂覆层均匀性。寻求涂覆浆料配方。")
    ['提升陶瓷涂覆层均匀性', '涂覆浆料配方']
    >>> need_clauses("客户需求多样, 理想的方案尚未找到")
    []
    """
    return [match.group(1) for match in _NEED.finditer("。".join(part for part in parts if part))]
