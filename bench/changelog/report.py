#!/usr/bin/env python3
"""Aggregates bench/changelog/run's raw results (one JSON object per line).

  report.py line RAW       prints the last run of RAW as one line (progress, on stderr)
  report.py report RAW     Markdown tables on stdout: medians [min-max] over the repetitions

Definitions (bench/README.md, "changelog: durable state in Kafka", says why):
  records/s        0.8 * committed / (append time of the output record at 90 % - that at 10 %):
                   the rate once the job runs, without startup and the final checkpoint
  incl. start      committed / wall time of the job's process
  CPU us/record    (user + sys of the job's process) / committed
  checkpoint ms    from the barrier at the first source subtask to the first completion notice
                   (word_count_job.cc); p50 and max of each run
  per checkpoint   what the changelog topics hold after the run (read_committed: records, key +
                   value bytes; on disk: the *.log segment files) / completed checkpoints
  restore          the job started again with its checkpoint directory deleted: R changelog
                   records read in S s (the job's log line); live = distinct keys / S; per CPU s
                   = R / (user + sys of the whole restoring process, startup and final
                   checkpoint included)
Only standard library modules: this runs wherever python3 does.
"""
import json
import statistics
import sys


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def metrics(run):
    """Per-run figures; 'ok' is False when the job failed or its output is not exact."""
    m = {"keys": run["keys"], "changelog": run["changelog"], "rep": run["rep"]}
    time, count, job = run.get("time"), run.get("count"), run.get("job")
    records = run["records"]
    m["ok"] = bool(run.get("rc") == 0 and count and job and count["records"] == records
                   and count["wrong"] == 0 and count["unknown"] == 0)
    if not (time and count and job) or count["records"] == 0:
        return m
    committed = count["records"]
    span_s = (count["p90_append_ms"] - count["p10_append_ms"]) / 1000.0
    m["rate"] = 0.8 * committed / span_s if span_s > 0 else None
    m["rate_incl"] = committed / time["wall_s"] if time["wall_s"] > 0 else None
    m["cpu_us"] = (time["user_s"] + time["sys_s"]) / committed * 1e6
    m["cores"] = (time["user_s"] + time["sys_s"]) / time["wall_s"] if time["wall_s"] > 0 else None
    m["rss_mb"] = time["max_rss_kb"] / 1024.0
    m["wall_s"] = time["wall_s"]
    checkpoints = job["completed_checkpoints"]
    m["checkpoints"] = checkpoints
    m["ckpt_p50"] = job["checkpoint_ms_p50"]
    m["ckpt_max"] = job["checkpoint_ms_max"]
    topics = run.get("changelog_topics")
    if topics and checkpoints > 0:
        total = topics["total"]
        payload = total["key_bytes"] + total["value_bytes"]
        m["cl_records"] = total["records"]
        m["cl_records_per_ckpt"] = total["records"] / checkpoints
        m["cl_bytes_per_ckpt"] = payload / checkpoints
        m["cl_bytes_per_record"] = payload / total["records"] if total["records"] else None
        m["cl_per_input"] = total["records"] / committed
        if total.get("segment_bytes") is not None:
            m["cl_disk_per_ckpt"] = total["segment_bytes"] / checkpoints
    restore = run.get("restore")
    if restore and restore.get("line") and restore.get("time"):
        line, rtime = restore["line"], restore["time"]
        m["restore_ok"] = restore["rc"] == 0
        m["r_records"] = line["records"]
        m["r_seconds"] = line["seconds"]
        cpu = rtime["user_s"] + rtime["sys_s"]
        m["r_cpu_s"] = cpu
        m["r_wall_s"] = rtime["wall_s"]
        if line["seconds"] > 0:
            m["r_rate"] = line["records"] / line["seconds"]
            m["r_live_rate"] = run["keys"] / line["seconds"]
        if cpu > 0:
            m["r_per_cpu_s"] = line["records"] / cpu
    return m


def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def fmt(s, scale=1.0, digits=0):
    if s is None:
        return "n/a"
    f = "{:,.%df}" % digits
    text = f.format(s["median"] * scale)
    if s["n"] > 1:
        text += " (" + f.format(s["min"] * scale) + "–" + f.format(s["max"] * scale) + ")"
    return text


def groups(runs):
    """(keys, changelog) -> list of per-run metrics, in the order first seen."""
    out = {}
    for run in runs:
        if run.get("kind") != "run":
            continue
        m = metrics(run)
        out.setdefault((m["keys"], m["changelog"]), []).append(m)
    return out


def field(ms, name):
    return summary([m.get(name) for m in ms if m["ok"]])


def report(runs):
    meta = next((r for r in runs if r.get("kind") == "meta"), {})
    end = next((r for r in runs if r.get("kind") == "meta_end"), {})
    g = groups(runs)
    order = sorted(g, key=lambda k: (k[0], k[1] != "kafka"))
    print(f"{meta.get('records', '?'):,} input records (one word each) per run, "
          f"{meta.get('reps', '?')} repetition(s); nproc {meta.get('nproc', '?')}, "
          f"{meta.get('cpu', '?')}; load average {meta.get('load_start', '?')} at the start, "
          f"{end.get('load_end', '?')} at the end; git {meta.get('git', '?')}; "
          f"{meta.get('started_utc', '?')} – {end.get('ended_utc', '?')}")
    print()
    print("| keys | changelog | runs exact | records/s | incl. start | CPU µs/record | cores busy "
          "| peak RSS MB | checkpoints | checkpoint ms p50 | checkpoint ms max |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for key in order:
        ms = g[key]
        ok = sum(1 for m in ms if m["ok"])
        print(f"| {key[0]:,} | {key[1]} | {ok}/{len(ms)} | {fmt(field(ms, 'rate'))} "
              f"| {fmt(field(ms, 'rate_incl'))} | {fmt(field(ms, 'cpu_us'), digits=2)} "
              f"| {fmt(field(ms, 'cores'), digits=2)} | {fmt(field(ms, 'rss_mb'))} "
              f"| {fmt(field(ms, 'checkpoints'))} | {fmt(field(ms, 'ckpt_p50'))} "
              f"| {fmt(field(ms, 'ckpt_max'))} |")
    print()
    print("Written to the changelog (changelog on):")
    print()
    print("| keys | records per checkpoint | key+value bytes per checkpoint | bytes per record "
          "| segment bytes per checkpoint | changelog records per input record |")
    print("|---|---|---|---|---|---|")
    for key in order:
        if key[1] != "kafka":
            continue
        ms = g[key]
        print(f"| {key[0]:,} | {fmt(field(ms, 'cl_records_per_ckpt'))} "
              f"| {fmt(field(ms, 'cl_bytes_per_ckpt'))} "
              f"| {fmt(field(ms, 'cl_bytes_per_record'), digits=1)} "
              f"| {fmt(field(ms, 'cl_disk_per_ckpt'))} | {fmt(field(ms, 'cl_per_input'), digits=2)} |")
    print()
    print("Restore from Kafka alone (checkpoint directory deleted):")
    print()
    print("| keys | changelog records read | restore s | records/s | live keys/s "
          "| process CPU s | records per CPU s | process wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for key in order:
        if key[1] != "kafka":
            continue
        ms = [m for m in g[key] if m["ok"] and m.get("restore_ok")]
        s = lambda name: summary([m.get(name) for m in ms])  # noqa: E731
        print(f"| {key[0]:,} | {fmt(s('r_records'))} | {fmt(s('r_seconds'), digits=2)} "
              f"| {fmt(s('r_rate'))} | {fmt(s('r_live_rate'))} | {fmt(s('r_cpu_s'), digits=2)} "
              f"| {fmt(s('r_per_cpu_s'))} | {fmt(s('r_wall_s'), digits=2)} |")
    print()
    print("Against issue 12's goals (not asserted):")
    print()
    print("| goal | measured | |")
    print("|---|---|---|")
    keys = sorted({k[0] for k in g})
    for k in keys:
        on, off = field(g.get((k, "kafka"), []), "rate"), field(g.get((k, "off"), []), "rate")
        if not on or not off:
            continue
        ratio = on["median"] / off["median"]
        best = on["max"] / off["max"]
        goal = "throughput with the changelog ≥ 80 % of without" + (
            "" if k == 10000 else " (the goal is for 10,000 keys; shown for comparison)")
        verdict = ("met" if ratio >= 0.8 else "missed") if k == 10000 else "—"
        print(f"| {goal}, {k:,} keys | {ratio:.0%} (medians), {best:.0%} (best runs) | {verdict} |")
    if keys:
        k = max(keys)
        ms = [m for m in g.get((k, "kafka"), []) if m["ok"] and m.get("restore_ok")]
        per_cpu = summary([m.get("r_per_cpu_s") for m in ms])
        wall = summary([m.get("r_rate") for m in ms])
        live = summary([m.get("r_live_rate") for m in ms])
        if per_cpu:
            verdict = "met" if per_cpu["median"] >= 1e6 else "missed"
            suffix = ""
            if k != 1000000:
                verdict, suffix = "—", " (the goal is for 1,000,000 keys; shown for comparison)"
            print(f"| restore ≥ 1 M state entries per second per core{suffix}, {k:,} keys "
                  f"| {per_cpu['median'] / 1e6:.2f} M changelog records per CPU s; "
                  f"{wall['median'] / 1e6:.2f} M records/s and {live['median'] / 1e6:.2f} M live "
                  f"keys/s of wall time | {verdict}{' (records per CPU s)' if verdict != '—' else ''} |")
    failed = [m for ms in g.values() for m in ms if not m["ok"]]
    if failed:
        print()
        print(f"**{len(failed)} run(s) failed or were not exact** and are left out of the figures "
              "(see their logs in the raw results).")


def line(runs):
    run = [r for r in runs if r.get("kind") == "run"][-1]
    m = metrics(run)
    parts = [f"{m['keys']} keys, changelog {m['changelog']}, rep {m['rep']}:",
             "exact" if m["ok"] else "FAILED OR NOT EXACT"]
    if m.get("rate"):
        parts.append(f"{m['rate']:,.0f} records/s, {m['cpu_us']:.2f} CPU µs/record, "
                     f"{m['checkpoints']} checkpoints (p50 {m['ckpt_p50']:.0f} ms, "
                     f"max {m['ckpt_max']:.0f} ms)")
    if m.get("cl_records_per_ckpt") is not None:
        parts.append(f"changelog {m['cl_records_per_ckpt']:,.0f} records / "
                     f"{m['cl_bytes_per_ckpt']:,.0f} B per checkpoint")
    if m.get("r_records") is not None:
        parts.append(f"restore {m['r_records']:,} records in {m['r_seconds']:.2f} s "
                     f"({m['r_cpu_s']:.2f} CPU s)")
    print("changelog: " + ", ".join(parts), file=sys.stderr)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("line", "report"):
        print(__doc__, file=sys.stderr)
        return 2
    runs = load(sys.argv[2])
    (line if sys.argv[1] == "line" else report)(runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
