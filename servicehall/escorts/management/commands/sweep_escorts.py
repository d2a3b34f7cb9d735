"""Run on a timer (`make run`, `make worker`, or cron every few minutes): mark escort requests
left unanswered past their response limit and escalate each once to the district's
supervisors. Idempotent and safe on several workers at once (see workflow.sweep_overdue)."""

from django.core.management.base import BaseCommand

from servicehall.escorts import workflow


class Command(BaseCommand):
    help = "Mark unanswered escort requests past their response limit and escalate them once."

    def handle(self, *args, **options):
        escalated = workflow.sweep_overdue()
        if options["verbosity"]:
            self.stdout.write(f"Escorts: {len(escalated)} overdue request(s) escalated")
