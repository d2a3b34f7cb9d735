"""manage.py import_registry PATH: load a registry CSV (see servicehall.registry.importer)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from servicehall.registry import importer


class Command(BaseCommand):
    help = (
        "Import household-registration cards from a CSV (header: "
        + ",".join(importer.HEADER)
        + "). Validates every row, writes rejected rows to a report, upserts by ID number "
        "and household number, and resumes an interrupted run of the same file."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, nargs="?")
        parser.add_argument(
            "--report", type=Path, help="rejected-rows CSV (default: PATH.rejected.csv)"
        )
        parser.add_argument("--batch", type=int, default=importer.DEFAULT_BATCH)
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument("--restart", action="store_true", help="start over instead of resuming")
        parser.add_argument(
            "--complete-schema",
            action="store_true",
            help="only rebuild the indexes and foreign keys an interrupted first load left out",
        )
        parser.add_argument(
            "--no-name-stats",
            action="store_true",
            help="do not rebuild the name statistics afterwards (the benchmark times it apart)",
        )

    def handle(self, *args, path, report, batch, no_progress, restart, **options):
        if options["complete_schema"]:
            created = importer.ensure_schema()
            self.stdout.write(("已重建：" + "，".join(created)) if created else "索引和外键完整")
            return
        if path is None:
            raise CommandError("请指定要导入的CSV文件")
        try:
            summary = importer.import_file(
                path,
                report_path=report,
                batch_size=batch,
                progress=not no_progress,
                restart=restart,
                rebuild_names=not options["no_name_stats"],
                stdout=self.stdout,
            )
        except importer.RegistryImportError as exc:
            raise CommandError(str(exc)) from exc
        except KeyboardInterrupt:
            raise CommandError(
                "导入已中断；已提交的批次保留，再次运行同一命令将从中断处继续（--restart 重新开始）。"
            ) from None
        for line in summary.lines_text():
            self.stdout.write(line)
        if summary.names_rebuilt:
            self.stdout.write("重名统计已重建")
