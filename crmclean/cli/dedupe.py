"""`crmclean dedupe`: find records that are the same person or company; write clusters, pairs, review queue, golden records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from crmclean import ui
from crmclean.cli import app
from crmclean.cli.options import (
    Delimiter,
    Encoding,
    Format,
    IdColumn,
    Json,
    Object,
    Out,
    Rules,
    Sheet,
    Source,
    Where,
    source_options,
)
from crmclean.connectors.files import format_for, write_frame
from crmclean.errors import UsageError

PairsOut = Annotated[Path | None, typer.Option("--pairs", help="Write every scored pair: ids, score, decision, evidence.")]
ReviewOut = Annotated[Path | None, typer.Option(
    "--review", help="Write pairs between the review and match thresholds for a steward (fill `label`: accept/reject).")]
Labels = Annotated[Path | None, typer.Option(
    "--labels", help="A reviewed pairs file: accepted pairs are merged, rejected never; weights are retuned.")]
GoldenOut = Annotated[Path | None, typer.Option("--golden", help="Write one merged golden record per cluster.")]
Against = Annotated[str | None, typer.Option(
    "--against", help="Link instead: which rows of SOURCE already exist in OTHER (a file or salesforce:Contact).")]
ExplainIds = Annotated[list[str] | None, typer.Option(
    "--explain", help="Explain one pair as a waterfall of field weights: --explain ID1 --explain ID2.")]


def _write(frame: pl.DataFrame, path: Path) -> None:
    write_frame(frame, path, format_for(path, None))


@app.command("dedupe")
def dedupe_command(
    source: Source,
    rules: Rules = None,
    out: Out = None,
    pairs: PairsOut = None,
    review: ReviewOut = None,
    labels: Labels = None,
    golden: GoldenOut = None,
    against: Against = None,
    explain: ExplainIds = None,
    object_type: Object = None,
    json_out: Json = False,
    format: Format = None,
    sheet: Sheet = None,
    id_column: IdColumn = None,
    encoding: Encoding = None,
    delimiter: Delimiter = None,
    where: Where = None,
) -> None:
    """Find duplicate people or companies: blocking, fuzzy comparison (nicknames, transliteration), probabilistic
    scoring, clustering that does not chain strangers, golden records.

    --out keeps every input row and column in order and adds cluster_id (the master's id), cluster_role
    (master / duplicate / single) and match_score. Works with zero configuration on recognized CRM columns;
    tune thresholds, blocking, comparisons and survivorship in the rules file's `dedupe:` section.

    Example: crmclean dedupe examples/contacts.csv --out deduped.csv --pairs pairs.csv --review review.csv

    Example: crmclean dedupe contacts.csv --explain 100017 --explain 100042

    Example: crmclean dedupe new_leads.xlsx --against salesforce:Contact --out checked.csv
    """
    from crmclean.matching import dedupe, explain_pair, link
    from crmclean.sources import open_source

    ui.MODE.json = json_out
    opts = source_options(format, sheet, id_column, encoding, delimiter, where, object_type)
    if explain is not None and len(explain) != 2:
        raise UsageError("--explain takes exactly two record ids: --explain ID1 --explain ID2")
    if against and (explain or labels or golden):
        raise UsageError("--against links two sources; --explain, --labels and --golden work on one source")
    with ui.progress("reading source") as bar:
        table, rules_file, _ = open_source(source, str(rules) if rules else None, opts,
                                           progress=lambda done, total: bar.update(done, total))

    if explain:
        expl = explain_pair(table, explain[0], explain[1], rules_file, object_type=object_type)
        if json_out:
            ui.print_json(expl.to_dict())
        else:
            ui.out.print(expl.to_text(), highlight=False, markup=False)
        return

    if against:
        with ui.progress("reading --against") as bar:
            other, _, _ = open_source(against, rules_file, source_options(object_type=object_type),
                                      progress=lambda done, total: bar.update(done, total))
        with ui.progress("linking") as bar:
            linked = link(table, other, rules_file, object_type=object_type)
        if out:
            _write(linked.annotated(table.frame, table.id_column), out)
        if pairs:
            _write(linked.matches, pairs)
        if json_out:
            ui.print_json({"summary": linked.summary, "blocking": linked.blocking_stats,
                           "outputs": {k: str(v) for k, v in (("out", out), ("pairs", pairs)) if v}})
        else:
            s = linked.summary
            ui.info(f"[bold]{s['source_records']}[/] source rows vs [bold]{s['other_records']}[/] in {against}: "
                    f"[red]{s['existing']}[/] already exist, [yellow]{s['review']}[/] to review, "
                    f"[green]{s['new']}[/] new ({s['candidate_pairs']} pairs compared)")
            for p, what in ((out, "rows with match_id / match_decision"), (pairs, "matches")):
                if p:
                    ui.info(f"  wrote {what} to {p}")
        return

    with ui.progress("deduplicating") as bar:
        result = dedupe(table, rules_file, labels=str(labels) if labels else None, object_type=object_type,
                        progress=lambda step, done, total: bar.update(done, total))
    written: dict[str, str] = {}
    if out:
        _write(result.annotated(table.frame), out)
        written["out"] = str(out)
    if pairs:
        _write(result.pairs, pairs)
        written["pairs"] = str(pairs)
    if review:
        _write(result.review, review)
        written["review"] = str(review)
    if golden:
        _write(result.golden, golden)
        written["golden"] = str(golden)
    if json_out:
        ui.print_json({"summary": result.summary, "blocking": result.blocking_stats, "outputs": written})
        return
    _print_summary(result.summary, result.blocking_stats, written)


def _print_summary(s: dict, blocking: list[dict], written: dict[str, str]) -> None:
    from rich.table import Table

    ui.info(
        f"[bold]{s['records']}[/] records → [bold]{s['clusters']}[/] clusters holding "
        f"[bold]{s['records_in_clusters']}[/] records ([red]{s['duplicates']}[/] duplicates to merge); "
        f"[yellow]{s['review_pairs']}[/] pairs to review"
        + (f", {s['refused_merges']} merges refused (conflict / size)" if s["refused_merges"] else "")
    )
    ui.info(f"compared {s['candidate_pairs']:,} of {s['possible_pairs']:,} possible pairs "
            f"(reduction {s['reduction_ratio']:.6f})")
    if not ui.MODE.quiet:
        t = Table(title="blocking", show_lines=False)
        for col in ("key", "records", "blocks", "largest", "pairs", "oversized", "split", "dropped"):
            t.add_column(col, justify="right" if col != "key" else "left")
        for b in blocking:
            t.add_row(b["key"], str(b["records"]), str(b["blocks"]), str(b["largest_block"]), str(b["pairs"]),
                      str(b["oversized_blocks"]), str(b["split_blocks"]), str(b["dropped_blocks"]))
        ui.err.print(t)
    for key, path in written.items():
        ui.info(f"  wrote {key} to {path}")
