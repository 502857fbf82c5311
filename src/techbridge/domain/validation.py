"""Turn pydantic validation errors into one Chinese sentence per field, for imports, the API and forms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

_MESSAGES = {
    "missing": "必填",
    "string_too_short": "太短, 至少 {min_length} 个字",
    "string_too_long": "太长, 最多 {max_length} 个字",
    "string_pattern_mismatch": "格式不正确",
    "greater_than_equal": "不能小于 {ge:g}",
    "less_than_equal": "不能大于 {le:g}",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "date_parsing": "应为有效日期, 格式 YYYY-MM-DD",
    "date_from_datetime_parsing": "应为有效日期, 格式 YYYY-MM-DD",
    "date_from_datetime_inexact": "日期不应包含时间",
    "bool_parsing": "应为 是/否",
    "enum": "不是有效值",
    "list_type": "应为列表",
    "string_type": "应为文本",
    "extra_forbidden": "不认识的字段 (unknown field)",
    "literal_error": "不是有效值, 可选: {expected}",
    "int_type": "应为整数",
    "float_type": "应为数字",
    "bool_type": "应为 是/否",
    "json_invalid": "JSON 格式错误",
    "model_attributes_type": "应为对象",
    "dict_type": "应为对象",
    "string_unicode": "含有无效字符 (不成对的 Unicode 代理项, 如 \\ud800)",
}


def printable(text: str) -> str:
    """Text safe to echo in a message: a lone surrogate (from a JSON escape) becomes its escape again.

    Pydantic refuses such text, but an error that quotes it back would fail to encode as UTF-8 (a 500).
    """
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: str
    value: str


def describe_errors(exc: ValidationError) -> list[FieldError]:
    out: list[FieldError] = []
    for err in exc.errors():
        loc = err.get("loc") or ()
        field = printable(str(loc[0])) if loc else "(整行)"
        kind = err.get("type", "")
        ctx: dict[str, Any] = err.get("ctx") or {}
        if kind == "value_error":
            reason = str(ctx.get("error", err.get("msg", "")))
        elif kind in _MESSAGES:
            try:
                reason = _MESSAGES[kind].format(**ctx)
            except (KeyError, IndexError):
                reason = _MESSAGES[kind]
        else:
            reason = str(err.get("msg", kind))
        value = err.get("input")
        shown = "" if isinstance(value, dict) or value is None else printable(str(value)[:100])
        out.append(FieldError(field=field, reason=reason, value=shown))
    return out
