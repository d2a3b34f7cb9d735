"""The hall's password backend: Django's ModelBackend, reading the user of a session with
their real-name profile in the same statement.

Almost every signed-in citizen request asks for the profile (who may book, whose cases
these are); loaded separately it was a second query and ~0.3 ms of Python on each of them.
A user without a profile (staff) gets a cached "none", not a query, on access.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend as DjangoModelBackend

from .models import User


class ModelBackend(DjangoModelBackend):
    def get_user(self, user_id):
        try:
            user = User._default_manager.select_related("citizen_profile").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
