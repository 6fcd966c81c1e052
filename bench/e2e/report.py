#!/usr/bin/env python3
"""Aggregates bench/e2e/run's raw results (one JSON object per line).

  report.py line RAW                      prints the last run of RAW as one line (progress)
  report.py report RAW --json F --png P   medians [min, max] per system, guarantee and input,
                                          the ratios sluice/plain and sluice/Flink, the goals,
                                          as tables on stdout; F gets everything (runs included),
                                          P a chart drawn with gnuplot
      [--latency-from RAW2]               take the latency runs from RAW2 (a run with
                                          --no-throughput) instead of RAW

Definitions (bench/README.md says why):
  committed       records a read_committed reader finds in the output topic
  M records/s     0.8 * committed / (append time of the record at 90 % of the output - that at
                  10 %): the rate once the job runs, without a stall at start (caught up later
                  in a burst) or a slow end; startup is reported apart as "first output"
  incl. startup   committed / (last append time - process start)
  CPU s / M       (user + sys of the job's process) / committed * 1e6
  peak RSS        the process's maximum resident set (/usr/bin/time %M)
  first output    first broker append time of the output - process start (ms)
Only standard library modules: this runs wherever python3 does.
"""
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SYSTEMS = ["plain", "sluice", "flink"]
SYSTEM_NAMES = {"plain": "plain librdkafka loop", "sluice": "sluice", "flink": "Apache Flink 2.2.1"}
GUARANTEES = ["none", "at_least_once", "exactly_once"]
GUARANTEE_NAMES = {"none": "NONE", "at_least_once": "AT_LEAST_ONCE", "exactly_once": "EXACTLY_ONCE"}


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def throughput_metrics(run):
    """Per-run figures, or None when the run failed or committed nothing."""
    time, count = run.get("time"), run.get("count")
    if run.get("rc") != 0 or not time or not count or count["records"] == 0:
        return None
    committed = count["records"]
    span_s = (count["p90_append_ms"] - count["p10_append_ms"]) / 1000.0
    to_last_s = (count["last_append_ms"] - run["start_ms"]) / 1000.0
    return {
        "committed": committed,
        "committed_fraction": count["distinct"] / run["records"],
        "duplicates": count["duplicates"],
        "missing": count["missing"],
        "malformed": count["malformed"],
        "rate": 0.8 * committed / span_s if span_s > 0 else None,
        "rate_incl_startup": committed / to_last_s if to_last_s > 0 else None,
        "cpu_s_per_m": (time["user_s"] + time["sys_s"]) / committed * 1e6,
        "rss_mb": time["max_rss_kb"] / 1024.0,
        "first_output_ms": count["first_append_ms"] - run["start_ms"],
        "wall_s": time["wall_s"],
    }


def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def aggregate(runs):
    groups = {}
    for run in runs:
        if run["kind"] != "throughput":
            continue
        key = (run["size"], run["records"], run["system"], run["guarantee"])
        groups.setdefault(key, {"runs": 0, "failed": 0, "metrics": []})
        groups[key]["runs"] += 1
        m = throughput_metrics(run)
        if m is None:
            groups[key]["failed"] += 1
        else:
            groups[key]["metrics"].append(m)
    result = []
    for (size, records, system, guarantee), g in sorted(groups.items()):
        row = {"size": size, "records": records, "system": system, "guarantee": guarantee, "runs": g["runs"],
               "failed_runs": g["failed"]}
        for field in ["rate", "rate_incl_startup", "cpu_s_per_m", "rss_mb", "first_output_ms", "wall_s",
                      "committed", "committed_fraction", "duplicates", "missing", "malformed"]:
            row[field] = summary([m[field] for m in g["metrics"]])
        result.append(row)
    return result


def aggregate_kafka(runs):
    groups = {}
    for run in runs:
        if run["kind"] not in ("kafka_producer", "kafka_consumer"):
            continue
        key = (run["size"], run["records"], run["kind"])
        groups.setdefault(key, []).append(run)
    result = []
    for (size, records, kind), rs in sorted(groups.items()):
        ok = [r for r in rs if r.get("rc") == 0 and r.get("rate") and r.get("time")]
        result.append({
            "size": size, "records": records, "tool": kind, "runs": len(rs), "failed_runs": len(rs) - len(ok),
            "rate": summary([r["rate"] for r in ok]),
            "cpu_s_per_m": summary([(r["time"]["user_s"] + r["time"]["sys_s"]) / records * 1e6 for r in ok]),
            "rss_mb": summary([r["time"]["max_rss_kb"] / 1024.0 for r in ok]),
        })
    return result


def aggregate_latency(runs):
    groups = {}
    for run in runs:
        if run["kind"] != "latency":
            continue
        groups.setdefault((run["system"], run["guarantee"]), []).append(run)
    result = []
    for (system, guarantee), rs in sorted(groups.items()):
        ok = [r["latency"] for r in rs if r.get("rc") == 0 and r.get("latency")]
        result.append({
            "system": system, "guarantee": guarantee, "runs": len(rs), "failed_runs": len(rs) - len(ok),
            "p50_ms": summary([l["p50_ms"] for l in ok]), "p99_ms": summary([l["p99_ms"] for l in ok]),
            "p999_ms": summary([l["p999_ms"] for l in ok]), "max_ms": summary([l["max_ms"] for l in ok]),
            "received_fraction": summary([l["measured"] / l["produced"] if l["produced"] else None for l in ok]),
            "rate": ok[0]["rate"] if ok else None,
        })
    return result


def med(row, field):
    s = row.get(field) if row else None
    return s["median"] if s else None


def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def ratios(rows, latency):
    index = {(r["size"], r["system"], r["guarantee"]): r for r in rows}
    lat = {(r["system"], r["guarantee"]): r for r in latency}
    out = []
    for size in sorted({r["size"] for r in rows}):
        for g in GUARANTEES:
            s = index.get((size, "sluice", g))
            if not s:
                continue
            entry = {"size": size, "guarantee": g}
            for peer in ["plain", "flink"]:
                p = index.get((size, peer, g))
                entry[peer] = {
                    "throughput": ratio(med(s, "rate"), med(p, "rate")),
                    "throughput_incl_startup": ratio(med(s, "rate_incl_startup"), med(p, "rate_incl_startup")),
                    "cpu_per_record": ratio(med(s, "cpu_s_per_m"), med(p, "cpu_s_per_m")),
                    "throughput_per_cpu_second": ratio(med(p, "cpu_s_per_m"), med(s, "cpu_s_per_m")),
                    "peak_rss": ratio(med(s, "rss_mb"), med(p, "rss_mb")),
                    "first_output": ratio(med(s, "first_output_ms"), med(p, "first_output_ms")),
                    # The latency runs use 100-byte records: shown on the 100 B rows only.
                    "latency_p50": ratio(med(lat.get(("sluice", g)), "p50_ms"), med(lat.get((peer, g)), "p50_ms"))
                    if size == 100 else None,
                    "latency_p99": ratio(med(lat.get(("sluice", g)), "p99_ms"), med(lat.get((peer, g)), "p99_ms"))
                    if size == 100 else None,
                }
            out.append(entry)
    return out


def goals(rows, ratio_rows):
    index = {(r["size"], r["system"], r["guarantee"]): r for r in rows}
    out = []
    for r in ratio_rows:
        size, g = r["size"], r["guarantee"]
        label = f"{size} B"
        if g == "exactly_once":
            v = r["flink"]["throughput_per_cpu_second"]
            out.append({"goal": f"sluice EXACTLY_ONCE throughput per CPU second >= 3x Flink's ({label})",
                        "value": v, "met": v is not None and v >= 3.0, "shown": fmt_ratio(v)})
            v = r["flink"]["peak_rss"]
            out.append({"goal": f"sluice EXACTLY_ONCE peak RSS <= 1/5 of Flink's ({label})",
                        "value": v, "met": v is not None and v <= 0.2, "shown": fmt_ratio(v)})
            v = r["plain"]["throughput"]
            out.append({"goal": f"sluice EXACTLY_ONCE >= 85% of the plain transactional loop ({label})",
                        "value": v, "met": v is not None and v >= 0.85, "shown": fmt_ratio(v)})
            s = index.get((size, "sluice", g))
            frac = med(s, "committed_fraction")
            out.append({"goal": f"sluice EXACTLY_ONCE commits all of its input ({label})", "value": frac,
                        "met": frac is not None and frac >= 1.0,
                        "shown": "-" if frac is None else f"{100 * frac:.2f} %"})
        if g == "at_least_once":
            v = r["plain"]["throughput"]
            out.append({"goal": f"sluice AT_LEAST_ONCE >= 90% of the plain idempotent loop ({label})",
                        "value": v, "met": v is not None and v >= 0.90, "shown": fmt_ratio(v)})
    worst = None
    for (size, system, g), row in index.items():
        if system == "sluice" and row["first_output_ms"]:
            worst = max(worst or 0, row["first_output_ms"]["median"])
    out.append({"goal": "sluice first output within 300 ms of process start (worst median)", "value": worst,
                "met": worst is not None and worst <= 300, "shown": "-" if worst is None else f"{worst:.0f} ms"})
    return out


def pct(s):
    return "-" if not s else f"{100 * s['median']:.2f} %"


def fmt_ratio(v):
    return "-" if v is None else f"{v:.2f}"


def fmt(s, scale=1.0, digits=2, brackets=True):
    if not s:
        return "-"
    m = f"{s['median'] / scale:.{digits}f}"
    if brackets and s["n"] > 1:
        m += f" [{s['min'] / scale:.{digits}f}, {s['max'] / scale:.{digits}f}]"
    return m


def tables(report):
    lines = []
    meta = report["meta"]
    lines.append(f"End-to-end benchmark {meta.get('started_utc', '')}: {meta.get('reps')} repetition(s), "
                 f"medians [min, max]; git {meta.get('git')}; load {meta.get('load_start')} -> "
                 f"{report['meta_end'].get('load_end', '?')}")
    for size in sorted({r["size"] for r in report["throughput"]}):
        rows = [r for r in report["throughput"] if r["size"] == size]
        lines.append("")
        lines.append(f"### {rows[0]['records']:,} records of {size} B, 8 partitions, parallelism 2")
        lines.append("")
        lines.append("| system | guarantee | M records/s | M rec/s incl. startup | CPU s / M records | peak RSS MB "
                     "| first output ms | committed | duplicates | failed runs |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|")
        for g in GUARANTEES:
            for system in SYSTEMS:
                r = next((x for x in rows if x["system"] == system and x["guarantee"] == g), None)
                if not r:
                    continue
                committed = r["committed_fraction"]
                lines.append(
                    f"| {SYSTEM_NAMES[system]} | {GUARANTEE_NAMES[g]} | {fmt(r['rate'], 1e6)} "
                    f"| {fmt(r['rate_incl_startup'], 1e6, brackets=False)} | {fmt(r['cpu_s_per_m'])} "
                    f"| {fmt(r['rss_mb'], digits=0)} | {fmt(r['first_output_ms'], digits=0)} "
                    f"| {pct(committed)} "
                    f"| {fmt(r['duplicates'], digits=0, brackets=False)} | {r['failed_runs']}/{r['runs']} |")
        for k in [k for k in report["kafka"] if k["size"] == size]:
            name = "Kafka ProducerPerformance (write only)" if k["tool"] == "kafka_producer" else \
                "Kafka ConsumerPerformance (read only)"
            lines.append(f"| {name} | - | {fmt(k['rate'], 1e6)} | - | {fmt(k['cpu_s_per_m'])} "
                         f"| {fmt(k['rss_mb'], digits=0)} | - | - | - | {k['failed_runs']}/{k['runs']} |")
    if report["latency"]:
        rate = next((r["rate"] for r in report["latency"] if r["rate"]), None)
        lines.append("")
        lm = report.get("latency_meta")
        when = f"; from a separate invocation started {lm.get('started_utc')}, git {lm.get('git')}" if lm else ""
        lines.append(f"### End-to-end latency at {rate} records/s of 100 B (unbounded jobs; ms{when})")
        lines.append("")
        lines.append("| system | guarantee | p50 | p99 | p99.9 | max | received | failed runs |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for g in GUARANTEES:
            for system in SYSTEMS:
                r = next((x for x in report["latency"] if x["system"] == system and x["guarantee"] == g), None)
                if not r:
                    continue
                rf = r["received_fraction"]
                lines.append(f"| {SYSTEM_NAMES[system]} | {GUARANTEE_NAMES[g]} | {fmt(r['p50_ms'], digits=1)} "
                             f"| {fmt(r['p99_ms'], digits=1)} | {fmt(r['p999_ms'], digits=1, brackets=False)} "
                             f"| {fmt(r['max_ms'], digits=1, brackets=False)} "
                             f"| {pct(rf)} | {r['failed_runs']}/{r['runs']} |")
    lines.append("")
    lines.append("### Ratios (medians; throughput > 1 and CPU, RSS, first output, latency < 1 favour sluice)")
    lines.append("")
    lines.append("| input | guarantee | vs | throughput | incl. startup | CPU per record | throughput per CPU s "
                 "| peak RSS | first output | latency p50 | latency p99 |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in report["ratios"]:
        for peer in ["plain", "flink"]:
            x = r[peer]
            lines.append(f"| {r['size']} B | {GUARANTEE_NAMES[r['guarantee']]} | sluice/{peer} "
                         f"| {fmt_ratio(x['throughput'])} | {fmt_ratio(x['throughput_incl_startup'])} "
                         f"| {fmt_ratio(x['cpu_per_record'])} | {fmt_ratio(x['throughput_per_cpu_second'])} "
                         f"| {fmt_ratio(x['peak_rss'])} | {fmt_ratio(x['first_output'])} "
                         f"| {fmt_ratio(x['latency_p50'])} | {fmt_ratio(x['latency_p99'])} |")
    lines.append("")
    lines.append("### Goals")
    lines.append("")
    lines.append("| goal | measured | met |")
    lines.append("|---|---|---|")
    for g in report["goals"]:
        lines.append(f"| {g['goal']} | {g['shown']} | {'yes' if g['met'] else 'NO'} |")
    return "\n".join(lines)


def chart(report, png):
    sizes = sorted({r["size"] for r in report["throughput"]})
    if not sizes:
        return
    tmp = Path(tempfile.mkdtemp(prefix="sluice-e2e-chart-"))
    index = {(r["size"], r["system"], r["guarantee"]): r for r in report["throughput"]}
    plots = []
    for size in sizes:
        records = next(r["records"] for r in report["throughput"] if r["size"] == size)
        for field, scale, title in [("rate", 1e6, "throughput, M records/s (higher is better)"),
                                    ("cpu_s_per_m", 1.0, "CPU seconds per million records (lower is better)")]:
            data = tmp / f"{field}-{size}.dat"
            with open(data, "w") as f:
                for g in GUARANTEES:
                    cols = [GUARANTEE_NAMES[g]]
                    for system in SYSTEMS:
                        s = (index.get((size, system, g)) or {}).get(field)
                        cols += [f"{s['median'] / scale:.4f}", f"{s['min'] / scale:.4f}", f"{s['max'] / scale:.4f}"] \
                            if s else ["NaN", "NaN", "NaN"]
                    f.write(" ".join(f'"{c}"' if i == 0 else c for i, c in enumerate(cols)) + "\n")
            plots.append((data, f"{title}\\n{records:,} records of {size} B"))
    script = [
        f"set terminal pngcairo size 1400,{520 * len(sizes)} font 'sans,11'",
        f"set output '{png}'",
        f"set multiplot layout {len(sizes)},2 title 'read -> map -> write, parallelism 2, checkpoint every 1 s "
        f"(median, bars: min..max; {report['meta'].get('started_utc', '')}, 2-core shared VM)'",
        "set termoption noenhanced",
        "set style data histogram",
        "set style histogram errorbars gap 2 lw 1",
        "set style fill solid 0.85 border -1",
        "set boxwidth 0.9",
        "set yrange [0:*]",
        "set grid ytics",
        "set key outside bottom center horizontal",
        "set xrange [-0.6:2.6]",
        "set xtics nomirror",
    ]
    colors = ["'#7f7f7f'", "'#1f77b4'", "'#d62728'"]
    for data, title in plots:
        script.append(f"set title \"{title}\"")
        parts = []
        for i, system in enumerate(SYSTEMS):
            c = 2 + 3 * i
            xtic = ":xtic(1)" if i == 0 else ""
            parts.append(f"'{data}' using {c}:{c + 1}:{c + 2}{xtic} title '{SYSTEM_NAMES[system]}' lc rgb {colors[i]}")
        script.append("plot " + ", ".join(parts))
    script.append("unset multiplot")
    (tmp / "chart.gp").write_text("\n".join(script) + "\n")
    subprocess.run(["gnuplot", str(tmp / "chart.gp")], check=True)


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "line":
        runs = load(sys.argv[2])
        run = runs[-1]
        if run["kind"] == "throughput":
            m = throughput_metrics(run)
            if m is None:
                print(f"e2e:   FAILED (exit code {run['rc']}); log: {run['log']}", file=sys.stderr)
            else:
                print(f"e2e:   {m['committed']:,} committed ({100 * m['committed_fraction']:.2f} %, "
                      f"{m['duplicates']} duplicates), {m['rate'] / 1e6 if m['rate'] else 0:.3f} M records/s, "
                      f"{m['cpu_s_per_m']:.2f} CPU s/M, {m['rss_mb']:.0f} MB RSS, first output "
                      f"{m['first_output_ms']} ms, wall {m['wall_s']} s", file=sys.stderr)
        elif run["kind"] == "latency":
            l = run.get("latency")
            print(f"e2e:   {'FAILED; log: ' + run['log'] if not l or run['rc'] else ''}"
                  f"{'' if not l else 'p50 %.1f ms, p99 %.1f ms, %d of %d received' % (l['p50_ms'], l['p99_ms'], l['measured'], l['produced'])}",
                  file=sys.stderr)
        else:
            print(f"e2e:   {run['kind']}: {run.get('rate')} records/s (exit code {run['rc']})", file=sys.stderr)
        return
    if len(sys.argv) < 3 or sys.argv[1] != "report":
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    runs = load(sys.argv[2])
    args = dict(zip(sys.argv[3::2], sys.argv[4::2]))
    latency_meta = None
    if "--latency-from" in args:
        latency_runs = load(args["--latency-from"])
        latency_meta = next((r for r in latency_runs if r["kind"] == "meta"), {})
        runs = [r for r in runs if r["kind"] != "latency"] + [r for r in latency_runs if r["kind"] == "latency"]
    report = {
        "meta": next((r for r in runs if r["kind"] == "meta"), {}),
        "meta_end": next((r for r in runs if r["kind"] == "meta_end"), {}),
        "latency_meta": latency_meta,
        "definitions": __doc__.split("Definitions (bench/README.md says why):\n")[1].split("Only standard")[0],
    }
    report["throughput"] = aggregate(runs)
    report["kafka"] = aggregate_kafka(runs)
    report["latency"] = aggregate_latency(runs)
    report["ratios"] = ratios(report["throughput"], report["latency"])
    report["goals"] = goals(report["throughput"], report["ratios"])
    report["runs"] = [r for r in runs if r["kind"] not in ("meta", "meta_end")]
    print(tables(report))
    if "--json" in args:
        with open(args["--json"], "w") as f:
            json.dump(report, f, indent=1)
        print(f"\nwrote {args['--json']}")
    if "--png" in args:
        chart(report, args["--png"])
        print(f"wrote {args['--png']}")


if __name__ == "__main__":
    main()
