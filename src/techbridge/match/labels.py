"""Field-aware semantic signals learned from the catalogue's own labels (IPC subclass, discipline, chain).

A demand carries no IPC code, yet "which technical field is this?" is what decides relevance most. Each
label field keeps a multinomial naive Bayes model (label × term counts, updated exactly on every add and
remove) and predicts a label distribution for a query from two views that fail differently:
- the words of the query against each label's vocabulary (naive Bayes with Dirichlet smoothing towards the
  collection, so the vocabulary size never enters and incremental equals rebuild), and
- the labels of the best lexical hits (pseudo-relevance feedback), which knows rare compound terms.
A document then scores the probability mass of its own labels.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from .lexical import QueryTerms, TermStats, load_array, load_sparse, resized, save_sparse

NEGLIGIBLE = 1e-3
"""Label probability below which a label adds nothing to any record's score."""


class LabelField:
    """Labels of one catalogue field for every index position, and the naive Bayes model over them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.labels: list[str] = []
        self.index: dict[str, int] = {}
        self.doc_labels = sp.csr_matrix((0, 0), dtype=np.float32)
        self.term_counts = sp.csc_matrix((0, 0), dtype=np.float32)
        # Counts added (or, negative, removed) since loading: the loaded matrix may be a read-only map
        # shared by other processes, and copying it whole for one record would make it private.
        self._count_changes: sp.csc_matrix | None = None
        self.label_len = np.zeros(0, np.float64)
        self.label_docs = np.zeros(0, np.float64)
        self._by_label: sp.csc_matrix | None = None  # column view of doc_labels, rebuilt after changes

    @property
    def n_labels(self) -> int:
        return len(self.labels)

    def label_matrix(self, label_lists: Sequence[Sequence[str]]) -> sp.csr_matrix:
        """Rows of 0/1 label indicators; unseen labels are added to the field."""
        index = self.index
        ids = [
            [index.setdefault(label, len(index)) for label in dict.fromkeys(labels)] for labels in label_lists
        ]
        self.labels = sorted(index, key=index.__getitem__)
        lengths = [len(i) for i in ids]
        rows = np.repeat(np.arange(len(ids)), lengths)
        cols = np.fromiter((c for i in ids for c in i), dtype=np.int64, count=sum(lengths))
        data = np.ones(cols.size, np.float32)
        return sp.csr_matrix((data, (rows, cols)), shape=(len(ids), self.n_labels))

    def add(self, label_lists: Sequence[Sequence[str]], tf: sp.csr_matrix) -> None:
        new = self.label_matrix(label_lists)
        old = resized(self.doc_labels, (self.doc_labels.shape[0], self.n_labels))
        self.doc_labels = sp.vstack([old, new], format="csr")
        self._by_label = None
        self._count(new, tf, sign=1.0)

    def remove(self, positions: np.ndarray, tf: sp.csr_matrix) -> None:
        self._count(self.doc_labels[positions], tf, sign=-1.0)

    def compact(self, keep: np.ndarray) -> None:
        self.doc_labels = self.doc_labels[keep]
        self._by_label = None

    def _count(self, labels: sp.csr_matrix, tf: sp.csr_matrix, *, sign: float) -> None:
        changes = self._count_changes
        n_labels = self.n_labels
        n_terms = max(tf.shape[1], self.term_counts.shape[1], 0 if changes is None else changes.shape[1])
        labels = resized(labels, (labels.shape[0], n_labels))
        delta = sign * (labels.T @ resized(tf, (tf.shape[0], n_terms))).tocsc()
        self._count_changes = delta if changes is None else resized(changes, delta.shape) + delta
        grow = n_labels - self.label_len.size
        self.label_len = (
            np.pad(self.label_len, (0, grow)) + sign * (labels.T @ np.asarray(tf.sum(axis=1))).ravel()
        )
        self.label_docs = np.pad(self.label_docs, (0, grow)) + sign * np.asarray(labels.sum(axis=0)).ravel()

    # -- prediction -------------------------------------------------------------------------------
    def predict(self, query: QueryTerms, *, stats: TermStats, total_len: float, mu: float) -> np.ndarray:
        """P(label | query words) by naive Bayes; all zeros when no query word is known."""
        known = stats.cf > 0
        ids = query.ids[known]
        return naive_bayes(
            self.term_columns(ids),
            query.counts[known],
            cf=stats.cf[known],
            label_docs=self.label_docs,
            label_len=self.label_len,
            total_len=total_len,
            mu=mu,
        )

    def term_columns(self, ids: np.ndarray) -> np.ndarray:
        """Dense label × ``ids`` counts: the loaded counts plus the changes since (terms and labels
        added since loading are beyond the loaded matrix and count zero there)."""
        out = np.zeros((self.n_labels, ids.size), np.float32)
        for matrix in (self.term_counts, self._count_changes):
            if matrix is None or not matrix.shape[0]:
                continue
            # Each column read off the CSC arrays: scipy's column indexing builds a matrix per call, and
            # every query asks for its words' columns (profiled at a sixth of batch matching's time).
            # All the words' columns in one gather and one scatter (a call per word was the largest fixed
            # cost a shard pays per query, profiled); counts are integers, so the order of the sums is free.
            indptr, indices, data = matrix.indptr, matrix.indices, matrix.data
            inside = np.flatnonzero(ids < matrix.shape[1])
            starts = indptr[ids[inside]]
            lengths = indptr[ids[inside] + 1] - starts
            if not lengths.sum():
                continue
            at = _spans(starts, lengths)
            cells = indices[at] * ids.size + np.repeat(inside, lengths)  # (label, word) as one index
            out += np.bincount(cells, data[at], minlength=out.size).reshape(out.shape).astype(np.float32)
        return out

    def counts(self) -> sp.csc_matrix:
        """Label × term counts of the live records (the loaded ones plus every change since)."""
        if self._count_changes is None:
            return self.term_counts
        shape = self._count_changes.shape
        return (resized(self.term_counts, shape) + self._count_changes).tocsc()

    def extend(self, labels: Sequence[str]) -> None:
        """Know ``labels`` (in this order) before any record carries them: the shards of a catalogue take
        the catalogue's label numbering, so their counts add up label by label (match/distributed.py)."""
        for label in labels:
            self.index.setdefault(label, len(self.index))
        self.labels = sorted(self.index, key=self.index.__getitem__)
        self.doc_labels = resized(self.doc_labels, (self.doc_labels.shape[0], self.n_labels))
        self._count(sp.csr_matrix((0, self.n_labels), dtype=np.float32), sp.csr_matrix((0, 0)), sign=1.0)

    def explicit(self, labels: Sequence[str]) -> np.ndarray:
        """Uniform distribution over the labels the query already carries (unknown labels ignored)."""
        dist = np.zeros(self.n_labels)
        known = [self.index[label] for label in labels if label in self.index]
        if known:
            dist[known] = 1.0 / len(known)
        return dist

    def signal(self, dist: np.ndarray) -> np.ndarray:
        """Per position: probability mass of the position's labels under ``dist``.

        Labels below ``NEGLIGIBLE`` probability are skipped: reading only the columns of the few likely
        labels is 20× faster at a million records than a full matrix-vector product, and a 0.1 % share
        cannot lift a record above one that has the query's field.
        """
        likely = np.flatnonzero(dist >= NEGLIGIBLE)
        out = np.zeros(self.doc_labels.shape[0], np.float32)
        if likely.size == 0:
            return out
        if self._by_label is None:
            self._by_label = self.doc_labels.tocsc()
        # Column by column off the CSC arrays, as a sparse matrix-vector product adds them (scipy's column
        # slicing builds a matrix per call: a fixed cost per query that every shard of a catalogue pays).
        indptr, indices, data = self._by_label.indptr, self._by_label.indices, self._by_label.data
        weights = dist.astype(np.float32)
        for label in likely.tolist():
            start, end = indptr[label], indptr[label + 1]
            out[indices[start:end]] += data[start:end] * weights[label]
        return out

    def labels_of(self, position: int) -> np.ndarray:
        """Label ids of one position, read off the CSR arrays: scipy's row indexing builds a matrix per
        call, and reasons ask for 20 rows per query (a quarter of batch matching's time, profiled)."""
        indptr = self.doc_labels.indptr
        return self.doc_labels.indices[indptr[position] : indptr[position + 1]]

    def rows(self, positions: np.ndarray) -> LabelRows:
        """Label ids of some positions (what a shard sends for the feedback vote)."""
        indptr = self.doc_labels.indptr
        starts = indptr[positions]
        lengths = (indptr[positions + 1] - starts).astype(np.int32)
        return LabelRows(self.doc_labels.indices[_spans(starts, lengths)].astype(np.int32), lengths)

    # -- persistence ------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        (path / "labels.json").write_text(json.dumps(self.labels, ensure_ascii=False), encoding="utf-8")
        save_sparse(path / "doc_labels", self.doc_labels)
        # The column view too, so processes that map the snapshot share it instead of each building it.
        save_sparse(path / "doc_labels_by_label", self.doc_labels.tocsc())
        save_sparse(path / "term_counts", self.counts())
        np.save(path / "label_len.npy", self.label_len, allow_pickle=False)
        np.save(path / "label_docs.npy", self.label_docs, allow_pickle=False)

    @classmethod
    def load(cls, path: Path, name: str, *, mmap: bool = False) -> LabelField:
        """``mmap``: map the arrays read-only; every update replaces them with new ones (``_count``)."""
        field = cls(name)
        field.labels = json.loads((path / "labels.json").read_text(encoding="utf-8"))
        field.index = {label: i for i, label in enumerate(field.labels)}
        field.doc_labels = load_sparse(path / "doc_labels", sp.csr_matrix, mmap=mmap)
        if (path / "doc_labels_by_label").exists():
            field._by_label = load_sparse(path / "doc_labels_by_label", sp.csc_matrix, mmap=mmap)
        field.term_counts = load_sparse(path / "term_counts", sp.csc_matrix, mmap=mmap)
        field.label_len = load_array(path / "label_len.npy", mmap=mmap)
        field.label_docs = load_array(path / "label_docs.npy", mmap=mmap)
        return field


def naive_bayes(
    counts_lt: np.ndarray,
    counts: np.ndarray,
    *,
    cf: np.ndarray,
    label_docs: np.ndarray,
    label_len: np.ndarray,
    total_len: float,
    mu: float,
) -> np.ndarray:
    """P(label | query words) from the label × known-word counts, Dirichlet-smoothed towards the
    collection; a function of counts only, so one index or the sums over shards give the same result."""
    if not cf.size or not label_docs.any():
        return np.zeros(label_docs.size)
    background = mu * cf / max(total_len, 1.0)
    with np.errstate(divide="ignore"):
        log_prior = np.log(label_docs / label_docs.sum())
        log_like = np.log(counts_lt + background) - np.log(label_len + mu)[:, None]
    log_post = log_prior + log_like @ counts
    log_post -= log_post.max()
    post = np.exp(log_post)
    return post / post.sum()


def feedback(rows: LabelRows, weights: np.ndarray, n_labels: int) -> np.ndarray:
    """Label distribution of some records (their label ids, best hit first) weighted by their lexical
    scores; zeros if none has labels."""
    mass = np.zeros(n_labels, np.float32)
    # Sequential float32 additions, record after record, as a loop adding each record's weight would do.
    np.add.at(mass, rows.labels, np.repeat(weights.astype(np.float32), rows.lengths))
    total = mass.sum()
    return mass / total if total > 0 else mass


class LabelRows(NamedTuple):
    """Label ids of some records one after another, and how many each has: two arrays cross the wire
    between a shard and the driver instead of one per record (a fixed cost per array on both sides)."""

    labels: np.ndarray  # int32
    lengths: np.ndarray  # int32, per record

    @staticmethod
    def concat(parts: Sequence[LabelRows]) -> LabelRows:
        return LabelRows(
            np.concatenate([p.labels for p in parts]).astype(np.int32, copy=False),
            np.concatenate([p.lengths for p in parts]).astype(np.int32, copy=False),
        )

    def take(self, order: np.ndarray) -> LabelRows:
        """The rows at ``order``, in that order."""
        starts = np.cumsum(self.lengths) - self.lengths
        lengths = self.lengths[order]
        return LabelRows(self.labels[_spans(starts[order], lengths)], lengths)


def _spans(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indices start, start + 1, … of each span, one span after another."""
    total = int(lengths.sum())
    return np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
