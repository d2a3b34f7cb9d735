"""Placeholder: filled in by the api_import work (issue 5)."""

from ninja import Router

router = Router(tags=["letters"])
