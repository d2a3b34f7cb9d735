"""`{{ amount|yuan }}`: an amount in yuan with thousands separators and two decimals
("1,250,000.00"), whatever the language's number format (zh-hans does not group digits,
and a large sum is misread without grouping)."""

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def yuan(value) -> str:
    if value is None or value == "":
        return "—"
    try:
        return f"{Decimal(str(value)):,.2f}"
    except (InvalidOperation, ValueError):
        return str(value)


@register.simple_tag
def pickup(escort) -> str:
    """The pickup address, led by its district unless the address already names it."""
    name = escort.district.name
    address = escort.pickup_address
    return address if address.startswith(name) else f"{name} {address}"
