"""Placeholder: filled in by the urls_figures work (issue 5)."""

app_name = "letters_figures"
urlpatterns: list = []
