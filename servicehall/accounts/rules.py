"""Permissions as rules in code (the `rules` library), not per-row grants.

Predicates take (user, obj). Use them in code (`has_role("approver")(user)`), compose them
(`is_staff_member & in_jurisdiction`), or through Django's permission API, which the rules
registered at the bottom feed: `user.has_perm("accounts.view_staff_home")`.

Jurisdiction: a staff member attached to a station sees that station's records, one attached
to a district branch (分局) that district's, and bureau-level staff (neither) the whole
city. A record takes part through `station_id` / `district_id` attributes (a record with a
station but no district is matched to the station's district).
"""

from __future__ import annotations

import rules
from django.db.models import Q, QuerySet

from .models import Role, Station, User


@rules.predicate
def is_authenticated(user) -> bool:
    return bool(user and user.is_authenticated)


@rules.predicate
def is_staff_member(user) -> bool:
    return bool(user and user.is_authenticated and getattr(user, "is_staff_member", False))


@rules.predicate
def is_otp_verified(user) -> bool:
    """Second factor passed in this session (set by django_otp's OTPMiddleware)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(callable(is_verified) and is_verified())


@rules.predicate
def is_citizen(user) -> bool:
    return bool(user and user.is_authenticated and user.kind == User.Kind.CITIZEN)


@rules.predicate
def is_enterprise_agent(user) -> bool:
    return bool(user and user.is_authenticated and user.kind == User.Kind.ENTERPRISE_AGENT)


@rules.predicate
def is_hotel_user(user) -> bool:
    return bool(user and user.is_authenticated and user.kind == User.Kind.HOTEL)


_role_predicates: dict[tuple[str, ...], rules.Predicate] = {}


def has_role(*roles: str) -> rules.Predicate:
    """Predicate: a staff member holding at least one of `roles` (Role values)."""
    roles = tuple(str(role) for role in roles)  # TextChoices members hash by name
    unknown = set(roles) - set(Role.values)
    if not roles or unknown:
        raise ValueError(f"unknown roles: {sorted(unknown) or 'none given'}")
    key = tuple(sorted(roles))
    if key not in _role_predicates:

        def check(user) -> bool:
            return bool(is_staff_member(user) and user.has_role(*roles))

        _role_predicates[key] = rules.predicate(check, name=f"has_role:{'|'.join(key)}")
    return _role_predicates[key]


def _staff_unit(user) -> tuple[int | None, int | None]:
    """(station_id, district_id) of a staff member; district taken from the station if set."""
    profile = user.staff_profile_or_none
    if profile is None:
        return None, None
    if profile.station_id is not None:
        district_id = profile.district_id or profile.station.district_id
        return profile.station_id, district_id
    return None, profile.district_id


def _record_unit(obj) -> tuple[int | None, int | None]:
    station_id = getattr(obj, "station_id", None)
    district_id = getattr(obj, "district_id", None)
    if district_id is None and station_id is not None:
        district_id = (
            Station.objects.filter(pk=station_id).values_list("district_id", flat=True).first()
        )
    return station_id, district_id


@rules.predicate
def same_station(user, obj) -> bool:
    """The record belongs to the staff member's own station."""
    if obj is None or not is_staff_member(user):
        return False
    station_id, _ = _staff_unit(user)
    return station_id is not None and getattr(obj, "station_id", None) == station_id


@rules.predicate
def same_district(user, obj) -> bool:
    if obj is None or not is_staff_member(user):
        return False
    _, district_id = _staff_unit(user)
    return district_id is not None and _record_unit(obj)[1] == district_id


@rules.predicate
def is_city_level(user) -> bool:
    """Bureau-level staff: attached to neither a station nor a district."""
    return bool(is_staff_member(user) and _staff_unit(user) == (None, None))


@rules.predicate
def in_jurisdiction(user, obj) -> bool:
    """The record lies in the staff member's jurisdiction (station, district or city)."""
    if obj is None or not is_staff_member(user):
        return False
    station_id, district_id = _staff_unit(user)
    if station_id is not None:
        return getattr(obj, "station_id", None) == station_id
    if district_id is not None:
        return _record_unit(obj)[1] == district_id
    return True


def jurisdiction_filter(
    user, queryset: QuerySet, *, station_field: str = "station", district_field: str | None = None
) -> QuerySet:
    """Restrict `queryset` to the staff member's jurisdiction (none for non-staff).

    `district_field` defaults to "<station_field>__district"; pass it when the model has its
    own district column.
    """
    if not is_staff_member(user):
        return queryset.none()
    station_id, district_id = _staff_unit(user)
    if station_id is not None:
        return queryset.filter(**{f"{station_field}_id": station_id})
    if district_id is not None:
        field = district_field or f"{station_field}__district"
        return queryset.filter(Q(**{f"{field}_id": district_id}))
    return queryset


@rules.predicate
def acts_for_enterprise(user, enterprise) -> bool:
    """An active agent membership links the user to the enterprise."""
    if enterprise is None or not is_authenticated(user):
        return False
    return enterprise.memberships.filter(user=user, is_active=True).exists()


@rules.predicate
def is_hotel_account_of(user, hotel) -> bool:
    if hotel is None or not is_hotel_user(user):
        return False
    account = getattr(user, "hotel_account", None)
    return account is not None and account.hotel_id == hotel.pk


@rules.predicate
def is_self(user, obj) -> bool:
    return bool(obj is not None and is_authenticated(user) and getattr(obj, "pk", None) == user.pk)


# --- permissions of the accounts area -------------------------------------------------------

verified_staff = is_staff_member & is_otp_verified

rules.add_perm("accounts.view_staff_home", verified_staff)
rules.add_perm("accounts.manage_staff", verified_staff & has_role(Role.ADMINISTRATOR))
rules.add_perm("accounts.manage_roles", verified_staff & has_role(Role.ADMINISTRATOR))
rules.add_perm("accounts.view_user", is_self | (verified_staff & has_role(Role.ADMINISTRATOR)))
rules.add_perm("accounts.act_for_enterprise", acts_for_enterprise)
rules.add_perm("accounts.act_for_hotel", is_hotel_account_of)
rules.add_perm(
    "accounts.view_hotel",
    is_hotel_account_of | (verified_staff & in_jurisdiction),
)
