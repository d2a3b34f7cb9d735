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


def columns(model: type[Model], table_alias: str) -> str:
    """The model's concrete columns as a SELECT list (`alias.column, …`), in the order
    `from_row` reads them."""
    quote = connection.ops.quote_name
    return ", ".join(f"{table_alias}.{quote(f.column)}" for f in model._meta.concrete_fields)


def from_row(model: type[Model], row, start: int = 0) -> tuple[Model | None, int]:
    """An instance of `model` built from `row[start:]` as `columns` selected it (the ORM's
    own `from_db` and the backend's value converters, so it is what a queryset gives), and
    the index after its columns. None when its primary key is NULL (a LEFT JOIN found none)."""
    fields = model._meta.concrete_fields
    end = start + len(fields)
    values = list(row[start:end])
    for index, converters, expression in _converters(model):
        for convert in converters:
            values[index] = convert(values[index], expression, connection)
    if values[fields.index(model._meta.pk)] is None:
        return None, end
    return model.from_db(connection.alias, [f.attname for f in fields], values), end


@cache
def _converters(model: type[Model]) -> tuple:
    """Per column that has any, the converters the ORM's compiler applies to a value read
    (the backend's, e.g. SQLite's datetimes, then the field's `from_db_value`, e.g. JSON)."""
    found = []
    for index, field in enumerate(model._meta.concrete_fields):
        expression = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(expression) + expression.get_db_converters(
            connection
        )
        if converters:
            found.append((index, converters, expression))
    return tuple(found)
