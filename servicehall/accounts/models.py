"""Placeholder: the accounts helper replaces this with the real user model."""

from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    pass
