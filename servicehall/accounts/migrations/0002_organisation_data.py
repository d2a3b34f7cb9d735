"""Seed Shenyang's districts and the bureau's departments (from departments.yaml)."""

from django.db import migrations


def seed(apps, schema_editor):
    from servicehall.accounts import organisation

    organisation.sync_districts(apps.get_model("accounts", "District"))
    try:
        organisation.sync_departments(apps.get_model("accounts", "Department"))
    except FileNotFoundError:
        # `manage.py sync_organisation` loads them later.
        pass


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
