"""A snapshot loaded with ``mmap=True`` is shared read-only by every process that serves it.

The arrays stay maps of the snapshot files (no copy: scipy keeps the saved index dtypes), updates after
loading go to new memory and never into a mapped page, and the result equals a rebuild of the same
records. The snapshot files may be deleted under a process that still ranks with them.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from techbridge.match import Kind, MatchDoc, MatchEngine
from techbridge.match.keys import KeyList, KeyMap, save_key_map
from techbridge.match.keys import load_key_map as load_map

from .catalogue import achievement, demand

QUERIES = ("锂电池隔膜", "区块链数据", "钠离子电池", "数据库优化")


def _ranked(engine: MatchEngine, query: MatchDoc) -> list[tuple[str, float, list]]:
    matches = engine.rank(query, target_kind=Kind.ACHIEVEMENT, top_k=20, include_weak=True)
    return [(m.id, m.score, m.reasons) for m in matches]


def _mapped_arrays(engine: MatchEngine) -> list[np.ndarray]:
    """Every array of a loaded engine that should come straight from the snapshot files."""
    segment = engine.lexical._segments[0]
    arrays = [engine.lexical.doc_len, *engine.columns.values()]
    for matrix in (segment.tf, segment.title_tf):
        arrays += [matrix.data, matrix.indices, matrix.indptr]
    for field in engine.fields.values():
        for matrix in (field.doc_labels, field.term_counts, field._by_label):
            if matrix.nnz:
                arrays += [matrix.data, matrix.indices, matrix.indptr]
        arrays += [field.label_len, field.label_docs]
    return [a for a in arrays if a.size]


def _digest(path: Path) -> dict[str, str]:
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest() for p in path.rglob("*.npy")}


@pytest.fixture
def saved(catalogue, tmp_path: Path) -> Path:
    engine = MatchEngine.build(catalogue)
    engine.save(tmp_path / "snapshot")
    return tmp_path / "snapshot"


def test_mapped_load_keeps_every_array_a_read_only_map_and_ranks_as_a_copy(saved: Path) -> None:
    mapped, copied = MatchEngine.load(saved, mmap=True), MatchEngine.load(saved)
    arrays = _mapped_arrays(mapped)
    assert len(arrays) > 20
    # A copy (by numpy or scipy) would be writeable and own its data: each of these is a view of a map.
    assert not any(a.flags.writeable or a.flags.owndata for a in arrays)
    assert all(a.flags.writeable for a in _mapped_arrays(copied))
    assert isinstance(mapped.keys, KeyList) and isinstance(mapped.positions, KeyMap)
    assert list(mapped.keys) == list(copied.keys) and dict(mapped.positions) == dict(copied.positions)
    for text in QUERIES:
        assert _ranked(mapped, demand(text)) == _ranked(copied, demand(text))


def test_updates_after_a_mapped_load_leave_the_snapshot_alone_and_equal_a_rebuild(catalogue, saved) -> None:
    before = _digest(saved)
    engine = MatchEngine.load(saved, mmap=True)
    changed = achievement("h1", "钠离子电池电解液", labels={"ipc": ["H01M"]})  # replaces h1
    new = [
        achievement("n1", "钠离子电池隔膜", labels={"ipc": ["H01M", "H01G"]}),
        achievement("n2", "数据库索引"),
    ]
    engine.upsert([changed, *new])
    engine.remove(["achievement/g1", "achievement/unknown"])
    # Copy-on-write of what changed only: the bulk (first segment, label × term counts) is still the map.
    still_mapped = [engine.lexical._segments[0].tf.data, engine.fields["ipc"].term_counts.data]
    assert not any(a.flags.writeable for a in still_mapped)
    final = [d for d in catalogue if d.id not in ("h1", "g1")] + [changed, *new]
    rebuilt = MatchEngine.build(final)
    assert len(engine) == len(final)
    for text in QUERIES:
        assert sorted(_ranked(engine, demand(text))) == sorted(_ranked(rebuilt, demand(text)))
    engine.compact()  # renumbers everything: new arrays, the maps untouched
    for text in QUERIES:
        assert _ranked(engine, demand(text)) == _ranked(rebuilt, demand(text))
    assert _digest(saved) == before


def test_removing_only_from_a_mapped_snapshot_masks_without_writing(saved, catalogue) -> None:
    engine = MatchEngine.load(saved, mmap=True)
    engine.remove(["achievement/h0", "achievement/h2"])
    rebuilt = MatchEngine.build([d for d in catalogue if d.id not in ("h0", "h2")])
    for text in QUERIES:
        assert sorted(_ranked(engine, demand(text))) == sorted(_ranked(rebuilt, demand(text)))
    assert "achievement/h0" not in engine.positions and "achievement/h1" in engine.positions


def test_a_write_into_a_mapped_array_raises(saved: Path) -> None:
    engine = MatchEngine.load(saved, mmap=True)
    with pytest.raises(ValueError, match="read-only"):
        engine.columns["trl"][0] = 9


def test_a_process_ranks_on_after_its_snapshot_is_deleted(saved: Path) -> None:
    engine = MatchEngine.load(saved, mmap=True)
    expected = {text: _ranked(engine, demand(text)) for text in QUERIES}
    shutil.rmtree(saved)  # a newer snapshot replaced it: the files are unlinked, the maps stay valid
    assert not saved.exists()
    for text in QUERIES:
        assert _ranked(engine, demand(text)) == expected[text]
    engine.upsert([achievement("late", "锂电池隔膜涂层")])
    assert _ranked(engine, demand("锂电池隔膜涂层"))[0][0] == "late"


def test_key_map_answers_like_a_dict_over_its_changes(tmp_path: Path) -> None:
    plain = {"achievement/10": 3, "demand/2": 1, "expert/7": 5, "achievement/9": 0}
    save_key_map(tmp_path / "map", plain)
    mapped = load_map(tmp_path / "map", mmap=True)
    assert dict(mapped) == plain and len(mapped) == 4
    for mapping in (plain, mapped):
        mapping["demand/2"] = 8  # replaced
        mapping["pilot_platform/1"] = 2  # added
        del mapping["expert/7"]
        assert mapping.pop("achievement/9") == 0
        assert mapping.get("expert/7") is None and "achievement/9" not in mapping
    assert dict(mapped) == plain and len(mapped) == len(plain) == 3
    with pytest.raises(KeyError):
        del mapped["expert/7"]
    assert "中文/1" not in mapped and 5 not in mapped
