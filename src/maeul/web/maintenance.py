"""Database housekeeping the worker does: keep the query planner's statistics current.

PostgreSQL's autovacuum analyses tables by itself. SQLite keeps no statistics unless asked; without them it
may scan a whole site's index where a handful of primary-key lookups would do (e.g. a name search).
`analysis_limit` makes ANALYZE sample each index instead of reading it whole, so an hourly run stays cheap
however large the access log grows.
"""

from __future__ import annotations

from django.db import connection


def refresh_planner_statistics() -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA analysis_limit=2000")
            cursor.execute("ANALYZE")
