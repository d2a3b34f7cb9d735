import pytest


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Argon2 is deliberately slow; tests hash with MD5."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def zh_hans():
    """Pages speak Simplified Chinese by default; make that explicit for message checks."""
    from django.utils import translation

    with translation.override("zh-hans"):
        yield
