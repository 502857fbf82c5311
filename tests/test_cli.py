"""The command line as a user drives it (Typer's CliRunner, a temporary SQLite file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from techbridge.cli import _register, app
from techbridge.config import get_settings

runner = CliRunner()
_register()


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("TECHBRIDGE_DATABASE_URL", url)
    monkeypatch.setenv("TECHBRIDGE_DATA_DIR", str(tmp_path))  # the match index goes here, not into ./var
    get_settings.cache_clear()
    return url


def test_demo_loads_every_kind_and_labels_sample_data() -> None:
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    for expected in ("demands.xlsx", "achievements_patents.csv", "pilot_platforms.csv", "示例数据"):
        assert expected in result.output
    assert "撮合匹配: 匹配 1502 个来源" in result.output  # 44 demands + 1,441 achievements + 17 experts
    assert "示例撮合项目" in result.output and "wuxi_admin" in result.output
    again = runner.invoke(app, ["demo"])
    assert again.exit_code == 0
    assert "│ 1037   │ 0    │ 0    │ 1037 │" in again.output  # second load changes nothing
    assert "匹配 0 个来源" in again.output and "示例撮合项目" not in again.output


def test_import_reports_the_bad_row_and_exits_nonzero(tmp_path: Path) -> None:
    bad = tmp_path / "d.csv"
    bad.write_text("需求名称,需求单位,预算上限(万元)\n锂电池隔膜涂覆,无锡甲公司,-5\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "demand", str(bad), "--zone", "wuxi"])
    assert result.exit_code == 1
    assert "d.csv: 第 2 行, 字段 预算上限(万元): 不能小于 0" in result.output
    assert "未写入任何记录" in result.output


def test_import_then_export_round_trip(tmp_path: Path) -> None:
    good = tmp_path / "d.csv"
    good.write_text("需求名称,需求单位\n锂电池隔膜涂覆,无锡甲公司\n", encoding="gbk")
    assert runner.invoke(app, ["import", "demand", str(good), "--zone", "wuxi"]).exit_code == 0
    out = tmp_path / "out.xlsx"
    result = runner.invoke(app, ["export", "demand", str(out), "--zone", "wuxi"])
    assert result.exit_code == 0 and "已导出 1 条记录" in result.output
    assert out.stat().st_size > 0


def test_unknown_kind_is_a_usage_error(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("a\n1\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "widgets", str(f), "--zone", "wuxi"])
    assert result.exit_code == 2
    assert "未知的记录类型" in result.output


def _tiny_beir(folder: Path) -> Path:
    corpus = [
        {"_id": "d1", "title": "锂电池隔膜", "text": "陶瓷涂覆", "metadata": {"ipc": ["H01M"]}},
        {"_id": "d2", "title": "锂电池隔膜回收", "text": "", "metadata": {"ipc": ["B09B"]}},
        {"_id": "d3", "title": "风力发电机叶片", "text": "复合材料叶片", "metadata": {"ipc": ["F03D"]}},
    ]
    queries = [{"_id": "q1", "text": "锂电池隔膜涂覆"}]
    (folder / "qrels").mkdir(parents=True)
    for name, rows in (("corpus.jsonl", corpus), ("queries.jsonl", queries)):
        (folder / name).write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n", "utf-8")
    return folder


def test_eval_retrieval_uses_the_configured_match_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``TECHBRIDGE_MATCH_WEIGHTS`` shapes the evaluated ranking as it shapes the product's (issue 9 #14)."""
    folder = _tiny_beir(tmp_path / "beir")

    def run(name: str) -> list[str]:
        out = tmp_path / f"{name}.tsv"
        result = runner.invoke(app, ["eval", "retrieval", str(folder), "--run-out", str(out)])
        assert result.exit_code == 0, result.output
        return out.read_text("utf-8").splitlines()

    default = run("default")
    monkeypatch.setenv("TECHBRIDGE_MATCH_WEIGHTS", json.dumps({"ipc": 0.0, "lexical": 2.0}))
    get_settings.cache_clear()
    weighted = run("weighted")
    assert weighted != default  # same documents, scored with the configured weights
    monkeypatch.setenv("TECHBRIDGE_MATCH_WEIGHTS", json.dumps({"no_such_signal": 1.0}))
    get_settings.cache_clear()
    refused = runner.invoke(app, ["eval", "retrieval", str(folder)])
    assert refused.exit_code != 0 and "no_such_signal" in refused.output
