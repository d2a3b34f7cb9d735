"""Placeholder: filled in by the urls_open311 work (issue 5)."""

app_name = "open311"
urlpatterns: list = []
