"""Typed records and pure rules. Imports nothing from the rest of the project."""
