"""One-row INSERTs for the hot paths, without the ORM's query compiler.

`Model.objects.create()` builds and compiles a fresh INSERT every call; on the paths that
run hundreds of times a second (a booking at a release moment, an inbound 12110 message,
the audit entry and outbox message each of them writes) that compilation was ~0.2 ms of
Python per row, more than the statement itself. `insert` keeps what matters of the ORM's
way — the model's own defaults, `auto_now(_add)` and each field's conversion to the
database (`pre_save`, `get_db_prep_save`, so JSON and datetimes are stored exactly as the
ORM stores them) — and caches the SQL text per model and column set.

Plain `save()` stays right everywhere else; `Model.save()` overrides and signals do not run
here, so use this only for models whose writes go through one verbs module that knows it.
"""

from __future__ import annotations

from functools import cache

from django.db import connection
from django.db.models import Model


@cache
def _statement(model: type[Model], names: tuple[str, ...], on_conflict_ignore: bool) -> str:
    meta = model._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in names)
    marks = ", ".join(["%s"] * len(names))
    conflict = " ON CONFLICT DO NOTHING" if on_conflict_ignore else ""
    # Names from the model's metadata, values as parameters.
    return (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks}){conflict} "  # noqa: S608
        f"RETURNING {quote(meta.pk.column)}"
    )


def insert(obj: Model, *, ignore_conflicts: bool = False) -> bool:
    """INSERT `obj` (a new, unsaved instance) and set its primary key. With
    `ignore_conflicts`, a row that breaks a unique constraint is skipped instead (ON CONFLICT
    DO NOTHING): returns False then, and `obj.pk` stays None."""
    meta = obj._meta
    # An auto-increment key is the database's to give, unless the caller set it.
    fields = [
        f for f in meta.concrete_fields if not (f.db_returning and getattr(obj, f.attname) is None)
    ]
    names = tuple(f.name for f in fields)
    values = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(_statement(type(obj), names, ignore_conflicts), values)
        row = cursor.fetchone()
    if row is None:
        return False
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = connection.alias
    return True
