"""NameStat: the split by district and decade as ordered groups, and the city-wide split by
decade beside it.

detail  {district: {decade: [m, f]}}  ->  [[decade, district, m, f], ...]
decades (new)                             [[decade, m, f], ...]

Both in key order, as servicehall.registry.names builds and reads them; the stored counts
are rewritten in place (a rebuild would give the same).
"""

from django.db import migrations, models


def groups_of(nested: dict) -> tuple[list, list]:
    detail = sorted(
        [int(decade), int(code), m, f]
        for code, by_decade in nested.items()
        for decade, (m, f) in by_decade.items()
    )
    city: dict[int, list[int]] = {}
    for decade, _code, m, f in detail:
        pair = city.setdefault(decade, [0, 0])
        pair[0] += m
        pair[1] += f
    return detail, [[decade, m, f] for decade, (m, f) in city.items()]


def to_groups(apps, schema_editor):
    NameStat = apps.get_model("registry", "NameStat")
    if schema_editor.connection.vendor == "postgresql":
        # Set-based: a city's 1.5M rows would take minutes through the ORM.
        schema_editor.execute(
            "UPDATE registry_namestat SET detail = coalesce(("
            "SELECT jsonb_agg(jsonb_build_array(d.key::int, k.key::int, d.value -> 0, "
            "d.value -> 1) ORDER BY d.key::int, k.key::int) "
            "FROM jsonb_each(detail) AS k, jsonb_each(k.value) AS d), '[]'::jsonb) "
            "WHERE jsonb_typeof(detail) = 'object'"
        )
        schema_editor.execute(
            "UPDATE registry_namestat SET decades = coalesce(("
            "SELECT jsonb_agg(jsonb_build_array(decade, m, f) ORDER BY decade) FROM ("
            "SELECT (g ->> 0)::int AS decade, sum((g ->> 2)::int) AS m, "
            "sum((g ->> 3)::int) AS f FROM jsonb_array_elements(detail) AS g GROUP BY 1"
            ") AS s), '[]'::jsonb)"
        )
        return
    changed = []
    for stat in NameStat.objects.only("name", "detail").iterator(chunk_size=5000):
        if isinstance(stat.detail, dict):
            stat.detail, stat.decades = groups_of(stat.detail)
            changed.append(stat)
        if len(changed) >= 5000:
            NameStat.objects.bulk_update(changed, ["detail", "decades"])
            changed = []
    NameStat.objects.bulk_update(changed, ["detail", "decades"])


def to_nested(apps, schema_editor):
    NameStat = apps.get_model("registry", "NameStat")
    for stat in NameStat.objects.only("name", "detail").iterator(chunk_size=5000):
        if isinstance(stat.detail, list):
            nested = {}
            for decade, code, m, f in stat.detail:
                nested.setdefault(str(code), {})[str(decade)] = [m, f]
            stat.detail = nested
            stat.save(update_fields=["detail"])


class Migration(migrations.Migration):
    dependencies = [("registry", "0004_person_no_district_station_index")]

    operations = [
        migrations.AlterField(
            model_name="namestat", name="detail", field=models.JSONField(default=list)
        ),
        migrations.AddField(
            model_name="namestat", name="decades", field=models.JSONField(default=list)
        ),
        migrations.RunPython(to_groups, to_nested),
    ]
