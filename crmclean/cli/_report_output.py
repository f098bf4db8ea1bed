"""Terminal output shared by `audit`, `validate` and `score`: a rich summary table or the JSON summary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.markup import escape
from rich.table import Table

from crmclean import ui


def step_printer() -> Callable[[str], None] | None:
    """Prints each audit step on a terminal; silent under cron and in pipes (stderr stays for errors)."""
    return ui.info if ui.err.is_terminal else None


_LIGHT = {"green": "[green]●[/]", "yellow": "[yellow]●[/]", "red": "[red]●[/]", "grey": "[dim]○[/]"}


def print_summary(report: dict[str, Any], files: dict[str, str] | None = None, *, max_checks: int = 15) -> None:
    """KPIs, then the checks that flagged something, then where the report files are."""
    if ui.MODE.quiet:
        return
    k = report["kpis"]
    kpis = Table(title=f"{escape(report['run']['source'])} — {k['records']:,} {report['run']['object_type']}",
                 show_header=False, title_justify="left")
    kpis.add_column("KPI")
    kpis.add_column("value", justify="right")
    kpis.add_row("% clean records", f"{k['pct_clean']}%  ({k['clean_records']:,})")
    kpis.add_row("average completeness",
                 f"{k['avg_completeness']}  ([green]{k['grade_green']:,}[/] / [yellow]{k['grade_yellow']:,}[/] / "
                 f"[red]{k['grade_red']:,}[/])")
    kpis.add_row("records in duplicate clusters", f"{k['duplicate_records']:,}  ({k['duplicate_clusters']:,} clusters)")
    kpis.add_row("invalid phones / emails", f"{k['invalid_phones']:,} / {k['invalid_emails']:,}")
    kpis.add_row("stale (never / unreadable)", f"{k['stale']:,}  ({k['stale_never']:,} / {k['stale_unreadable']:,})")
    kpis.add_row("orphans / unassigned", f"{k['orphans']:,} / {k['unassigned']:,}")
    s = report["findings_by_severity"]
    kpis.add_row("findings", f"[red]{s['error']:,} error[/]  [yellow]{s['warning']:,} warning[/]  {s['info']:,} info")
    kpis.add_row("proposed changes", f"{k['changes_fix']:,} fix, {k['changes_suggest']:,} suggest")
    ui.out.print(kpis)
    flagged = [c for c in report["checks"] if c["records"]]
    if flagged:
        table = Table("", "check", "severity", "records", "%", title="checks that flagged records",
                      title_justify="left")
        for c in flagged[:max_checks]:
            table.add_row(_LIGHT.get(c["light"], ""), f"{escape(c['code'])} {escape(c['name'])}", c["severity"],
                          f"{c['records']:,}", f"{c['pct']}")
        if len(flagged) > max_checks:
            table.caption = f"… and {len(flagged) - max_checks} more in the report"
        ui.out.print(table)
    if files:
        ui.out.print("report: " + escape(files.get("html") or next(iter(files.values()))), highlight=False)


def print_failing(findings: Any, fail_on: str, *, written: bool, values: bool = True) -> None:
    """The findings that failed the gate (the first ten, worst first), one line each on stderr: record id,
    column, rule, value and message, so the records that stopped the import are named without --out.
    ``values=False`` (audit --mask-pii) leaves the cell values out and masks emails and phones in the messages."""
    from crmclean.reports.content import mask_free_text
    from crmclean.validate import failing_findings

    shown, total = failing_findings(findings, fail_on)
    for f in shown.iter_rows(named=True):
        value = "" if f["value"] is None or not values else f" {str(f['value'])[:60]!r}"
        message = str(f["message"]) if values else str(mask_free_text(str(f["message"])))
        ui.err.print(f"  {escape(str(f['record_id']))}  {escape(str(f['column']))}{escape(value)}: "
                     f"{escape(str(f['rule']))} {f['severity']}: {escape(message)}", highlight=False)
    if total > shown.height:
        more = "findings.csv lists every one" if written else "--out DIR writes findings.csv with every one"
        ui.err.print(f"  … {total - shown.height:,} more ({more})", highlight=False)
