"""The audit's figures shown three ways: rich tables for the terminal, PNG plots,
and one self-contained HTML page (plots embedded, no external assets)."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from rich.table import Table

PLOTS = ("label_efficiency", "pgr_by_category", "agreement")
TRIVIAL = ("weak", "ceiling")  # PGR 0 and 1 by definition


def f3(x) -> str:
    return "–" if x is None else f"{x:.3f}"


def signed(x: float) -> str:
    return f"{round(x, 2) + 0:+.2f}"  # + 0: no "-0.00"


def pgr_cell(s: dict) -> str:
    """A figures dict's PGR and interval (agent.evaluate.pgr_text formats bare numbers)."""
    if s.get("pgr") is None:
        return "–"
    ci = "" if s.get("pgr_lo") is None else f" [{signed(s['pgr_lo'])}, {signed(s['pgr_hi'])}]"
    return f"{signed(s['pgr'])}{ci}"


# -- tables: (title, header, rows) once, rendered by rich and by HTML -----------

def tables(a: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    """Narrow tables (each fits 80 columns): a wide one would truncate the figures."""
    rounds = a["rounds"]
    weak, ceiling = (a["methods"].get(m, {}).get("acc") for m in ("weak", "ceiling"))
    why = ("; no PGR: no reference run is logged" if a["reference"] is None else
           f"; no PGR: the ceiling ({f3(ceiling)}) does not beat the supervisor ({f3(weak)}) here"
           if weak is not None and ceiling is not None and ceiling <= weak else "")
    out = [("accuracy per round (test items; gold used for evaluation only" + why + ")",
            ["round", "gold", "cost", "truth head", "weak head", "gold-only", "held-out",
             "PGR [95% CI]"],
            [[str(r["round"]), str(r["gold_labels"]), f"{r['cost']:.2f}", f3(r["acc"]),
              f3(r["acc_weak_head"]), f3(r.get("acc_gold_only")), f3(r["acc_held_out"]),
              pgr_cell(r)] for r in rounds]),
           ("agreement with the supervisor per round (truth head, supervised categories); "
            "misfit = 1 − agrees (Charikar et al. 2024), and the gain over the supervisor "
            "= misfit × (2 × right where they differ − 1)",
            ["round", "agrees", "… where the supervisor is right", "… where it is wrong",
             "misfit", "right where they differ"],
            [[str(r["round"]), f3(r["agreement"]), f3(r["agreement_supervisor_right"]),
              f3(r["agreement_supervisor_wrong"]), f3(r.get("misfit")),
              f3(r.get("right_where_differ"))] for r in rounds])]
    checks = [[str(r["round"]), name, str(v["n"]), f"{v['violation_rate']:.1%}",
               f3(v["mean_violation"])] for r in rounds for name, v in r["checks"].items()]
    if checks:
        out.append(("consistency checks on each round's model",
                    ["round", "check", "checked", "violation rate (> 0.1)", "mean"], checks))
    out.append(("methods on the same test items (the reference run and the campaign)",
                ["method", "accuracy", "PGR [95% CI]", "agrees", "… sup. right", "… sup. wrong"],
                [[m, f3(s["acc"]), pgr_cell(s), f3(s["agreement"]),
                  f3(s["agreement_supervisor_right"]), f3(s["agreement_supervisor_wrong"])]
                 for m, s in a["methods"].items()]))
    if a["categories"]:
        names = list(a["categories"][0]["methods"])
        short = [m.removeprefix("campaign ").removesuffix(" (no gold)").removeprefix("w2s-")
                 .replace("zero-shot", "0-shot") for m in names]
        for what, cell, keep in (
                ("accuracy", lambda s: f3(s["acc"]), names),
                ("PGR", lambda s: "–" if s.get("pgr") is None else signed(s["pgr"]),
                 [m for m in names if m not in TRIVIAL])):
            grid = "held-out category grid" if a["held_out"] else "category grid"
            out.append((f"{grid}: {what} per category (xent, logconf: W2S "
                        "with that loss; rN: this campaign after round N)",
                        ["category", "n", *[short[names.index(m)] for m in keep]],
                        [[c["category"] + (" (held out)" if c["held_out"] and "(all)" not in
                                           c["category"] else ""), str(c["n"]),
                          *[cell(c["methods"][m]) for m in keep]] for c in a["categories"]]))
    if a.get("mistakes"):
        out.append((f"the supervisor as the student learned it (mistake model, round "
                    f"{rounds[-1]['round']}): its accuracy per category, estimated on the pool "
                    "[95% interval], beside its accuracy on test items (evaluation gold)",
                    ["category", "estimated", "interval", "on test", "test items"],
                    [[m["region"], f3(m["estimate"]), f"[{f3(m['lo'])}, {f3(m['hi'])}]",
                      f3(m["true"]), str(m["n_test"])] for m in a["mistakes"]]))
    if a.get("sources"):
        def cell(e):
            return f"{f3(e['estimate'])} [{f3(e['lo'])}, {f3(e['hi'])}]"
        out.append(("which source the zero-gold head trusted where (label model, no gold): "
                    "each source's accuracy per category, estimated on the pool [95% interval], "
                    "beside its accuracy on test items (evaluation gold)",
                    ["category", "supervisor est.", "on test", "zero-shot est.", "on test"],
                    [[s["region"], cell(s["supervisor"]), f3(s["supervisor"]["true"]),
                      cell(s["zero-shot"]), f3(s["zero-shot"]["true"])] for s in a["sources"]]))
    out.extend(supervisor_tables(a.get("supervisor")))
    budgets = ", ".join(f"{o['name']}: {o['role']}, budget "
                        f"{'unlimited' if o['budget'] is None else o['budget']}"
                        for o in a["oracles"])
    out.append((f"labels and cost per oracle ({budgets})",
                ["oracle", "labels", "gold labels (queried)", "cost"],
                [[o, str(v["labels"]), str(v["gold"]), f"{v['cost']:.2f}"]
                 for o, v in rounds[-1]["spend"].items()]))
    return out


def supervisor_tables(s: dict | None) -> list[tuple[str, list[str], list[list[str]]]]:
    """The supervisor report: what the student's contrast items revealed."""
    if not s:
        return []
    labels = lambda e: f"{e['parent_label']}→{e['edit_label']}"
    overall = [r for r in s["rows"] if r["region"] == "all"]
    top = f"top sensitivity: {s['top']}" if s["top"] else "no truth-keeping edit moved it"
    out = [(f"the supervisor report: how the weak supervisor reacted to the student's "
            f"contrast items ({top}); a mistake shows when a truth-keeping edit moves its "
            "label or a truth-flipping one does not",
            ["edit", "meant to", "pairs", "mistake shown", "share [95% CI]"],
            [[r["edit"], "flip truth" if r["flips"] else "keep truth", str(r["n"]),
              str(r["revealed"]), f"{r['rate']:.0%} [{r['lo']:.0%}, {r['hi']:.0%}]"]
             for r in overall]),
           ("the supervisor report per category",
            ["edit", "category", "pairs", "mistake shown", "share [95% CI]"],
            [[r["edit"], r["region"], str(r["n"]), str(r["revealed"]),
              f"{r['rate']:.0%} [{r['lo']:.0%}, {r['hi']:.0%}]"]
             for r in s["rows"] if r["region"] != "all"]),
           ("the supervisor report: examples (its label of the item → of the edit)",
            ["edit", "item", "edit", "labels"],
            [[r["edit"], e["parent"], e["edit"], labels(e)]
             for r in overall for e in r["examples"]]),
           ("contrast items written (valid, or why rejected)",
            ["edit", "status", "items"],
            [[w["edit"], w["status"], str(w["n"])] for w in s["written"]])]
    return out


def plot_supervisor(s: dict, path: Path) -> None:
    """Share of contrast pairs that showed a mistake, per edit and category, with CIs."""
    rows = [r for r in s["rows"] if r["region"] != "all"]
    edits = sorted({r["edit"] for r in rows})
    regions = sorted({r["region"] for r in rows})
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6.4, 0.5 * len(edits) * len(regions)), 4))
    width = 0.8 / max(len(regions), 1)
    for k, region in enumerate(regions):
        got = {r["edit"]: r for r in rows if r["region"] == region}
        xs = [x + k * width for x, e in enumerate(edits) if e in got]
        rs = [got[e] for e in edits if e in got]
        ax.bar(xs, [r["rate"] for r in rs], width, label=region,
               yerr=[[r["rate"] - r["lo"] for r in rs], [r["hi"] - r["rate"] for r in rs]],
               capsize=2)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(edits))], edits, fontsize=8)
    ax.set(ylabel="share of pairs showing a supervisor mistake", ylim=(0, 1),
           title="the weak supervisor under the student's contrast items")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def compare_table(c: dict) -> tuple[str, list[str], list[list[str]]]:
    rows = []
    for a in c["campaigns"]:
        r = a["rounds"][-1]
        rows.append([a["campaign"], a["dataset"], a["strategy"], a["loss"],
                     ", ".join(a["checks"] + a["consistency"]) or "–", str(r["round"]),
                     str(r["gold_labels"]), f"{r['cost']:.2f}", f3(r["acc"]), pgr_cell(r),
                     f3(r["acc_held_out"]), f3(r["agreement_supervisor_wrong"])])
    return ("campaigns side by side (last round)",
            ["campaign", "dataset", "strategy", "loss", "checks / terms", "rounds", "gold",
             "cost", "truth head", "PGR [95% CI]", "held-out", "agrees where supervisor wrong"],
            rows)


def rich_table(title: str, header: list[str], rows: list[list[str]]) -> Table:
    """Figures never wrap or get cut (headers and names wrap instead)."""
    t = Table(title=title)
    for k, name in enumerate(header):
        figures = bool(rows) and all(re.fullmatch(r"[-+–\d.,%\[\] ]+", row[k]) for row in rows)
        t.add_column(name, no_wrap=figures, justify="right" if figures else "left",
                     min_width=None if figures else min(10, max((len(r[k]) for r in rows), default=0)))
    for row in rows:
        t.add_row(*row)
    return t


# -- plots ----------------------------------------------------------------------

def _pyplot():
    """matplotlib on first use: every `w2s` command imports this module, few draw."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_label_efficiency(audits: list[dict], path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for a in audits:
        ax.plot([r["gold_labels"] for r in a["rounds"]], [r["acc"] for r in a["rounds"]],
                marker="o", label=a["campaign"])
    if len(audits) == 1:
        for name, style in (("weak", ":"), ("ceiling", "--")):
            acc = audits[0]["methods"].get(name, {}).get("acc")
            if acc is not None:
                ax.axhline(acc, linestyle=style, color="grey", label=f"{name} ({acc:.3f})")
    ax.set(xlabel="gold labels spent", ylabel="truth-head accuracy (test)",
           title="label efficiency")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_by_category(a: dict, path: Path) -> None:
    cats = [c for c in a["categories"] if not c["category"].endswith("(all)")]
    use_pgr = a["reference"] is not None
    methods = [m for m in (cats[0]["methods"] if cats else {}) if not (use_pgr and m in TRIVIAL)]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6.4, 1.2 * len(cats) * max(1, len(methods)) / 3), 4))
    width = 0.8 / max(1, len(methods))
    for k, m in enumerate(methods):
        ys = [c["methods"][m].get("pgr" if use_pgr else "acc") or 0.0 for c in cats]
        ax.bar([x + k * width for x in range(len(cats))], ys, width, label=m)
    def tick(c: dict) -> str:
        text = c["category"] + (" (held out)" if c["held_out"] else "")
        if use_pgr:  # PGR swings wildly where the ceiling barely beats the supervisor
            gap = (c["methods"]["ceiling"]["acc"] or 0) - (c["methods"]["weak"]["acc"] or 0)
            text += f"\ngap {gap:+.3f}"
        return text
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(cats))], [tick(c) for c in cats],
                  fontsize=8)
    ax.axhline(0, color="black", linewidth=0.8)
    if use_pgr:
        ax.axhline(1, color="grey", linestyle="--", linewidth=0.8)
    ax.set(ylabel="PGR" if use_pgr else "accuracy",
           title=("PGR per category" if use_pgr else "accuracy per category (no reference run)"))
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_agreement(a: dict, path: Path) -> None:
    methods = [m for m, s in a["methods"].items()
               if m != "weak" and s["agreement"] is not None]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for k, (key, label) in enumerate((("agreement_supervisor_right", "supervisor right"),
                                      ("agreement_supervisor_wrong", "supervisor wrong"))):
        ax.bar([x + k * 0.4 for x in range(len(methods))],
               [a["methods"][m][key] or 0.0 for m in methods], 0.4, label=label)
    ax.set_xticks([x + 0.2 for x in range(len(methods))], methods, fontsize=7, rotation=20)
    ax.set(ylabel="agreement with the supervisor", ylim=(0, 1),
           title="student–supervisor agreement (imitation shows where the supervisor is wrong)")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# -- files ----------------------------------------------------------------------

def write_campaign_report(a: dict, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = {name: out / f"{name}.png" for name in PLOTS}
    plot_label_efficiency([a], files["label_efficiency"])
    plot_by_category(a, files["pgr_by_category"])
    plot_agreement(a, files["agreement"])
    if a.get("supervisor") and a["supervisor"]["rows"]:
        files["supervisor"] = out / "supervisor.png"
        plot_supervisor(a["supervisor"], files["supervisor"])
    title = f"w2s audit: {a['campaign']}"
    facts = (f"dataset {a['dataset']}, seed {a['seed']}, status {a['status']}, strategy "
             f"{a['strategy']}, loss {a['loss']}, checks {', '.join(a['checks']) or 'none'}, "
             f"held out {', '.join(a['held_out']) or 'none'}; reference run "
             f"{a['reference'] or 'none logged (no PGR)'}; {a['n_test']} test items "
             f"(+{a['n_test_held_out']} held out)")
    files["report"] = _html(out / "report.html", title, facts, tables(a), files)
    return files


def write_compare_report(c: dict, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = {"label_efficiency": out / "label_efficiency.png"}
    plot_label_efficiency(c["campaigns"], files["label_efficiency"])
    files["report"] = _html(out / "report.html", "w2s audit: comparison",
                            f"{len(c['campaigns'])} campaigns", [compare_table(c)], files)
    return files


def _html(path: Path, title: str, facts: str, parts, images: dict[str, Path]) -> Path:
    e = html.escape
    body = [f"<h1>{e(title)}</h1>", f"<p>{e(facts)}</p>"]
    for name, img in images.items():
        data = base64.b64encode(img.read_bytes()).decode()
        body.append(f'<figure><img alt="{e(name)}" src="data:image/png;base64,{data}">'
                    f"<figcaption>{e(name.replace('_', ' '))}</figcaption></figure>")
    for caption, header, rows in parts:
        body.append(f"<table><caption>{e(caption)}</caption><tr>"
                    + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>"
                    + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>"
                              for row in rows) + "</table>")
    page = ("<!doctype html><html lang=en><head><meta charset=utf-8>"
            f"<title>{e(title)}</title><style>"
            "body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}"
            "figure{display:inline-block;margin:0 1em 1em 0}img{max-width:100%}"
            "table{border-collapse:collapse;margin:1.5em 0;font-size:.9em}"
            "caption{text-align:left;font-weight:bold;padding:.3em 0}"
            "td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}"
            "td:first-child,th:first-child{text-align:left}"
            "</style></head><body>" + "\n".join(body) + "</body></html>")
    tmp = path.with_suffix(".partial")
    tmp.write_text(page)
    tmp.replace(path)  # a reader never sees half a report
    return path
