"""The inbound 12110 path's statements, written by hand (portable: PostgreSQL and SQLite).

Every inbound message runs these; compiled by the ORM each time they cost more Python than
the database spends on them (`make bench-alarms` prints the CPU per message). Everything
else in the app uses the ORM.
"""

from django.db import connection

# The message a gateway already delivered under this id (a redelivery). Params: gateway,
# gateway message id.
STORED_MESSAGE = """
SELECT id FROM alarms_smsmessage WHERE gateway = %s AND gateway_message_id = %s
"""

# What of the incident an inbound message needs (its number for the acknowledgement, the
# status for the timeline, desks and district to route the console's notice), in the
# model's field order (Incident.from_db takes them so).
THREAD_INCIDENT_FIELDS = [
    "id", "number", "desk_police", "desk_fire", "desk_traffic", "status", "district_id",
]  # fmt: skip

# The open thread of a number and its incident, whether a call-taker has written in it, and
# the message a gateway already delivered under this id (as STORED_MESSAGE: a redelivery).
# Params: the human kinds (3), gateway, gateway message id, phone. With FOR UPDATE
# (`locking`) both rows are locked in one statement (lock order: incident, thread).
OPEN_THREAD = """
SELECT t.id, t.last_sequence,
       i.id, i.number, i.desk_police, i.desk_fire, i.desk_traffic, i.status, i.district_id,
       EXISTS (SELECT 1 FROM alarms_smsmessage m
               WHERE m.thread_id = t.id AND m.kind IN (%s, %s, %s)),
       (SELECT s.id FROM alarms_smsmessage s WHERE s.gateway = %s AND s.gateway_message_id = %s)
FROM alarms_smsthread t JOIN alarms_incident i ON i.id = t.incident_id
WHERE t.phone = %s AND t.status = 'open'
"""


def locking(statement: str) -> str:
    """`statement` … FOR UPDATE where the database has row locks (SQLite locks the whole
    database for a writer instead, and knows no FOR UPDATE)."""
    return statement + " FOR UPDATE" if connection.features.has_select_for_update else statement


# The last number handed out in a (locked) thread. Params: the number, thread id.
SET_LAST_SEQUENCE = "UPDATE alarms_smsthread SET last_sequence = %s WHERE id = %s"


# The next incident number of a local day, in one statement (was three): the day's row is
# made or counted up, and stays locked until commit, so numbers never repeat and never skip.
# Params: the day.
NEXT_INCIDENT_NUMBER = """
INSERT INTO alarms_incidentcounter (day, last) VALUES (%s, 1)
ON CONFLICT (day) DO UPDATE SET last = alarms_incidentcounter.last + 1
RETURNING last
"""
