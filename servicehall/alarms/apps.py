from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlarmsConfig(AppConfig):
    name = "servicehall.alarms"
    label = "alarms"
    verbose_name = _("三台合一接处警")

    def ready(self):
        from django.contrib.auth.signals import user_logged_out

        from . import live

        user_logged_out.connect(live.close_consoles, dispatch_uid="alarms.close_consoles")
