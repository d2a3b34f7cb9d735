"""Placeholder: filled in by the urls work (issue 5)."""

app_name = "letters"
urlpatterns: list = []
