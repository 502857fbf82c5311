"""Database layer: tables, engine/sessions, repositories. Depends only on ``domain``."""
