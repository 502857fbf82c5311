"""Identifier rules, checked on real identifiers and on hand-made bad ones."""

from __future__ import annotations

import pytest

from techbridge.domain.identifiers import (
    application_check_char,
    parse_application_number,
    parse_credit_code,
    parse_ipc,
    parse_publication_number,
)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("914403001922038216", "914403001922038216"),
        ("9144030071526726xg", "9144030071526726XG"),
        ("９１３３０１００７１６１０５８５２Ｆ", "91330100716105852F"),  # full-width, as typed in some forms
    ],
)
def test_real_credit_codes_pass(raw: str, canonical: str) -> None:
    assert parse_credit_code(raw) == canonical


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91440300192203821", "18 位"),
        ("914403001922038217", "校验位"),
        ("91440300192203821I", "非法字符"),
    ],
)
def test_bad_credit_codes_say_why(code: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_credit_code(code)


def test_application_number_check_digit() -> None:
    # 2*2+3*0+4*2+5*3+6*1+7*0+8*1+9*2+2*3+3*4+4*5+5*6 = 127; 127 % 11 = 6
    assert application_check_char("202310123456") == "6"
    assert parse_application_number("202310123456.6") == "CN202310123456.6"
    assert parse_application_number("CN 2023 1012 3456 6") == "CN202310123456.6"
    with pytest.raises(ValueError, match="校验位"):
        parse_application_number("CN202310123456.7")
    with pytest.raises(ValueError, match="格式"):
        parse_application_number("CN20231012345.6")


@pytest.mark.parametrize(
    ("raw", "canonical"), [("CN114081026A", "CN114081026A"), ("cn 215792497 u", "CN215792497U")]
)
def test_publication_numbers(raw: str, canonical: str) -> None:
    assert parse_publication_number(raw) == canonical


def test_bad_publication_number() -> None:
    with pytest.raises(ValueError, match="公开号"):
        parse_publication_number("CN11408A")


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("H01M 10/052", "H01M 10/052"),
        ("h01m10/052", "H01M 10/052"),
        ("G06F", "G06F"),
        ("G06F 0017/30", "G06F 17/30"),
    ],
)
def test_ipc_codes(raw: str, canonical: str) -> None:
    assert parse_ipc(raw) == canonical


@pytest.mark.parametrize("raw", ["Z01M 10/052", "H1M", "H01M 10", "锂电池"])
def test_bad_ipc_codes(raw: str) -> None:
    with pytest.raises(ValueError, match="IPC"):
        parse_ipc(raw)
