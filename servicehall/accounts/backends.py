"""The hall's password backend: Django's ModelBackend, reading the user of a session with
their real-name profile in the same statement.

Almost every signed-in citizen request asks for the profile (who may book, whose cases
these are); loaded separately it was a second query and ~0.3 ms of Python on each of them.
A user without a profile (staff) gets a cached "none", not a query, on access.

The statement is written out once from the two models' fields (`core.rows`), not compiled
by the ORM on every request: compiling the select_related query cost ~0.5 ms of Python per
request, three times the round trip itself.
"""

from __future__ import annotations

from functools import cache

from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.db import connection

from servicehall.core import rows

from .models import CitizenProfile, User


class ModelBackend(DjangoModelBackend):
    def get_user(self, user_id):
        user = user_with_profile(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


def user_with_profile(user_id) -> User | None:
    """The user `user_id` with `citizen_profile` loaded (or known absent), as
    `select_related("citizen_profile")` gives it; None if there is no such user."""
    with connection.cursor() as cursor:
        cursor.execute(_user_statement(), [User._meta.pk.get_db_prep_value(user_id, connection)])
        row = cursor.fetchone()
    if row is None:
        return None
    user, after = rows.from_row(User, row)
    profile, _end = rows.from_row(CitizenProfile, row, after)
    User.citizen_profile.related.set_cached_value(user, profile)
    if profile is not None:
        CitizenProfile.user.field.set_cached_value(profile, user)
    return user


@cache
def _user_statement() -> str:
    quote = connection.ops.quote_name
    user_table, profile_table = User._meta.db_table, CitizenProfile._meta.db_table
    return (
        f"SELECT {rows.columns(User, 'u')}, {rows.columns(CitizenProfile, 'p')} "  # noqa: S608
        f"FROM {quote(user_table)} u LEFT JOIN {quote(profile_table)} p "
        f"ON p.{quote(CitizenProfile.user.field.column)} = u.{quote(User._meta.pk.column)} "
        f"WHERE u.{quote(User._meta.pk.column)} = %s"
    )
