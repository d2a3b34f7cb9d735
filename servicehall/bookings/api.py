"""The bookings JSON API (mounted at /api/bookings/)."""

from ninja import Router

router = Router(tags=["bookings"])
