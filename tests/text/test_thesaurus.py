"""The domain thesaurus: reading it, refusing bad rows by file, row and column, and the packaged list."""

from __future__ import annotations

from pathlib import Path

import pytest

from techbridge.text.thesaurus import Thesaurus, ThesaurusError, packaged_thesaurus

HEADER = "term,related,relation"


def test_a_term_in_the_text_brings_its_related_words(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(f"{HEADER}\n功率半导体,IGBT|碳化硅,下位\n退磁,失磁,同义\n", encoding="utf-8")
    thesaurus = Thesaurus.read(path)
    found = thesaurus.related("驱动电机永磁体退磁检测；功率半导体模块")
    assert found == {"功率半导体": ("igbt", "碳化硅"), "退磁": ("失磁",)}
    assert thesaurus.shown("igbt") == "IGBT"  # named as the file writes it
    assert thesaurus.related("锂电池隔膜") == {}


@pytest.mark.parametrize(
    ("row", "column"),
    [("功率半导体,,下位", "related"), ("功,IGBT,下位", "term"), ("功率半导体,IGBT,近义", "relation")],
)
def test_a_bad_row_names_file_row_and_column(tmp_path: Path, row: str, column: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(f"{HEADER}\n退磁,失磁,同义\n{row}\n", encoding="utf-8")
    with pytest.raises(ThesaurusError) as error:
        Thesaurus.read(path)
    assert str(error.value).startswith(f"{path} 第 3 行 {column}:")


def test_a_file_without_the_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("词条,相关词\n退磁,失磁\n", encoding="utf-8")
    with pytest.raises(ThesaurusError, match="表头应为 term,related,relation"):
        Thesaurus.read(path)


def test_the_packaged_thesaurus_knows_the_platform_s_fields() -> None:
    thesaurus = packaged_thesaurus()
    assert len(thesaurus.entries) >= 150
    assert "igbt" in thesaurus.entries["功率半导体"]
    assert "失磁" in thesaurus.entries["退磁"]
    # Words for the kind of work are never expanded: every demand says them.
    assert not {"方法", "系统", "装置", "技术", "工艺", "设备"} & set(thesaurus.entries)
