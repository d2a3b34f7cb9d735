from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EscortsConfig(AppConfig):
    name = "servicehall.escorts"
    label = "escorts"
    verbose_name = _("大额取送款护送")
