"""Validation of the identifiers Chinese records carry: credit codes, patent numbers, IPC codes.

Each ``parse_*`` function returns the canonical form or raises ``ValueError`` with a Chinese reason,
so the same message reaches an import report, an API 422 and a form.
"""

from __future__ import annotations

import re
import unicodedata

# GB 32100-2015: 31 characters, no I, O, Z, S, V.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _clean(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().upper()


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def parse_credit_code(value: str) -> str:
    """统一社会信用代码: 18 characters whose last one is a check character (GB 32100-2015)."""
    code = _clean(value).replace(" ", "")
    if len(code) != 18:
        raise ValueError(f"统一社会信用代码应为 18 位, 实际 {len(code)} 位")
    bad = sorted({c for c in code if c not in _USCC_ALPHABET})
    if bad:
        raise ValueError(f"统一社会信用代码含非法字符 {''.join(bad)}")
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise ValueError(f"统一社会信用代码校验位错误 (应为 {expected})")
    return code


_APP_NEW = re.compile(r"^(?:CN)?(\d{4})([1235689])(\d{7})\.?([\dX])$")
_APP_OLD = re.compile(r"^(?:CN)?(\d{2})([1235689])(\d{5})\.?([\dX])$")
_PUBLICATION = re.compile(r"^CN(\d{7,9})([ABCUYS]\d?)$")


def application_check_char(digits: str) -> str:
    """CNIPA check digit: weights 2..9 repeating, modulo 11, 10 written as X."""
    weights = [2, 3, 4, 5, 6, 7, 8, 9]
    total = sum(int(d) * weights[i % 8] for i, d in enumerate(digits))
    rest = total % 11
    return "X" if rest == 10 else str(rest)


def parse_application_number(value: str) -> str:
    """申请号, e.g. ``CN202310123456.7`` (2003 onwards) or ``CN93101234.5``; returns ``CN…`` with the dot."""
    text = re.sub(r"[\s-]", "", _clean(value))
    for pattern in (_APP_NEW, _APP_OLD):
        m = pattern.match(text)
        if m:
            digits = "".join(m.groups()[:-1])
            expected = application_check_char(digits)
            if m.group(4) != expected:
                raise ValueError(f"申请号校验位错误 (应为 {expected})")
            return f"CN{digits}.{m.group(4)}"
    raise ValueError("申请号格式应为 CN+12 位数字+.+校验位, 例如 CN202310123456.7")


def parse_publication_number(value: str) -> str:
    """公开(公告)号, e.g. ``CN114081026A`` or ``CN215792497U``."""
    text = re.sub(r"[\s.-]", "", _clean(value))
    if not text.startswith("CN"):
        text = "CN" + text
    if not _PUBLICATION.match(text):
        raise ValueError("公开号格式应为 CN+7~9 位数字+文献类型码, 例如 CN114081026A")
    return text


def looks_like_publication_number(value: str) -> bool:
    return bool(re.search(r"[ABCUYS]\d?$", _clean(value).replace(" ", "")))


_IPC = re.compile(r"^([A-H])(\d{2})([A-Z])(?:\s*(\d{1,4})\s*/\s*(\d{1,6}))?$")


def parse_ipc(value: str) -> str:
    """IPC code at subclass (``G06F``) or group level (``H01M 10/052``), canonical spacing."""
    text = _clean(value)
    m = _IPC.match(text)
    if not m:
        raise ValueError(f"IPC 分类号 {value!r} 格式错误, 应形如 H01M 10/052 或 G06F")
    section, cls, subclass, main_group, subgroup = m.groups()
    code = f"{section}{cls}{subclass}"
    if main_group is not None:
        code += f" {int(main_group)}/{subgroup}"
    return code


def ipc_subclass(code: str) -> str:
    return code[:4]
