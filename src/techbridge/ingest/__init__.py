"""Bring records in from files and take them back out (CSV, XLSX, JSON, JSONL)."""
