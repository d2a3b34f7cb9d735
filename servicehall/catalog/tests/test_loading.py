import shutil

import pytest
import yaml
from django.core.management import CommandError, call_command

from servicehall.catalog.datafiles import DEFAULT_DIR, read_catalogue
from servicehall.catalog.loading import load_catalogue
from servicehall.catalog.models import ServiceItem

pytestmark = pytest.mark.django_db


def test_loading_twice_changes_nothing(catalogue):
    before = {i.code: i.updated_at for i in ServiceItem.objects.all()}
    report = load_catalogue(read_catalogue())
    assert (report.created, report.updated, report.deactivated) == ([], [], [])
    assert report.unchanged == len(before)
    assert {i.code: i.updated_at for i in ServiceItem.objects.all()} == before


def test_changed_and_removed_files_update_and_deactivate(catalogue, tmp_path):
    items = tmp_path / "items"
    shutil.copytree(DEFAULT_DIR, items)
    path = items / "huzheng" / "HZ-QR-001.yaml"
    data = yaml.safe_load(path.read_text())
    data["time_limit"]["promised_days"] = 0
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    (items / "xiaofang" / "XF-BA-001.yaml").unlink()

    report = load_catalogue(read_catalogue(items))

    assert report.updated == ["HZ-QR-001"]
    assert report.deactivated == ["XF-BA-001"]
    assert ServiceItem.objects.get(code="HZ-QR-001").promised_days == 0
    removed = ServiceItem.objects.get(code="XF-BA-001")  # kept: cases may refer to it
    assert not removed.is_active
    assert not ServiceItem.active.filter(code="XF-BA-001").exists()


def test_command_refuses_a_broken_catalogue_and_loads_nothing(db, tmp_path, capsys):
    items = tmp_path / "items"
    shutil.copytree(DEFAULT_DIR, items)
    (items / "huzheng" / "HZ-QR-001.yaml").write_text("code: HZ-QR-001\n")
    ServiceItem.objects.all().delete()
    with pytest.raises(CommandError, match="problem"):
        call_command("load_catalog", dir=items)
    assert "huzheng/HZ-QR-001.yaml: name:" in capsys.readouterr().err
    assert ServiceItem.objects.count() == 0


def test_command_check_only(db, capsys):
    call_command("load_catalog", check=True)
    assert "items are valid" in capsys.readouterr().out


def test_items_and_staff_share_one_department_table(catalogue):
    from servicehall.accounts.models import Department
    from servicehall.accounts.tests.factories import StaffFactory

    item = ServiceItem.objects.get(code="HZ-QR-001")
    clerk = StaffFactory(roles=["window_clerk"], department=Department.objects.get(code="huzheng"))
    assert clerk.staff_profile.department == item.department
    assert item.department.prefix == "HZ" and item.department.position == 0
