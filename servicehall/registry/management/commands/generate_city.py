"""generate_city: write a synthetic city of N residents in the registry CSV format.

    python manage.py generate_city --people 10000000 --seed 1 --out /tmp/city.csv
    python manage.py generate_city --people 200 --out - | head

The file depends only on --people and --seed (not on --workers). See
servicehall.registry.synthetic for what the city looks like and why.
"""

import os
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from servicehall.registry import synthetic


class Command(BaseCommand):
    help = (
        "Write a synthetic city of N residents (registry CSV: households, stations, valid ID "
        "numbers), deterministic for a seed. --out - writes to standard output."
    )

    def add_arguments(self, parser):
        parser.add_argument("--people", type=int, required=True, help="number of residents")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument("--out", required=True, help="CSV path, or - for standard output")
        parser.add_argument(
            "--workers",
            type=int,
            default=min(os.cpu_count() or 1, synthetic.LANES),
            help="processes generating in parallel (default: the CPU count, at most "
            f"{synthetic.LANES}); the output does not depend on it",
        )

    def handle(self, *args, people, seed, out, workers, **options):
        if people < 0:
            raise CommandError("--people must be 0 or more.")
        if workers < 1:
            raise CommandError("--workers must be 1 or more.")
        to_stdout = out == "-"
        if not to_stdout:
            directory = Path(out).resolve().parent
            if not directory.is_dir():
                raise CommandError(f"Directory {directory} does not exist.")
        verbose = options.get("verbosity", 1) >= 1 and not to_stdout
        started = time.perf_counter()

        def progress(rows: int) -> None:
            if verbose and rows < people:
                elapsed = time.perf_counter() - started
                self.stderr.write(f"{rows:,} / {people:,} rows, {elapsed:.0f} s")

        target = _TextSink(self.stdout) if to_stdout else out
        try:
            rows = synthetic.write_city(target, people, seed, workers=workers, progress=progress)
        except OSError as exc:
            raise CommandError(f"Cannot write {out}: {exc}") from exc
        if not to_stdout:
            elapsed = time.perf_counter() - started
            self.stdout.write(f"wrote {rows:,} residents to {out} in {elapsed:.1f} s")


class _TextSink:
    """write_city writes UTF-8 bytes in whole lines; the command's stdout takes text (and is
    what call_command(stdout=...) replaces)."""

    def __init__(self, stdout):
        self.stdout = stdout

    def write(self, data: bytes) -> None:
        self.stdout.write(data.decode(), ending="")
