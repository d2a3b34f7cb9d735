"""The booking hot path's statements, written by hand (portable: PostgreSQL and SQLite).

At a release moment thousands of booking requests arrive at once, and most of each
request's time was the ORM compiling the same few statements again (select_related with an
annotated subquery, Q trees): ~3 ms of Python per request against well under a millisecond
in the database (`make bench-booking` prints both). These few statements are the ones every
booking runs; everything else in the app uses the ORM.
"""

from functools import cache

from servicehall.core import rows

from .models import Slot


# The slot asked for and its siblings (other counters' slots of the same office, item and
# time) at an active office, with what a booking reads of the office and the item, and the
# booking a client token already made. Params: client_token, slot id. Every Slot column
# comes first (core.rows.from_row reads them), then office code, name and kind, item code
# and name, counter code and the token's booking.
@cache
def slots_at_time() -> str:
    return f"""
SELECT {rows.columns(Slot, "s")},
       o.code AS office_code, o.name AS office_name, o.kind AS office_kind,
       i.code AS item_code, i.name AS item_name,
       c.code AS counter_code,
       (SELECT b.id FROM bookings_booking b WHERE b.client_token = %s) AS token_booking
FROM bookings_slot r
JOIN bookings_slot s ON s.office_id = r.office_id AND s.item_id = r.item_id
    AND s.date = r.date AND s.start = r.start
JOIN bookings_office o ON o.id = s.office_id
JOIN catalog_serviceitem i ON i.id = s.item_id
JOIN bookings_counter c ON c.id = s.counter_id
WHERE r.id = %s AND o.is_active
"""  # noqa: S608 - the columns from the model


# A person's bookings that decide whether they may book: a live one of the item that day
# (one per person, item and day), and the no-shows within the restriction window.
# Params: document type, document number, item id, date, the two live statuses, the
# no-show status, the window's first day (exclusive) and today.
PERSON_BOOKINGS = """
SELECT id, status, date, client_token FROM bookings_booking
WHERE document_type = %s AND document_number = %s
  AND ((item_id = %s AND date = %s AND status IN (%s, %s))
       OR (status = %s AND date > %s AND date <= %s))
"""

# The guarded UPDATE that is the capacity guarantee (with the CHECK booked <= capacity
# behind it): a place is taken only while the slot is open, released, not started and has
# one; the booking's row is inserted only if it returned one (core.rows.insert_if: on
# PostgreSQL the two are one statement). Params: slot id, now, now.
TAKE_PLACE = """
UPDATE bookings_slot SET booked = booked + 1
WHERE id = %s AND booked < capacity AND NOT is_closed AND release_at <= %s AND start > %s
RETURNING id
"""
