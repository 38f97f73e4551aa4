#!/usr/bin/python3
"""Plots of a llmsweep result file (called by `llmsweep plot RESULTS.h5 -o DIR`).

Writes PNG and SVG files into DIR:
  latency_vs_rate   TTFT p99 and TPOT p99 against arrival rate, a line per configuration
  goodput           goodput per configuration, a bar per arrival rate
  success           share of requests by outcome (completed within the SLO, completed late,
                    rejected, timed out, unfinished),
                    one panel per arrival rate; infeasible configurations hatched
  capacity_per_gpu  capacity (highest arrival rate meeting the SLO) per GPU; from capacity_rps
                    when the sweep searched it, else the highest swept rate that met the SLO
  ttft_cdf          CDF of TTFT from the per-request table (/requests), when the file has one
  spec_gain         with speculative decoding: the TPOT gain (mean TPOT of the same configuration
                    without speculation over that with it) against arrival rate, a line per
                    speculative configuration, the crossover (gain 1) marked; pairing and
                    crossover by the report's rule (analysis/spec_report.h)
  frontier          output tokens/s per GPU against tokens/s per user (1 / mean TPOT) of every
                    row meeting the SLO, with its Pareto frontier, per GPU type and mode
                    (aggregated, or disaggregated prefill/decode pools); the plot of `llmsweep plan`
  prefix_hit_rate   prefix-cache hit rate against the KV cache's size (blocks per replica) and
                    against the arrival rate, when a configuration has prefix caching on

A large sweep is drawn within bounds: at most MAX_LINES lines per latency panel (one row of
panels per model, at most MAX_FACETS models) and MAX_BARS bars per bar chart, chosen as the
configurations with the most capacity per GPU (else goodput per GPU within the SLO); a note on
standard error says what was left out (the report and its CSV list every configuration).

Without --slo-ttft/--slo-tpot each configuration is judged by the SLO stored in the file for it
(slo_ttft_s, slo_tpot_s), as `llmsweep report` does; 2 s / 200 ms only where the file has none.

Needs h5py, numpy and matplotlib (Debian: python3-h5py python3-numpy python3-matplotlib).
The layout is documented in docs/SWEEP.md; the SLO rule in docs/REPORT.md.
"""
import argparse
import math
import os
import sys

import h5py
import numpy as np
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

# Columns that describe the workload: they make the x axis or the panels, never the legend.
WORKLOAD = ["workload", "arrival_process", "arrival_rate", "arrival_cv", "prompt_dist",
            "output_dist", "duration_s", "seed"]
HIDDEN = ["tp", "pp", "dp", "n_gpus", "slo_ttft_s", "slo_tpot_s"]
OUTCOMES = [("in_slo", "completed within the SLO", "#4c9a2a"),
            ("late", "completed, but slower than the SLO", "#b5d99c"),
            ("n_rejected_too_long", "rejected: prompt too long", "#e0a030"),
            ("n_rejected_kv", "rejected: never fits in KV cache", "#d0502a"),
            ("n_timeout", "timed out", "#9b59b6"),
            ("n_unfinished", "unfinished at end", "#7f8c8d")]


USED_METRICS = {"config_id", "status", "message", "ttft_p99_s", "tpot_p99_s", "goodput_rps",
                "success_rate", "slo_attainment", "n_requests", "n_completed",
                "n_rejected_too_long", "n_rejected_kv", "n_timeout", "n_unfinished",
                "capacity_rps", "n_gpus", "output_tps", "tpot_mean_s", "prefix_hit_rate", "offload_hit_rate",
                "kv_blocks"}
MAX_LINES = 10    # lines per latency panel (and per legend)
MAX_BARS = 30     # bars per bar chart
MAX_FACETS = 6    # models drawn as rows of latency panels


def warn(msg):
    print(f"plot: {msg}", file=sys.stderr)


def text(v):
    if isinstance(v, bytes):
        return v.split(b"\0", 1)[0].decode("utf-8", "replace")
    return v


def load(path):
    """Rows joined by config_id: dict of column -> value, with 'status' and 'message'.
    Read column by column (numpy), so that 100,000 rows load in seconds."""
    def columns(arr, counts):
        out = {}
        for n in arr.dtype.names:
            col = arr[n]
            if col.dtype.kind == "S":
                out[n] = [v.split(b"\0", 1)[0].decode("utf-8", "replace") for v in col.tolist()]
            elif counts and col.dtype.kind == "i" and n != "config_id":
                v = col.astype(float)
                v[col < 0] = float("nan")  # -1: an undefined count
                out[n] = v.tolist()
            else:
                out[n] = col.tolist()
        return out
    with h5py.File(path, "r") as f:
        cfgs = {}
        if "configs" in f:
            c = columns(f["configs"][...], False)
            names = list(c)
            for vals in zip(*(c[n] for n in names)):
                d = dict(zip(names, vals))
                cfgs[int(d["config_id"])] = d
        # only the metrics the plots read: 100,000 rows of every column take ~1 GB as dicts
        res_arr = f["results"][...]
        keep = [n for n in res_arr.dtype.names if n in USED_METRICS]
        r = columns(res_arr[keep], True)
        names = list(r)
        rows = []
        for vals in zip(*(r[n] for n in names)):
            res = dict(zip(names, vals))
            d = dict(cfgs.get(int(res["config_id"]), {}))
            d.update(res)
            rows.append(d)
        requests = None
        if "requests" in f:
            requests = f["requests"][...]
        name = text(f.attrs.get("spec_name", b"")) or os.path.basename(path)
    rows.sort(key=lambda d: d["config_id"])
    return rows, requests, name


def varying(rows, skip):
    cols = []
    if not rows:
        return cols
    for k in rows[0]:
        if k in skip or k in ("config_id", "config_hash") or not isinstance(rows[0][k], (str, int, float, np.integer, np.floating)):
            continue
        if k in ("status", "message") or k in METRICS:
            continue
        vals = {str(d.get(k)) for d in rows}
        if len(vals) > 1:
            cols.append(k)
    return cols


METRICS = set()


def label_of(d, axes):
    parts = [str(d.get("parallelism", "?"))]
    for a in axes:
        if a != "parallelism":
            parts.append(str(d.get(a)))
    return " ".join(parts)


def num(d, k):
    v = d.get(k, float("nan"))
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def limits(d, slo):
    """(TTFT, TPOT) limits a row is judged by: --slo where given, else its own from the file."""
    def pick(given, col, default):
        if given is not None:
            return given
        v = num(d, col)
        return v if v > 0 else default
    return pick(slo["ttft"], "slo_ttft_s", 2.0), pick(slo["tpot"], "slo_tpot_s", 0.2)


def meets(d, slo):
    if d.get("status") != "ok":
        return False
    ttft, tpot, succ = num(d, "ttft_p99_s"), num(d, "tpot_p99_s"), num(d, "success_rate")
    lt, lp = limits(d, slo)
    return (ttft <= lt and (math.isnan(tpot) or tpot <= lp) and succ >= slo["success"])


def by_label(rows, axes):
    """label -> its rows (in config_id order), built once: the plots look labels up here
    instead of scanning every row per label."""
    out = {}
    for d in rows:
        out.setdefault(label_of(d, axes), []).append(d)
    return out


def capacity_of(ds, slo):
    """One capacity per configuration, by the report's rule (analysis/report.c,
    assign_capacity): the listing with the lowest config_id that has one; without a capacity
    search, the highest listed rate that met the SLO (a lower bound). 0 when none."""
    caps = [num(d, "capacity_rps") for d in ds if not math.isnan(num(d, "capacity_rps"))]
    if caps:
        return caps[0]
    ok = [num(d, "arrival_rate") for d in ds if meets(d, slo)]
    ok = [v for v in ok if not math.isnan(v)]
    return max(ok) if ok else 0.0


def gpus_of(ds):
    g = max((num(d, "n_gpus") for d in ds), default=float("nan"))
    return g if g > 0 else float("nan")


def score(ds, slo):
    """What ranks configurations for the plots' limits: capacity per GPU, else the best
    goodput per GPU within the SLO."""
    g = gpus_of(ds)
    c = capacity_of(ds, slo)
    if c > 0 and g > 0:
        return c / g
    good = [num(d, "goodput_rps") for d in ds if meets(d, slo)]
    return (max(good) / g) if good and g > 0 else 0.0


def top_labels(groups, slo, limit, what):
    """The `limit` labels with the best score (all when there are no more), in label order,
    and a note on standard error when some are left out."""
    labels = sorted(groups)
    if len(labels) <= limit:
        return labels
    ranked = sorted(labels, key=lambda lab: (-score(groups[lab], slo), lab))[:limit]
    warn(f"{len(labels)} configurations: {what} shows the {limit} with the most capacity per GPU "
         f"(else goodput per GPU); `llmsweep report FILE --format csv` lists them all")
    return sorted(ranked)


def uniform_slo(rows, slo):
    """The (TTFT, TPOT) limits when every row has the same, else None."""
    seen = {limits(d, slo) for d in rows}
    return next(iter(seen)) if len(seen) == 1 else None


def save(fig, out, name, written, rect=None):
    fig.tight_layout(rect=rect)
    for ext in ("png", "svg"):
        p = os.path.join(out, f"{name}.{ext}")
        fig.savefig(p, dpi=120)
        written.append(p)
    plt.close(fig)


def styles(rows, axes):
    """label -> (color, marker, linestyle): colour by strategy, line style by the first other
    axis (e.g. cluster), marker by the second (e.g. dtype), so related lines look related."""
    others = [a for a in axes if a != "parallelism"]
    def values(k):
        return sorted({str(d.get(k)) for d in rows})
    strategies = values("parallelism")
    cmap = plt.get_cmap("tab10" if len(strategies) <= 10 else "tab20")
    dashes = ["-", "--", ":", "-."]
    marks = "os^DvP*Xh<>"
    ls_vals = values(others[0]) if others else []
    mk_vals = values(others[1]) if len(others) > 1 else []
    out = {}
    for d in rows:
        lab = label_of(d, axes)
        c = cmap(strategies.index(str(d.get("parallelism"))) % cmap.N)
        ls = dashes[ls_vals.index(str(d.get(others[0]))) % len(dashes)] if others else "-"
        m = marks[mk_vals.index(str(d.get(others[1]))) % len(marks)] if len(others) > 1 else "o"
        out[lab] = (c, m, ls)
    return out


def top_on_tick(a):
    """Raise a log axis' upper limit to the next 1-2-5 tick, so the values above
    the highest labelled tick (e.g. TPOT between 200 and 500 ms) can be read."""
    lo, hi = a.get_ylim()
    if not (hi > 0 and math.isfinite(hi)):
        return
    k = math.floor(math.log10(hi))
    for t in (1 * 10 ** k, 2 * 10 ** k, 5 * 10 ** k, 10 ** (k + 1)):
        if t >= hi * (1 - 1e-9):
            a.set_ylim(lo, t)
            return


def plot_latency(rows, axes, slo, title, out, written):
    groups = by_label(rows, axes)
    # one row of panels per model, at most MAX_FACETS (the best first)
    facet_col = "model" if "model" in axes else None
    if facet_col:
        models = {}
        for lab, ds in groups.items():
            models.setdefault(str(ds[0].get("model")), []).append(lab)
        order = sorted(models, key=lambda m: (-max(score(groups[l], slo) for l in models[m]), m))
        if len(order) > MAX_FACETS:
            warn(f"{len(order)} models: latency_vs_rate shows the {MAX_FACETS} with the most "
                 f"capacity per GPU")
            order = order[:MAX_FACETS]
        facets = [(m, {l: groups[l] for l in models[m]}) for m in order]
    else:
        facets = [(None, groups)]
    shown_rows = []
    chosen = []
    for m, g in facets:
        what = "latency_vs_rate" + (f" ({m})" if m else "")
        labs = top_labels(g, slo, MAX_LINES, what)
        chosen.append((m, labs, g))
        for lab in labs:
            shown_rows.extend(g[lab])
    st = styles(shown_rows, axes)
    lim = uniform_slo(rows, slo)
    nf = len(chosen)
    fig, axs = plt.subplots(nf, 2, figsize=(13, 5.5 if nf == 1 else 4.2 * nf + 1), squeeze=False)
    plain = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")
    for k, (m, labs, g) in enumerate(chosen):
        a1, a2 = axs[k]
        for lab in labs:
            pts = sorted((num(d, "arrival_rate"), num(d, "ttft_p99_s"), num(d, "tpot_p99_s"))
                         for d in g[lab] if d.get("status") == "ok")
            if not pts:
                continue
            x = [p[0] for p in pts]
            c, mk, ls = st[lab]
            a1.plot(x, [p[1] for p in pts], marker=mk, color=c, ls=ls, label=lab)
            a2.plot(x, [p[2] * 1e3 for p in pts], marker=mk, color=c, ls=ls, label=lab)
        if lim:
            a1.axhline(lim[0], color="red", ls="--", lw=1,
                       label=f"SLO TTFT p99 {lim[0]:g} s (left)")
            a2.axhline(lim[1] * 1e3, color="darkred", ls=":", lw=1.5,
                       label=f"SLO TPOT p99 {lim[1]*1e3:g} ms (right)")
        pre = f"{m}: " if m else ""
        a1.set(title=f"{pre}TTFT p99 vs arrival rate", xlabel="arrival rate (requests/s)",
               ylabel="TTFT p99 (s, log scale)", yscale="log")
        a2.set(title=f"{pre}TPOT p99 vs arrival rate", xlabel="arrival rate (requests/s)",
               ylabel="TPOT p99 (ms, log scale)", yscale="log")
        for a in (a1, a2):
            a.grid(True, which="both", alpha=0.3)
            a.yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
            a.yaxis.set_major_formatter(plain)
            a.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            top_on_tick(a)
        # one legend per row of panels: its configurations and BOTH SLO lines
        h, lab = a1.get_legend_handles_labels()
        h2, lab2 = a2.get_legend_handles_labels()
        if lim and h2:
            h.append(h2[-1])
            lab.append(lab2[-1])
        if nf == 1:
            fig.legend(h, lab, loc="center right", fontsize=8, title="configuration")
        elif h:
            a2.legend(h, lab, loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=7,
                      title="configuration")
    slo_note = "" if lim else "; SLO lines omitted: the configurations' SLOs differ"
    fig.suptitle(f"{title}: latency (p99 over completed requests; infeasible configurations "
                 f"omitted{slo_note})")
    fig.tight_layout(rect=(0, 0, 0.8, 1))
    for ext in ("png", "svg"):
        p = os.path.join(out, f"latency_vs_rate.{ext}")
        fig.savefig(p, dpi=120)
        written.append(p)
    plt.close(fig)


def plot_goodput(rows, axes, slo, title, out, written):
    groups = by_label(rows, axes)
    labels = top_labels(groups, slo, MAX_BARS, "goodput")
    rates = sorted({num(d, "arrival_rate") for lab in labels for d in groups[lab]})
    fig, ax = plt.subplots(figsize=(min(18, max(8, 0.25 * len(labels) * max(1, len(rates)) + 4)), 5.5))
    w = 0.8 / max(1, len(rates))
    x = np.arange(len(labels))
    for i, rate in enumerate(rates):
        ys = []
        for lab in labels:
            v = [num(d, "goodput_rps") for d in groups[lab]
                 if num(d, "arrival_rate") == rate and d.get("status") == "ok"]
            ys.append(v[0] if v else 0.0)
        ax.bar(x + (i - (len(rates) - 1) / 2) * w, ys, w,
               label=("trace rate" if math.isnan(rate) else f"{rate:g} req/s"))
    ax.set_xticks(x, labels, rotation=60, ha="right", fontsize=8)
    ax.set(ylabel="goodput (requests/s meeting the SLO)",
           title=f"{title}: goodput per configuration (0 = infeasible or nothing met the SLO)")
    if len(rates) <= 12:
        ax.legend(title="arrival rate")
    ax.grid(True, axis="y", alpha=0.3)
    save(fig, out, "goodput", written)


def plot_success(rows, axes, slo, title, out, written):
    groups = by_label(rows, axes)
    labels = top_labels(groups, slo, MAX_BARS, "success")
    rates = sorted({num(d, "arrival_rate") for lab in labels for d in groups[lab]})
    if len(rates) > 8:
        warn(f"{len(rates)} arrival rates: success shows the 8 highest")
        rates = rates[-8:]
    fig, axs = plt.subplots(len(rates), 1, figsize=(max(8, 0.45 * len(labels) + 3), 3.2 * len(rates) + 1.5),
                            squeeze=False, sharex=True)
    x = np.arange(len(labels))
    for ax, rate in zip(axs[:, 0], rates):
        bottom = np.zeros(len(labels))
        infeasible = np.zeros(len(labels))
        shares = {k: np.zeros(len(labels)) for k, _, _ in OUTCOMES}
        for j, lab in enumerate(labels):
            ds = [d for d in groups[lab] if num(d, "arrival_rate") == rate]
            if not ds:
                continue
            d = ds[0]
            if d.get("status") != "ok":
                infeasible[j] = 1.0
                continue
            n = num(d, "n_requests")
            # slo_attainment: share of all requests completed within every SLO limit (the run's own)
            att = num(d, "slo_attainment")
            done = num(d, "n_completed")
            in_slo = att * n if not math.isnan(att) else done
            extra = {"in_slo": in_slo, "late": max(0.0, done - in_slo)}
            for k, _, _ in OUTCOMES:
                v = extra[k] if k in extra else num(d, k)
                shares[k][j] = (0 if math.isnan(v) else v) / n * 100 if n > 0 else 0
        for k, name, color in OUTCOMES:
            ax.bar(x, shares[k], 0.7, bottom=bottom, color=color, label=name)
            bottom += shares[k]
        ax.bar(x, infeasible * 100, 0.7, color="white", edgecolor="black", hatch="//",
               label="infeasible / error (not run)")
        ax.set(ylabel="requests (%)", ylim=(0, 105),
               title=("trace rate" if math.isnan(rate) else f"arrival rate {rate:g} req/s"))
        ax.grid(True, axis="y", alpha=0.3)
    axs[-1, 0].set_xticks(x, labels, rotation=60, ha="right", fontsize=8)
    h, lab = axs[0, 0].get_legend_handles_labels()
    top = 1 - 1.3 / fig.get_figheight()
    fig.suptitle(f"{title}: outcome of every request (blank: configuration not in the sweep)")
    fig.legend(h, lab, loc="upper center", ncol=3, fontsize=8, bbox_to_anchor=(0.5, top + 0.9 / fig.get_figheight()))
    fig.tight_layout(rect=(0, 0, 1, top))
    for ext in ("png", "svg"):
        p = os.path.join(out, f"success.{ext}")
        fig.savefig(p, dpi=120)
        written.append(p)
    plt.close(fig)


def plot_capacity(rows, axes, slo, title, out, written):
    searched = any(not math.isnan(num(d, "capacity_rps")) for d in rows)
    groups = by_label(rows, axes)
    labels = top_labels(groups, slo, MAX_BARS, "capacity_per_gpu")
    vals, gpus, notes = [], [], []
    for lab in labels:
        ds = groups[lab]
        notes.append("infeasible" if all(d.get("status") == "infeasible" for d in ds) else
                     "error" if all(d.get("status") != "ok" for d in ds) else "")
        g = gpus_of(ds)
        c = capacity_of(ds, slo)
        vals.append(c / g if g > 0 else 0.0)
        gpus.append(g)
    order = np.argsort(vals, kind="stable")[::-1]
    fig, ax = plt.subplots(figsize=(max(8, 0.45 * len(labels) + 3), 5.5))
    x = np.arange(len(labels))
    ax.bar(x, [vals[i] for i in order], 0.7, color="#2f6f9f")
    top = max(vals) if vals and max(vals) > 0 else 1.0
    for k, i in enumerate(order):
        if vals[i] == 0:
            # say why a bar is missing: not runnable, or no rate met the SLO
            ax.text(x[k], top * 0.02, notes[i] or "misses SLO at every rate", rotation=90,
                    ha="center", va="bottom", fontsize=7, color="#a03020")
    ax.set_xticks(x, [f"{labels[i]} ({gpus[i]:g} GPU)" for i in order], rotation=60, ha="right",
                  fontsize=8)
    what = ("capacity_rps (bisection on the arrival rate)" if searched else
            "highest swept arrival rate that met the SLO (grid estimate, a lower bound)")
    lim = uniform_slo(rows, slo)
    slo_text = (f"SLO TTFT p99 <= {lim[0]:g} s, TPOT p99 <= {lim[1]*1e3:g} ms" if lim
                else "each configuration's own SLO")
    ax.set(ylabel="capacity per GPU (requests/s per GPU)",
           title=f"{title}: capacity per GPU\n{what}; {slo_text}, success >= {slo['success']*100:g}%")
    ax.grid(True, axis="y", alpha=0.3)
    save(fig, out, "capacity_per_gpu", written)


def pareto(points):
    """The points (x, y, ...) no other point beats on both x and y (ties kept), by x."""
    pts = sorted(points, key=lambda p: (-p[0], -p[1]))
    out, best = [], -math.inf
    i = 0
    while i < len(pts):
        j = i
        while j < len(pts) and pts[j][0] == pts[i][0]:
            j += 1
        top = pts[i][1]
        if top > best:
            out += [p for p in pts[i:j] if p[1] == top]
            best = top
        i = j
    return sorted(out, key=lambda p: (p[0], p[1]))  # by x (a tie would compare the rows themselves)


def plot_frontier(rows, slo, title, out, written):
    """Tokens/s per GPU against tokens/s per user of every row within the SLO, a colour per
    GPU type and mode, each group's Pareto frontier as a step line (analysis/plan_answer.c
    lists the same points)."""
    groups = {}
    for d in rows:
        if not meets(d, slo):
            continue
        tps, tpot, n = num(d, "output_tps"), num(d, "tpot_mean_s"), num(d, "n_gpus")
        if not (tps > 0 and tpot > 0 and n > 0):
            continue
        mode = "disagg" if "P-" in str(d.get("parallelism", "")) else "agg"
        groups.setdefault((str(d.get("hardware", "?")), mode), []).append((tps / n, 1.0 / tpot, d))
    if not groups:
        warn("no row meets the SLO: frontier skipped")
        return False
    fig, ax = plt.subplots(figsize=(8, 5.5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (key, pts) in enumerate(sorted(groups.items())):
        c = colours[k % len(colours)]
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=12, color=c, alpha=0.3)
        front = pareto(pts)
        xs = [p[0] for p in front]
        ys = [p[1] for p in front]
        ax.step(xs, ys, where="pre", color=c, lw=1.8, marker="o", ms=4,
                label=f"{key[0]} {key[1]}: {len(front)} on the frontier of {len(pts)}")
    ax.set_xlabel("output tokens/s per GPU")
    ax.set_ylabel("tokens/s per user (1 / mean TPOT)")
    ax.set_title(f"{title}: Pareto frontier within the SLO")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, out, "frontier", written)
    return True


def plot_cdf(rows, axes, requests, ids, title, out, written):
    by_id = {d["config_id"]: d for d in rows}
    if not ids:
        # default: at the highest rate with results, the best variant of each strategy by goodput
        ok = [d for d in rows if d.get("status") == "ok"]
        if not ok:
            return False
        top = max(num(d, "arrival_rate") for d in ok)
        best = {}
        for d in ok:
            if num(d, "arrival_rate") != top and not math.isnan(top):
                continue
            p = d.get("parallelism")
            if p not in best or num(d, "goodput_rps") > num(best[p], "goodput_rps"):
                best[p] = d
        ids = [d["config_id"] for d in sorted(best.values(), key=lambda d: -num(d, "goodput_rps"))][:8]
    fig, ax = plt.subplots(figsize=(9, 5.5))
    cid = requests["config_id"]
    status = requests["status"] if "status" in requests.dtype.names else np.zeros(len(cid))
    drawn = 0
    for i in ids:
        sel = (cid == i) & (status == 0)
        ttft = requests["first_token_s"][sel] - requests["arrival_s"][sel]
        ttft = np.sort(ttft[~np.isnan(ttft)])
        if len(ttft) == 0:
            continue
        n_all = int(np.sum(cid == i))
        y = np.arange(1, len(ttft) + 1) / max(1, n_all) * 100
        d = by_id.get(i, {})
        ax.step(ttft, y, where="post",
                label=f"{label_of(d, axes)} @ {num(d, 'arrival_rate'):g} req/s")
        drawn += 1
    if not drawn:
        plt.close(fig)
        return False
    if SLO_TTFT[0] is not None:
        ax.axvline(float(SLO_TTFT[0]), color="red", ls="--", lw=1, label="TTFT SLO")
    ax.set(xscale="log", xlabel="TTFT (s, log scale)", ylabel="requests with TTFT <= x (% of all)",
           title=f"{title}: TTFT distribution (failed requests never reach 100%)", ylim=(0, 101))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, out, "ttft_cdf", written)
    return True


def spec_pairs(rows):
    """(speculative row, its baseline) pairs: the baseline has every /configs column equal
    but `speculative`, which is "none" (the lowest config_id with a result), as
    ls_config_row_baseline_key (common/config_key.c) pairs them for the report."""
    cfg_cols = [k for k in rows[0] if k not in METRICS and k not in ("config_id", "config_hash", "status", "message")]
    def key(d, skip):
        return tuple(str(d.get(k)) for k in cfg_cols if k not in skip)
    base = {}
    for d in rows:
        if d.get("speculative", "none") == "none" and d.get("status") == "ok":
            base.setdefault(key(d, ("speculative",)), d)
    out = []
    for d in rows:
        if d.get("speculative", "none") not in ("none", "") and d.get("status") == "ok":
            b = base.get(key(d, ("speculative",)))
            if b is not None:
                out.append((d, b))
    return out, cfg_cols


def crossover(pts):
    """The rate where the gain falls through 1, linear between the bracketing listed rates
    (analysis/spec_report.c, ls_spec_crossover), or None."""
    for (r0, g0), (r1, g1) in zip(pts, pts[1:]):
        if g0 >= 1 > g1:
            return r0 + (g0 - 1) / (g0 - g1) * (r1 - r0)
    return None


def plot_spec_gain(rows, axes, title, out, written):
    pairs, cfg_cols = spec_pairs(rows)
    if not pairs:
        return False
    series = {}
    for d, b in pairs:
        g = num(b, "tpot_mean_s") / num(d, "tpot_mean_s") if num(d, "tpot_mean_s") > 0 else float("nan")
        if math.isnan(g) or math.isnan(num(d, "arrival_rate")):
            continue
        # one line per configuration apart from the listed rate (the capacity key)
        dur = num(d, "duration_s")
        if d.get("arrival_process") == "trace":
            dur = float(f"{dur * num(d, 'arrival_rate'):.9g}")
        k = tuple(str(d.get(c)) for c in cfg_cols if c not in ("arrival_rate", "duration_s")) + (dur,)
        series.setdefault(k, []).append((num(d, "arrival_rate"), g, d))
    if not series:
        return False
    keys = sorted(series, key=lambda k: min(p[2]["config_id"] for p in series[k]))
    if len(keys) > MAX_LINES:
        warn(f"{len(keys)} speculative configurations: spec_gain shows the first {MAX_LINES}")
        keys = keys[:MAX_LINES]
    fig, ax = plt.subplots(figsize=(10, 5.5))
    cmap = plt.get_cmap("tab10")
    for i, k in enumerate(keys):
        pts = sorted(series[k], key=lambda p: p[0])
        c = cmap(i % 10)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", color=c,
                label=label_of(pts[0][2], axes))
        x = crossover([(p[0], p[1]) for p in pts])
        if x is not None:
            ax.axvline(x, color=c, ls=":", lw=1)
            ax.annotate(f"{x:.2g} req/s", (x, 1), textcoords="offset points", xytext=(4, 6), color=c,
                        fontsize=8)
    ax.axhline(1, color="black", lw=1, ls="--", label="no gain (speculation pays above the line)")
    ax.set(xlabel="arrival rate (requests/s)", ylabel="TPOT gain (mean TPOT without / with speculation)",
           title=f"{title}: speculative decoding's TPOT gain against load (dotted: where it stops paying)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, title="configuration")
    save(fig, out, "spec_gain", written)
    return True


SLO_TTFT = [2.0]


def plot_prefix(rows, axes, slo, title, out, written):
    """Prefix-cache hit rate (tokens served from the cache / prompt tokens) of the rows with
    prefix caching on: against the KV cache's size (blocks per replica, log scale; a host tier's
    hits on top as hollow markers) and against the arrival rate (a line per configuration).
    Returns False (nothing written) when no row has a hit rate."""
    hit = [d for d in rows if d.get("status") == "ok" and not math.isnan(num(d, "prefix_hit_rate"))]
    if not hit:
        return False
    groups = by_label(hit, axes)
    labels = top_labels(groups, slo, MAX_LINES, "prefix_hit_rate")
    shown = [d for lab in labels for d in groups[lab]]
    st = styles(shown, axes)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 5.5))
    tier = False
    for lab in labels:
        c, mk, ls = st[lab]
        ds = groups[lab]
        x = [num(d, "kv_blocks") for d in ds]
        y = [num(d, "prefix_hit_rate") for d in ds]
        a1.scatter(x, y, color=c, marker=mk, label=lab)
        off = [(xv, yv + num(d, "offload_hit_rate")) for xv, yv, d in zip(x, y, ds)
               if not math.isnan(num(d, "offload_hit_rate"))]
        if off:
            tier = True
            a1.scatter([p[0] for p in off], [p[1] for p in off], facecolors="none", edgecolors=[c], marker=mk)
        pts = sorted((num(d, "arrival_rate"), num(d, "prefix_hit_rate")) for d in ds)
        a2.plot([p[0] for p in pts], [p[1] for p in pts], marker=mk, color=c, ls=ls, label=lab)
    a1.set(title="prefix hit rate vs KV cache size" + (" (hollow: with the host tier's hits)" if tier else ""),
           xlabel="KV cache (blocks per replica, log scale)", ylabel="hit rate (cached prompt tokens / prompt tokens)",
           xscale="log")
    a2.set(title="prefix hit rate vs arrival rate", xlabel="arrival rate (requests/s)",
           ylabel="hit rate (cached prompt tokens / prompt tokens)")
    for a in (a1, a2):
        a.set_ylim(0, 1.02 if tier else max(0.05, min(1.02, 1.15 * max(num(d, "prefix_hit_rate") for d in shown))))
        a.grid(True, which="both", alpha=0.3)
    h, lab = a2.get_legend_handles_labels()
    fig.legend(h, lab, loc="center right", fontsize=8, title="configuration")
    fig.suptitle(f"{title}: prefix caching (first admissions, as vLLM counts them)")
    save(fig, out, "prefix_hit_rate", written, rect=(0, 0, 0.8, 1))
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("-o", "--out", required=True, help="output directory (created)")
    ap.add_argument("--slo-ttft", type=float, default=None,
                    help="TTFT p99 limit, s (default: each configuration's own from the file)")
    ap.add_argument("--slo-tpot", type=float, default=None,
                    help="TPOT p99 limit, s (default: each configuration's own from the file)")
    ap.add_argument("--min-success", type=float, default=0.99, help="completed share required")
    ap.add_argument("--configs", default="", help="config ids for the TTFT CDF, comma-separated")
    a = ap.parse_args()
    slo = {"ttft": a.slo_ttft, "tpot": a.slo_tpot, "success": a.min_success}
    rows, requests, name = load(a.results)
    lim = uniform_slo(rows, slo)
    SLO_TTFT[0] = lim[0] if lim else None
    if not rows:
        print(f"{a.results}: no finished configuration to plot", file=sys.stderr)
        return 1
    with h5py.File(a.results, "r") as f:
        METRICS.update(f["results"].dtype.names)
    METRICS.difference_update({"config_id", "config_hash"})
    os.makedirs(a.out, exist_ok=True)
    axes = varying(rows, set(WORKLOAD) | set(HIDDEN))
    written = []
    plot_latency(rows, axes, slo, name, a.out, written)
    plot_goodput(rows, axes, slo, name, a.out, written)
    plot_success(rows, axes, slo, name, a.out, written)
    plot_capacity(rows, axes, slo, name, a.out, written)
    plot_spec_gain(rows, axes, name, a.out, written)
    plot_frontier(rows, slo, name, a.out, written)
    plot_prefix(rows, axes, slo, name, a.out, written)
    if requests is not None and len(requests):
        ids = [int(x) for x in a.configs.split(",") if x.strip()]
        if not plot_cdf(rows, axes, requests, ids, name, a.out, written):
            print("no completed request for the TTFT CDF", file=sys.stderr)
    else:
        print("no /requests table in the file: TTFT CDF skipped (sweep with per-request output "
              "to get it)", file=sys.stderr)
    for p in written:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
