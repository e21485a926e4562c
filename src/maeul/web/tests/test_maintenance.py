from __future__ import annotations

import pytest
from django.db import connection

from maeul.web.maintenance import refresh_planner_statistics


@pytest.mark.django_db
def test_planner_statistics_are_gathered_on_sqlite(household) -> None:  # type: ignore[no-untyped-def]
    refresh_planner_statistics()
    if connection.vendor != "sqlite":
        return  # PostgreSQL's autovacuum keeps its own statistics; nothing to do
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'people_household'")
        assert cursor.fetchone()[0] > 0
