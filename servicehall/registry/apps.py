from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "servicehall.registry"
    label = "registry"
    verbose_name = _("户籍")

    def ready(self):
        # A completed birth registration case (婴儿出生登记) adds the child to the registry.
        # The case workflow writes a CaseEvent for every transition, in its transaction; the
        # receiver acts on the one that completes such a case, so workflow.py needs no hook.
        from . import actions

        post_save.connect(
            actions.on_case_event,
            sender="cases.CaseEvent",
            dispatch_uid="registry.birth_registration_completed",
        )
