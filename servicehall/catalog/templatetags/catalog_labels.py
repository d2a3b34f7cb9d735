"""Labels for the codes item documents carry (channels, delivery, material forms)."""

from django import template
from django.utils.translation import gettext, ngettext

from servicehall.catalog.models import Channel, Delivery, LimitUnit, MaterialForm

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
    if days == 0:
        return gettext("即时办结")
    return ngettext("%(n)d个工作日", "%(n)d个工作日", days) % {"n": days}


@register.simple_tag
def legal_limit(item):
    """The statutory limit in the law's own unit: 工作日 by default, 日 where the law says 日."""
    if item.legal_unit == LimitUnit.CALENDAR_DAYS and item.legal_days:
        return ngettext("%(n)d日（自然日）", "%(n)d日（自然日）", item.legal_days) % {
            "n": item.legal_days
        }
    return working_days(item.legal_days)
