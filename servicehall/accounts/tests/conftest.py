import pytest


@pytest.fixture(autouse=True)
def zh_hans():
    """Pages speak Simplified Chinese by default; make that explicit for message checks."""
    from django.utils import translation

    with translation.override("zh-hans"):
        yield
