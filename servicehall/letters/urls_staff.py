"""Placeholder: filled in by the urls_staff work (issue 5)."""

app_name = "letters_staff"
urlpatterns: list = []
