from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlarmsConfig(AppConfig):
    name = "servicehall.alarms"
    label = "alarms"
    verbose_name = _("三台合一接处警")
