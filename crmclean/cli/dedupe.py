"""`crmclean dedupe`: find records that are the same person or company; write clusters, pairs, review queue, golden records."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from crmclean import ui
from crmclean.cli import app
from crmclean.cli.options import Json, Out, Rules, Source, source_options
from crmclean.errors import UsageError

if TYPE_CHECKING:
    from crmclean.sources import SourceOptions

PairsOut = Annotated[Path | None, typer.Option("--pairs", help="Write every scored pair: ids, score, decision, evidence.")]
ReviewOut = Annotated[Path | None, typer.Option(
    "--review", help="Write the pairs a steward should decide: not merged, and as a pair left apart at least the "
                     "review threshold's odds of being one record (dedupe.thresholds.review; fill `label`: "
                     "accept/reject). Rows sharing `question_id` ask one question: which of "
                     "these candidates, if any, is the record they share.")]
Labels = Annotated[Path | None, typer.Option(
    "--labels", help="A reviewed pairs file: accepted pairs are merged, rejected never; weights are retuned.")]
GoldenOut = Annotated[Path | None, typer.Option("--golden", help="Write one merged golden record per cluster.")]
Against = Annotated[str | None, typer.Option(
    "--against", help="Link instead: which rows of SOURCE already exist in OTHER (a file or salesforce:Contact).")]
ExplainIds = Annotated[list[str] | None, typer.Option(
    "--explain", help="Explain one pair as a waterfall of field weights: --explain ID1 --explain ID2.")]


@app.command("dedupe")
@source_options()
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
    json_out: Json = False,
    options: SourceOptions | None = None,
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
    from crmclean import api

    ui.MODE.json = json_out
    if explain is not None and len(explain) != 2:
        raise UsageError("--explain takes exactly two record ids: --explain ID1 --explain ID2")
    if against and (explain or labels or golden):
        raise UsageError("--against links two sources; --explain, --labels and --golden work on one source")

    if explain:
        expl = api.explain(source, explain[0], explain[1], rules, options, progress=ui.progress)
        if json_out:
            ui.print_json(expl.to_dict())
        else:
            ui.out.print(expl.to_text(), highlight=False, markup=False)
        return

    if against:
        linked = api.link(source, against, rules, options, out=out, pairs=pairs, progress=ui.progress)
        if json_out:
            ui.print_json({"summary": linked.result.summary, "blocking": linked.result.blocking_stats,
                           "outputs": linked.written})
        else:
            s = linked.result.summary
            ui.info(f"[bold]{s['source_records']}[/] source rows vs [bold]{s['other_records']}[/] in {against}: "
                    f"[red]{s['existing']}[/] already exist, [yellow]{s['review']}[/] to review, "
                    f"[green]{s['new']}[/] new ({s['candidate_pairs']} pairs compared)")
            for key, what in (("out", "rows with match_id / match_decision"), ("pairs", "matches")):
                if key in linked.written:
                    ui.info(f"  wrote {what} to {linked.written[key]}")
        return

    run = api.dedupe(source, rules, options, labels=labels, out=out, pairs=pairs, review=review, golden=golden,
                     progress=ui.progress)
    if json_out:
        ui.print_json({"summary": run.result.summary, "blocking": run.result.blocking_stats, "outputs": run.written})
        return
    _print_summary(run.result.summary, run.result.blocking_stats, run.written)


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
    recall = s.get("blocking") or {}
    ui.info(_recall_line(recall))
    if not ui.MODE.quiet:
        per_key = recall.get("keys", {})
        t = Table(title="blocking (finds / only: share of the pairs scored as matches this key finds / "
                        "that no other key finds)", show_lines=False)
        for col in ("key", "records", "blocks", "largest", "pairs", "oversized", "split", "windowed", "dropped",
                    "finds", "only"):
            t.add_column(col, justify="right" if col != "key" else "left")
        for b in blocking:
            k = per_key.get(b["key"], {})
            t.add_row(b["key"], f"{b['records']:,}", f"{b['blocks']:,}", str(b["largest_block"]), f"{b['pairs']:,}",
                      str(b["oversized_blocks"]), str(b["split_blocks"]), str(b["windowed_blocks"]),
                      str(b["dropped_blocks"]), _share(k.get("found")), _share(k.get("only")))
        ui.err.print(t)
    for key, path in written.items():
        ui.info(f"  wrote {key} to {path}")


def _share(x: float | None) -> str:
    return "" if x is None else f"{x:.1%}"


def _recall_line(b: dict) -> str:
    """One line of blocking recall: estimated, inside clusters, labelled, and what oversized blocks cost."""
    parts = []
    if b.get("estimated_recall") is not None:
        low = f"{b['recall_low']:.4f}–" if b.get("recall_low") is not None else ""
        parts.append(f"estimated {low}{b['estimated_recall']:.4f} (capture–recapture over the keys: "
                     f"{b['scored_matches']:,} pairs scored as matches, {b['found_by_one_key']:,} found by one key only)")
    if b.get("recall_in_clusters") is not None:
        parts.append(f"{b['recall_in_clusters']:.4f} of same-cluster pairs compared directly")
    if b.get("recall_labelled") is not None:
        parts.append(f"{b['recall_labelled']:.4f} of pairs labelled as the same record")
    dropped, windowed = b.get("dropped_records", 0), b.get("windowed_records", 0)
    parts.append(f"{dropped:,} records of oversized blocks not compared"
                 + (f", {windowed:,} compared with their nearest neighbours only" if windowed else ""))
    return "blocking recall: " + "; ".join(parts)
