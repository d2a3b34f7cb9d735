"""Distances on the WGS84 sphere, computed in Python so PostgreSQL and SQLite answer alike
(no PostGIS): the database narrows candidates with a latitude/longitude box on indexed
columns, and haversine gives the exact order among the few left."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
_METRES_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_M / 180


def haversine_m(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance in metres between two points given in degrees."""
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp = p2 - p1
    dl = math.radians(float(lon2) - float(lon1))
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def box(lat, lon, metres: float) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(lat_min, lat_max, lon_min, lon_max) of a box holding every point within `metres`.
    Near the poles the longitude span is the whole circle."""
    lat, lon = float(lat), float(lon)
    dlat = metres / _METRES_PER_DEGREE_LAT
    cos_lat = math.cos(math.radians(lat))
    dlon = 180.0 if cos_lat < 1e-6 else min(180.0, dlat / cos_lat)

    def d(value):
        return Decimal(str(round(value, 6)))

    return d(lat - dlat), d(lat + dlat), d(lon - dlon), d(lon + dlon)


def coordinate_pair(lat, lon) -> tuple[Decimal | None, Decimal | None] | None:
    """Both as Decimals with 6 places, (None, None) when both are empty, or None when the
    input is not a valid WGS84 pair (one missing, not a number, out of range)."""
    if lat in (None, "") and lon in (None, ""):
        return None, None
    try:
        lat, lon = Decimal(str(lat).strip()), Decimal(str(lon).strip())
    except (InvalidOperation, ValueError):
        return None
    if not (lat.is_finite() and lon.is_finite()):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat.quantize(Decimal("0.000001")), lon.quantize(Decimal("0.000001"))
