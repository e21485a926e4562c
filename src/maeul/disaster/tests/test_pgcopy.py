"""The binary COPY stream read back by PostgreSQL: NULLs, texts of different lengths, doubles, timestamps."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from django.db import connection

from maeul.disaster import pgcopy


@pytest.mark.django_db
def test_postgresql_reads_back_every_value_and_null() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the binary COPY format is PostgreSQL's")
    ids = np.array([3, 1, 2, 4])
    helper = np.array([7, -1, 9, -1])
    account = np.array([-1, -1, 5, 6])
    codes = np.array(["1111051500", "11110", "1111051500", "종로구"])
    indoor = np.array([np.nan, 35.25, np.nan, -12.5])
    moment = datetime(2026, 8, 1, 1, 2, 3, 456789, tzinfo=UTC)
    stream = pgcopy.payload([
        pgcopy.bigint(ids), pgcopy.text(codes), pgcopy.smallint(np.array([300, -2, 0, 1])),
        pgcopy.bigint(helper, helper == -1), pgcopy.integer(account, account == -1), pgcopy.double(indoor),
        pgcopy.timestamptz(moment, ids.size),
    ])  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE copied (id bigint, code varchar(10), priority smallint, helper bigint,"
            " account integer, indoor double precision, at timestamptz)"
        )
        with cursor.cursor.copy("COPY copied FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(stream)
        cursor.execute("SELECT id, code, priority, helper, account, indoor, at FROM copied ORDER BY id")
        rows = cursor.fetchall()
    assert rows == [
        (1, "11110", -2, None, None, 35.25, moment),
        (2, "1111051500", 0, 9, 5, None, moment),
        (3, "1111051500", 300, 7, None, None, moment),
        (4, "종로구", 1, None, 6, -12.5, moment),
    ]
