"""Small hand-made catalogues whose correct order a person can see."""

from __future__ import annotations

from techbridge.match import Kind, MatchDoc

BATTERY = [
    "一种锂离子电池正极材料及其制备方法",
    "锂电池电解液添加剂",
    "一种电池隔膜涂覆装置",
    "固态电池负极片及锂电池",
    "动力电池模组散热结构",
]
SOFTWARE = [
    "一种数据存储方法及计算机软件系统",
    "基于区块链的数据交易方法",
    "分布式数据库查询优化方法",
    "一种软件测试用例生成方法",
    "云计算资源调度系统",
]


def achievement(doc_id: str, title: str, **fields) -> MatchDoc:
    return MatchDoc(kind=Kind.ACHIEVEMENT, id=doc_id, title=title, **fields)


def demand(title: str, **fields) -> MatchDoc:
    return MatchDoc(kind=Kind.DEMAND, id=fields.pop("id", "q"), title=title, **fields)
