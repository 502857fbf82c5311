"""Errors that carry what failed; the API maps them to HTTP once, the CLI to one clean line."""

from __future__ import annotations

from dataclasses import dataclass


class TechBridgeError(Exception):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(TechBridgeError):
    status = 404

    def __init__(self, kind: str, record_id: object) -> None:
        super().__init__(f"{kind} {record_id} 不存在")
        self.kind = kind
        self.record_id = record_id


class Conflict(TechBridgeError):
    status = 409


class PermissionDenied(TechBridgeError):
    status = 403


class ZoneAccessDenied(PermissionDenied):
    def __init__(self, zone: str, resource: str) -> None:
        super().__init__(f"无权访问 {zone} 园区的 {resource}")
        self.zone = zone
        self.resource = resource


@dataclass(frozen=True)
class RowError:
    """One bad field of one row of one file; rows are numbered as a spreadsheet user sees them."""

    file: str
    row: int
    field: str
    reason: str
    value: str = ""

    def __str__(self) -> str:
        return f"{self.file}: 第 {self.row} 行, 字段 {self.field}: {self.reason}"


class ImportFailed(TechBridgeError):
    status = 422

    def __init__(self, errors: list[RowError], total_rows: int) -> None:
        shown = "; ".join(str(e) for e in errors[:5])
        more = f" (共 {len(errors)} 处错误)" if len(errors) > 5 else ""
        super().__init__(f"导入失败, 未写入任何记录: {shown}{more}")
        self.errors = errors
        self.total_rows = total_rows


class InvalidStageTransition(TechBridgeError):
    status = 409

    def __init__(self, deal_id: object, from_stage: str, to_stage: str, reason: str) -> None:
        super().__init__(f"撮合项目 {deal_id} 不能从 {from_stage} 转到 {to_stage}: {reason}")
        self.deal_id = deal_id
        self.from_stage = from_stage
        self.to_stage = to_stage


class NotAuthenticated(TechBridgeError):
    status = 401

    def __init__(self, message: str = "请先登录 (login required)") -> None:
        super().__init__(message)


class TooManyLoginAttempts(TechBridgeError):
    status = 429

    def __init__(self, retry_after_seconds: int) -> None:
        minutes = max(1, retry_after_seconds // 60)
        super().__init__(f"登录失败次数过多, 请 {minutes} 分钟后再试 (too many failed logins)")
        self.retry_after_seconds = retry_after_seconds


class ServiceUnavailable(TechBridgeError):
    status = 503


class Busy(ServiceUnavailable):
    """Something another process holds (the database's write lock, the match index) stayed busy too long:
    worth retrying, so the answer says when (``Retry-After``)."""

    def __init__(self, message: str, retry_after_seconds: int = 5) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class FileTooLarge(TechBridgeError):
    status = 413


class InvalidInput(TechBridgeError):
    """A request value that is well-formed for the schema but means nothing (e.g. month 0000-00)."""

    status = 422
