"""`manage.py demo_registry`: the demo's small synthetic city, with the demo citizen's
household, loaded once and counted for the same-name query."""

import pytest
from django.core.management import call_command

from servicehall.accounts import demo
from servicehall.registry import names
from servicehall.registry.models import Person, PersonStatus
from servicehall.registry.tests.test_names import city  # noqa: F401


@pytest.mark.django_db(transaction=True)
def test_demo_registry_loads_a_counted_city_once(city):  # noqa: F811
    call_command("demo_registry", people=400, seed=7)
    assert Person.objects.count() == 401
    citizen = Person.objects.get(id_number=demo.CITIZEN["id_number"])
    assert citizen.name == demo.CITIZEN["name"] and citizen.status == PersonStatus.REGISTERED
    # The name statistics were built by the import: a query equals a count over the cards.
    name = Person.objects.filter(status=PersonStatus.REGISTERED).values_list("name", flat=True)[0]
    expected = Person.objects.filter(name=name, status=PersonStatus.REGISTERED).count()
    assert names.query(name).total == expected
    call_command("demo_registry", people=400, seed=7)
    assert Person.objects.count() == 401
