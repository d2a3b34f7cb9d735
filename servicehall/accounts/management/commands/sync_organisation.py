from django.core.management.base import BaseCommand

from servicehall.accounts import organisation
from servicehall.accounts.models import Department, District


class Command(BaseCommand):
    help = "Create or update the districts and the departments (from departments.yaml)."

    def handle(self, *args, **options):
        districts = organisation.sync_districts(District)
        departments = organisation.sync_departments(Department)
        self.stdout.write(f"{districts} districts, {len(departments)} departments")
