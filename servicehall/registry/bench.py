"""Endpoints for `make bench-names` only, mounted when SERVICEHALL_BENCH_ENDPOINTS is set.

- /api/bench/floor: the same stack (Django + django-ninja + middleware) answering a constant,
  the ceiling any real endpoint can reach.
- /api/bench/names-naive: the exact-name answer computed the naive way, COUNT(*) over the
  person table through its plain (name, birth_date) index — the baseline the precomputed
  statistics are measured against.
"""

from django.db import connection
from ninja import Router

router = Router(tags=["bench"])

FLOOR = {"name": "张伟", "total": 0, "male": 0, "female": 0}


@router.get("/floor", include_in_schema=False)
def floor(request, name: str = ""):
    return FLOOR


@router.get("/names-naive", include_in_schema=False)
def names_naive(request, name: str = ""):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT gender, (EXTRACT(YEAR FROM birth_date)::int / 10) * 10 AS decade, COUNT(*) "
            "FROM registry_person WHERE name = %s AND status = 'registered' "
            "GROUP BY gender, decade",
            [name],
        )
        rows = cursor.fetchall()
    male = sum(n for gender, _, n in rows if gender == "M")
    female = sum(n for gender, _, n in rows if gender == "F")
    decades = {}
    for gender, decade, n in rows:
        decades.setdefault(str(decade), [0, 0])[0 if gender == "M" else 1] += n
    return {
        "name": name,
        "total": male + female,
        "male": male,
        "female": female,
        "decades": decades,
    }
