"""Record keys of a loaded snapshot as read-only arrays, with the changes since kept in small Python objects.

A million keys as a Python list plus a dict from key to position cost about 150 MB in every web worker;
as byte-string arrays mapped from the snapshot they cost 30 MB of page cache shared by all of them.
``KeyList`` (position → key) and ``KeyMap`` (key → position, or any integer) answer like a list and a
dict; only what changed after loading (new and deleted keys) lives in the process.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from pathlib import Path

import numpy as np

from .lexical import load_array


def key_arrays(keys: list[str]) -> dict[str, np.ndarray]:
    """Keys in position order, and the same keys sorted with their positions (for binary search).

    Keys are stored UTF-8 encoded in fixed-width byte strings; numpy drops trailing NUL bytes, which no
    key has.
    """
    encoded = np.array([k.encode("utf-8") for k in keys], dtype=bytes) if keys else np.empty(0, "S1")
    order = np.argsort(encoded, kind="stable").astype(np.int64)
    return {"keys": encoded, "sorted_keys": encoded[order], "sorted_positions": order}


def save_keys(path: Path, keys: list[str]) -> None:
    for name, values in key_arrays(keys).items():
        np.save(path / f"{name}.npy", values, allow_pickle=False)


class KeyList:
    """Position → key: the snapshot's keys (read-only array) followed by keys appended since."""

    def __init__(self, base: np.ndarray | None = None) -> None:
        self._base = np.empty(0, "S1") if base is None else base
        self._tail: list[str] = []

    def __len__(self) -> int:
        return len(self._base) + len(self._tail)

    def __getitem__(self, position: int) -> str:
        position = int(position)
        if position < 0:
            position += len(self)
        if position < len(self._base):
            return bytes(self._base[position]).decode("utf-8")
        return self._tail[position - len(self._base)]

    def __iter__(self) -> Iterator[str]:
        yield from (bytes(k).decode("utf-8") for k in self._base)
        yield from self._tail

    def append(self, key: str) -> None:
        self._tail.append(key)


class KeyMap(MutableMapping[str, int]):
    """Key → integer (a position, a timestamp): the snapshot's sorted keys and their values (read-only
    arrays) under a dict of the changes since."""

    def __init__(self, sorted_keys: np.ndarray | None = None, values: np.ndarray | None = None) -> None:
        self._keys = np.empty(0, "S1") if sorted_keys is None else sorted_keys
        self._values = np.empty(0, np.int64) if values is None else values
        self._added: dict[str, int] = {}
        self._hidden: set[str] = set()  # snapshot keys deleted or given another value since

    def _in_base(self, key: str) -> int | None:
        if key in self._hidden or not len(self._keys):
            return None
        encoded = key.encode("utf-8")
        at = int(np.searchsorted(self._keys, encoded))
        if at < len(self._keys) and self._keys[at] == encoded:
            return int(self._values[at])
        return None

    def __getitem__(self, key: str) -> int:
        if key in self._added:
            return self._added[key]
        found = self._in_base(key)
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and (key in self._added or self._in_base(key) is not None)

    def __setitem__(self, key: str, value: int) -> None:
        if self._in_base(key) is not None:
            self._hidden.add(key)
        self._added[key] = value

    def __delitem__(self, key: str) -> None:
        if key in self._added:
            del self._added[key]
        elif self._in_base(key) is not None:
            self._hidden.add(key)
        else:
            raise KeyError(key)

    def __len__(self) -> int:
        return len(self._keys) - len(self._hidden) + len(self._added)

    def __iter__(self) -> Iterator[str]:
        hidden = self._hidden
        yield from (k for k in (bytes(b).decode("utf-8") for b in self._keys) if k not in hidden)
        yield from self._added


def load_keys(path: Path, *, mmap: bool) -> tuple[KeyList, KeyMap]:
    """The keys ``save_keys`` wrote: position → key and key → position."""
    arrays = {name: load_array(path / f"{name}.npy", mmap=mmap) for name in key_arrays([])}
    return KeyList(arrays["keys"]), KeyMap(arrays["sorted_keys"], arrays["sorted_positions"])


def save_key_map(path: Path, mapping: dict[str, int] | KeyMap) -> None:
    """Any key → integer mapping as two arrays in directory ``path`` (sorted keys, their values)."""
    path.mkdir(parents=True, exist_ok=True)
    keys = list(mapping)
    arrays = key_arrays(keys)
    values = np.fromiter((mapping[k] for k in keys), np.int64, count=len(keys))
    np.save(path / "sorted_keys.npy", arrays["sorted_keys"], allow_pickle=False)
    np.save(path / "values.npy", values[arrays["sorted_positions"]], allow_pickle=False)


def load_key_map(path: Path, *, mmap: bool) -> KeyMap:
    return KeyMap(load_array(path / "sorted_keys.npy", mmap=mmap), load_array(path / "values.npy", mmap=mmap))


def positions_of(keys: list[str]) -> dict[str, int]:
    """Key → position of keys held in memory (an index being built or just compacted)."""
    return {key: i for i, key in enumerate(keys)}
