"""NameStat.detail from {district: {decade: [m, f]}} to [[district, decade, m, f], ...].

The rows are rewritten in place (a rebuild would give the same); the statement does what
servicehall.registry.names reads, in district then decade order.
"""

from django.db import migrations, models


def to_groups(apps, schema_editor):
    NameStat = apps.get_model("registry", "NameStat")
    if schema_editor.connection.vendor == "postgresql":
        # One statement: a city's 1.5M rows would take minutes through the ORM.
        schema_editor.execute(
            "UPDATE registry_namestat SET detail = coalesce(("
            "SELECT jsonb_agg(jsonb_build_array(k.key::int, d.key::int, d.value -> 0, "
            "d.value -> 1) ORDER BY k.key::int, d.key::int) "
            "FROM jsonb_each(detail) AS k, jsonb_each(k.value) AS d), '[]'::jsonb) "
            "WHERE jsonb_typeof(detail) = 'object'"
        )
        return
    changed = []
    for stat in NameStat.objects.only("name", "detail").iterator(chunk_size=5000):
        if isinstance(stat.detail, dict):
            stat.detail = sorted(
                [int(code), int(decade), m, f]
                for code, by_decade in stat.detail.items()
                for decade, (m, f) in by_decade.items()
            )
            changed.append(stat)
        if len(changed) >= 5000:
            NameStat.objects.bulk_update(changed, ["detail"])
            changed = []
    NameStat.objects.bulk_update(changed, ["detail"])


def to_nested(apps, schema_editor):
    NameStat = apps.get_model("registry", "NameStat")
    for stat in NameStat.objects.only("name", "detail").iterator(chunk_size=5000):
        if isinstance(stat.detail, list):
            nested = {}
            for code, decade, m, f in stat.detail:
                nested.setdefault(str(code), {})[str(decade)] = [m, f]
            stat.detail = nested
            stat.save(update_fields=["detail"])


class Migration(migrations.Migration):
    dependencies = [("registry", "0004_person_no_district_station_index")]

    operations = [
        migrations.AlterField(
            model_name="namestat", name="detail", field=models.JSONField(default=list)
        ),
        migrations.RunPython(to_groups, to_nested),
    ]
