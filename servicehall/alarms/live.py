"""The one seam for live updates of the dispatch console.

Every workflow verb calls `publish(event_kind, payload)` after its transaction commits
(through `transaction.on_commit`), never before: a console never shows a change that was
rolled back. `event_kind` is one of

    incident.created  incident.changed  unit.changed  sms.received  sms.sent

and `payload` a small JSON-able dict of ids, statuses and desks (no personal data: the
console reads the rest with the viewer's own permissions), e.g.
{"incident": 12, "number": "JJ2026091400001", "status": "dispatched",
 "desks": ["fire", "police"], "district": 3}.

Nothing listens yet, so this function does nothing. The live console fills it in: it will
send the payload to the Django Channels groups of the desks and district concerned, and
that is the only code that will need to change here. A failure to publish must never undo
the committed change; the console's page reload always shows the stored truth.
"""

from __future__ import annotations


def publish(event_kind: str, payload: dict) -> None:
    """Announce a committed change to live consoles (a no-op until the console exists)."""
    return None
