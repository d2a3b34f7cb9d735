"""Models with a Chinese `name` and an English `name_en`."""

from django.utils.translation import get_language


class LocalizedName:
    """`display_name` is the English name when the interface speaks English and one exists."""

    @property
    def display_name(self) -> str:
        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name
