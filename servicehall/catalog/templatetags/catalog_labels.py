"""Labels for the codes item documents carry (channels, delivery, material forms)."""

from django import template

from servicehall.catalog.models import Channel, Delivery, MaterialForm

register = template.Library()


def _label(choices, value):
    try:
        return choices(value).label
    except ValueError:
        return value


@register.filter
def channel_label(value):
    return _label(Channel, value)


@register.filter
def delivery_label(value):
    return _label(Delivery, value)


@register.filter
def material_form_label(value):
    return _label(MaterialForm, value)


@register.filter
def working_days(days):
    from django.utils.translation import gettext, ngettext

    if days == 0:
        return gettext("即时办结")
    return ngettext("%(n)d个工作日", "%(n)d个工作日", days) % {"n": days}
