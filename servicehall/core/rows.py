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

import re
from functools import cache

from django.db import connection
from django.db.models import Model


@cache
def _statement(
    model: type[Model], names: tuple[str, ...], on_conflict_ignore: bool, count: int = 1
) -> str:
    meta = model._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in names)
    marks = ", ".join([f"({', '.join(['%s'] * len(names))})"] * count)
    conflict = " ON CONFLICT DO NOTHING" if on_conflict_ignore else ""
    # Names from the model's metadata, values as parameters.
    return (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {marks}{conflict} "  # noqa: S608
        f"RETURNING {quote(meta.pk.column)}"
    )


def insert(obj: Model, *, ignore_conflicts: bool = False) -> bool:
    """INSERT `obj` (a new, unsaved instance) and set its primary key. With
    `ignore_conflicts`, a row that breaks a unique constraint is skipped instead (ON CONFLICT
    DO NOTHING): returns False then, and `obj.pk` stays None."""
    names, values = _names_and_values(obj)
    with connection.cursor() as cursor:
        cursor.execute(_statement(type(obj), names, ignore_conflicts), values)
        row = cursor.fetchone()
    return _saved(obj, row[0] if row else None)


def insert_if(obj: Model, guard: str, params: list) -> bool:
    """INSERT `obj` only if the data-modifying statement `guard` (e.g. a guarded UPDATE …
    RETURNING id) returned a row, and say whether it did. On PostgreSQL one statement (the
    guard a CTE the INSERT selects from), so the two happen or fail together in one round
    trip; elsewhere the guard, then the INSERT."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(guard, params)
            if cursor.fetchone() is None:
                return False
        return insert(obj)
    names, values = _names_and_values(obj)
    with connection.cursor() as cursor:
        cursor.execute(_guarded_statement(type(obj), names, guard), [*params, *values])
        row = cursor.fetchone()
    return _saved(obj, row[0] if row else None)


@cache
def _guarded_statement(model: type[Model], names: tuple[str, ...], guard: str) -> str:
    meta = model._meta
    quote = connection.ops.quote_name
    fields = [meta.get_field(name) for name in names]
    columns = ", ".join(quote(f.column) for f in fields)
    # Selected values have no column to take their type from (VALUES would): each is cast
    # to its column's type without a length, so that a too-long text still fails as it
    # would in VALUES instead of being cut to fit.
    values = ", ".join(
        f"CAST(%s AS {re.sub(r'[(].*[)]', '', f.cast_db_type(connection))})" for f in fields
    )
    return (
        f"WITH guard AS ({guard}) "  # noqa: S608 - names from the model, values as parameters
        f"INSERT INTO {quote(meta.db_table)} ({columns}) SELECT {values} FROM guard "
        f"RETURNING {quote(meta.pk.column)}"
    )


def insert_together(objs: list[Model]) -> None:
    """INSERT several new rows that do not refer to each other (e.g. an event, an outbox
    message and an audit entry) in one round trip, each as `insert` would and its key set:
    on PostgreSQL one statement of data-modifying CTEs, elsewhere one INSERT each.

    Rows of one model share one INSERT, in the order given, so their keys are in that order
    too (a timeline sorted by time and key stays in the order of the change); the CTEs of
    different tables run in no promised order."""
    if connection.vendor != "postgresql" or len(objs) < 2:
        for obj in objs:
            insert(obj)
        return
    groups: dict[tuple, list[tuple[Model, list]]] = {}
    for obj in objs:
        names, values = _names_and_values(obj)
        groups.setdefault((type(obj), names), []).append((obj, values))
    parts, params, picks = [], [], []
    quote = connection.ops.quote_name
    for n, ((model, names), group) in enumerate(groups.items()):
        parts.append(f"r{n} AS ({_statement(model, names, False, len(group))})")
        params += [value for _obj, values in group for value in values]
        key = quote(model._meta.pk.column)
        # Keys handed out within one INSERT rise in the order of its rows.
        picks.append(f"ARRAY(SELECT {key} FROM r{n} ORDER BY {key})")  # noqa: S608 - names
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(parts)} SELECT {', '.join(picks)}", params)
        keys = cursor.fetchone()
    for group, group_keys in zip(groups.values(), keys, strict=True):
        for (obj, _values), pk in zip(group, group_keys, strict=True):
            _saved(obj, pk)


def _names_and_values(obj: Model) -> tuple[tuple[str, ...], list]:
    # An auto-increment key is the database's to give, unless the caller set it.
    fields = [
        f
        for f in obj._meta.concrete_fields
        if not (f.db_returning and getattr(obj, f.attname) is None)
    ]
    names = tuple(f.name for f in fields)
    return names, [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]


def _saved(obj: Model, pk) -> bool:
    if pk is None:
        return False
    obj.pk = pk
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
