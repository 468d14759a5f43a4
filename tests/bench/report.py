#!/usr/bin/env python3
"""Write BENCHMARKS.md from the raw results of run-bench.sh.

    report.py RESULTS_DIR [FINDINGS.md]

RESULTS_DIR holds "machine", "idroot", optionally "refresh", and one folder
per data set with BACKEND.ops (bench-nss run), BACKEND.first.all and
BACKEND.id.all (one value a line, every process), sizes, snapsize and
pipeline.  FINDINGS.md, kept by hand next to the
harness, is copied in after the goals.  Output on stdout.
"""

import os
import sys

BACKENDS = ("floor", "scim", "files", "cache")
SETS = (("1k", "1,000 people, each in 10 of 200 groups"),
        ("10k", "10,000 people, each in 10 of 200 groups"),
        ("100k", "100,000 people, each in 10 of 200 groups"),
        ("big", "big groups: 10,000 people, 10,000 groups, "
                "500 members per group on average"),
        ("refresh", "refresh only: 100,000 people, 10,000 groups, "
                    "each person in 10"))

# (key, label, unit, scale): key in BACKEND.ops, or "first"/"id".
ROWS = (
    ("getpwnam_hit", "getpwnam hit", "µs", 1),
    ("getpwnam_random", "getpwnam, uniformly random over everyone", "µs", 1),
    ("getpwuid_random", "getpwuid, uniformly random over everyone", "µs", 1),
    ("getpwnam_random_warm", "getpwnam, uniformly random, after a pass "
     "over everyone", "µs", 1),
    ("getpwuid_random_warm", "getpwuid, uniformly random, after a pass "
     "over everyone", "µs", 1),
    ("getpwnam_miss", "getpwnam miss", "µs", 1),
    ("getpwuid", "getpwuid", "µs", 1),
    ("getgrnam_small", "getgrnam, a private group", "µs", 1),
    ("getgrgid_small", "getgrgid, a private group", "µs", 1),
    ("getgrnam_largest", "getgrnam, the largest group", "µs", 1),
    ("getgrgid_largest", "getgrgid, the largest group", "µs", 1),
    ("getgrouplist", "getgrouplist", "µs", 1),
    ("enum_passwd", "enumerate all people (getpwent)", "ms", 1e-3),
    ("enum_group", "enumerate all groups (getgrent)", "ms", 1e-3),
    ("id", "`id USER`, whole process", "ms", 1e-3),
    ("first", "first lookup in a fresh process", "µs", 1),
    ("threads1", "getpwnam, 1 thread", "lookups/s", 1),
    ("threads2", "getpwnam, 2 threads at once", "lookups/s", 1),
    ("threads_scaling", "2 threads / 1 thread", "x", 1),
    ("cpu_scaling", "the same for arithmetic alone (what 2 cores give)",
     "x", 1),
)
HIGHER_IS_BETTER = {"threads1", "threads2", "threads_scaling",
                    "cpu_scaling"}


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def kv(path):
    out = {}
    for line in (read(path) or "").splitlines():
        k, _, v = line.partition(" ")
        out[k] = v
    return out


def rounds(d, prefix):
    """The files PREFIX.1, PREFIX.2 ... of one backend's rounds."""
    names = sorted(f for f in os.listdir(d) if f.startswith(prefix + ".")
                   and not f.endswith(".all"))
    return [os.path.join(d, f) for f in names]


def med(values):
    v = sorted(values)
    if not v:
        return None
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def pct(values, p):
    """The P-th percentile (nearest rank) of VALUES."""
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(p / 100 * len(v) + 0.5)) - 1))]


def load_all(path):
    """Every value of a whole-process row: (values, timed out)."""
    vals, timeout = [], False
    for line in (read(path) or "").splitlines():
        f = line.split()
        if f and f[0] == "TIMEOUT":
            timeout = True
            vals.append(float(f[1]))
        elif f:
            vals.append(float(f[0]))
    return vals, timeout


def load_backend(d, be):
    """Medians over the rounds of every figure of backend BE; for the
    whole-process rows, the median, 10th and 90th percentiles and count of
    every process."""
    per = {}
    for path in rounds(d, be + ".ops"):
        for line in (read(path) or "").splitlines():
            f = line.split()
            if len(f) >= 3 and f[0] == "RESULT" and f[2] != "ERR":
                per.setdefault(f[1], []).append(float(f[2]))
    for path in rounds(d, be + ".first"):
        v = read(path)
        if v:
            per.setdefault("first", []).append(float(v))
    vals = {k: med(v) for k, v in per.items()}
    ids = []
    for path in rounds(d, be + ".id"):
        f = (read(path) or "").split()
        if f and f[0] == "TIMEOUT":
            vals["id_timeout"] = True
            ids.append(float(f[1]))
        elif f:
            ids.append(float(f[0]))
    if ids:
        vals["id"] = med(ids)
    for key in ("first", "id"):
        v, timeout = load_all(os.path.join(d, f"{be}.{key}.all"))
        if v:
            vals[key] = med(v)
            vals[key + "_spread"] = (pct(v, 10), pct(v, 90), len(v))
            if timeout:
                vals["id_timeout"] = True
    return vals


def fmt(v, scale=1.0):
    if v is None:
        return "-"
    v *= scale
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    r = a / b
    return f"{r:,.0f}x" if r >= 100 else f"{r:.2f}x" if r < 10 else \
        f"{r:.1f}x"


def set_table(d, label, out):
    data = {be: load_backend(d, be) for be in BACKENDS}
    sizes = kv(os.path.join(d, "sizes"))
    snap = read(os.path.join(d, "snapsize"))
    pipeline = read(os.path.join(d, "pipeline")) or "?"
    out.append(f"### {label}\n")
    big = sizes.get("biggroup", "? ?").split()
    how = ("emulator -> `scim-cache refresh`" if pipeline == "scim-cache"
           else "`tests/helpers/mksnap` (the project's writer) on generated text")
    out.append(f"Snapshot built by {how}; the largest group is "
               f"`{big[0]}` with {int(big[1]):,} members.\n")
    out.append("| operation | unit | floor | scim | files | cache "
               "| scim/floor | files/scim | cache/scim |")
    out.append("|---|---|--:|--:|--:|--:|--:|--:|--:|")
    for key, name, unit, scale in ROWS:
        v = {be: data[be].get(key) for be in BACKENDS}
        if key == "id":
            for be in BACKENDS:
                if data[be].get("id_timeout"):
                    v[be] = None
        cells = [fmt(v[be], scale) for be in BACKENDS]
        for i, be in enumerate(BACKENDS):
            spread = data[be].get(key + "_spread")
            if spread and v[be] is not None:
                cells[i] += (f" ({fmt(spread[0], scale)}–"
                             f"{fmt(spread[1], scale)})")
        for i, be in enumerate(BACKENDS):
            if key == "id" and data[be].get("id_timeout"):
                cells[i] = f"> {fmt(data[be]['id'], scale)}"
        if key in ("threads_scaling", "cpu_scaling"):
            r = ["", "", ""]
        elif key in HIGHER_IS_BETTER:
            # Throughput: how many times slower than scim, like the rest.
            r = [ratio(v["floor"], v["scim"]), ratio(v["scim"], v["files"]),
                 ratio(v["scim"], v["cache"])]
        else:
            r = [ratio(v["scim"], v["floor"]), ratio(v["files"], v["scim"]),
                 ratio(v["cache"], v["scim"])]
        out.append(f"| {name} | {unit} | " + " | ".join(cells) + " | " +
                   " | ".join(r) + " |")
    counts = []
    for key, name in (("first", "first lookup"), ("id", "`id USER`")):
        n = [f"{be} {data[be][key + '_spread'][2]}" for be in BACKENDS
             if data[be].get(key + "_spread")]
        if n:
            counts.append(f"{name}: " + ", ".join(n))
    if counts:
        out.append("\nWhole-process rows: median (10th–90th percentile) "
                   "over the processes, backends taking turns in rounds; "
                   "processes per backend: " + "; ".join(counts) + ".")
    if snap and sizes.get("passwd"):
        text = int(sizes["passwd"]) + int(sizes["group"])
        out.append(f"\nSnapshot {int(snap):,} bytes; the same data as passwd "
                   f"and group text {text:,} bytes "
                   f"({int(snap) / text:.2f}x).\n")
    return data, sizes, snap


def free_rounds(d, be):
    """(threads_scaling, cpu_scaling) of the rounds of BE in which the
    second core was free, i.e. arithmetic alone scaled at least 1.8x."""
    out = []
    for path in rounds(d, be + ".ops"):
        v = {}
        for line in (read(path) or "").splitlines():
            f = line.split()
            if len(f) >= 3 and f[0] == "RESULT" and f[2] != "ERR":
                v[f[1]] = float(f[2])
        if "threads_scaling" in v and v.get("cpu_scaling", 0) >= 1.8:
            out.append((v["threads_scaling"], v["cpu_scaling"]))
    return out


def goals(res, out):
    s100 = res.get("100k")
    big = res.get("big")
    rows = []

    def check(name, measured, ok):
        rows.append(f"| {name} | {measured} | "
                    f"{'met' if ok else '**missed**'} |")

    if s100:
        d = s100[0]
        fl, sc, fi = d["floor"], d["scim"], d["files"]
        for key, name, lim in (("getpwnam_hit", "getpwnam hit", 1.5),
                               ("getpwuid", "getpwuid", 1.5),
                               ("getpwnam_miss", "getpwnam miss", 1.5),
                               ("getgrouplist", "getgrouplist", 2.0)):
            a, b = sc.get(key), fl.get(key)
            if a is not None and b:
                check(f"{name} within {lim}x of the floor",
                      f"{a:.2f} µs vs {b:.2f} µs: {a / b:.2f}x",
                      a / b <= lim)
        a, b = sc.get("getpwnam_random"), fl.get("getpwnam_random")
        if a is not None and b:
            check("getpwnam uniformly random over everyone within 1.3x of "
                  "the floor", f"{a:.2f} µs vs {b:.2f} µs: {a / b:.2f}x",
                  a / b <= 1.3)
        a, b = sc.get("getpwnam_random_warm"), fl.get("getpwnam_random_warm")
        if a is not None and b:
            check("getpwnam uniformly random, after a pass over everyone, "
                  "within 1.3x of the floor",
                  f"{a:.2f} µs vs {b:.2f} µs: {a / b:.2f}x", a / b <= 1.3)
        a, b = sc.get("enum_passwd"), fi.get("enum_passwd")
        if a is not None and b is not None:
            check("enumerating all people no slower than nss_files",
                  f"{a / 1e3:.1f} ms vs {b / 1e3:.1f} ms", a <= b)
        a, b = sc.get("enum_passwd"), fl.get("enum_passwd")
        if a is not None and b:
            check("enumerating all people within 2.5x of the floor",
                  f"{a / 1e3:.1f} ms vs {b / 1e3:.1f} ms: {a / b:.2f}x",
                  a / b <= 2.5)
        free = free_rounds(os.path.join(res["_dir"], "100k"), "scim")
        if free:
            a = med([t for t, _ in free])
            check("2 threads give at least 1.8x the lookups/s of one",
                  f"{a:.2f}x (median of the {len(free)} of 3 rounds where "
                  "arithmetic alone scaled 1.8x or more: "
                  + ", ".join(f"{t:.2f}x against {c:.2f}x"
                              for t, c in free) + ")", a >= 1.8)
        elif sc.get("threads_scaling") is not None:
            rows.append("| 2 threads give at least 1.8x the lookups/s of "
                        f"one | {sc['threads_scaling']:.2f}x, but in no "
                        "round did arithmetic alone scale 1.8x: the second "
                        "core was busy | not measurable in this run |")
        snap, sizes = s100[2], s100[1]
        rdir = os.path.join(res["_dir"], "refresh")
        if read(os.path.join(rdir, "snapsize")):
            snap = read(os.path.join(rdir, "snapsize"))
            sizes = kv(os.path.join(rdir, "sizes"))
        if snap and sizes.get("passwd"):
            text = int(sizes["passwd"]) + int(sizes["group"])
            check("snapshot no bigger than 3x the passwd and group text",
                  f"{int(snap) / 1e6:.1f} MB vs {text / 1e6:.1f} MB: "
                  f"{int(snap) / text:.2f}x", int(snap) <= 3 * text)
    for key, label in (("1k", "1,000"), ("100k", "100,000"),
                       ("big", "big groups")):
        if key not in res:
            continue
        d = res[key][0]
        a, b, c = (d["scim"].get("first"), d["floor"].get("first"),
                   d["cache"].get("first"))
        if a is not None and b and c:
            check(f"first lookup in a fresh process ({label}) no slower "
                  "than libnss-cache and within 1.3x of the floor",
                  f"{a:.0f} µs vs libnss-cache {c:.0f} µs and the floor "
                  f"{b:.0f} µs: {a / b:.2f}x", a <= c and a / b <= 1.3)
    idroot = read(os.path.join(res["_dir"], "idroot"))
    if big and idroot and big[0]["scim"].get("id") is not None:
        a = big[0]["scim"]["id"]
        b = float(idroot.split()[0])
        fl = big[0]["floor"].get("id")
        floor_txt = (f"; the floor, answering the same groups with no "
                     f"members, takes {fl / 1e3:.2f} ms" if fl else "")
        check("`id` on the big-groups set no slower than `id root` "
              "through nss_files + 1 ms",
              f"{a / 1e3:.2f} ms vs {b / 1e3:.2f} ms + 1 ms{floor_txt}",
              a <= b + 1000)
    refresh = kv(os.path.join(res["_dir"], "refresh", "refresh"))
    if refresh.get("user_s"):
        cpu = float(refresh["user_s"]) + float(refresh["sys_s"])
        rss = float(refresh["rss_kb"]) / 1024
        check("refresh: the tool's CPU time under 2 s", f"{cpu:.2f} s",
              cpu < 2)
        check("refresh: peak RSS under 64 MB", f"{rss:.1f} MB", rss < 64)
    if not rows:
        return
    out.append("## Goals\n")
    out.append("Goals are at 100,000 people unless they say otherwise; `id` "
               "on the big-groups set.\n")
    out.append("| goal | measured | |")
    out.append("|---|---|---|")
    out.extend(rows)
    out.append("")


def refresh_section(rdir, out):
    rows = []
    for key, label in SETS:
        r = kv(os.path.join(rdir, key, "refresh"))
        sizes = kv(os.path.join(rdir, key, "sizes"))
        snap = read(os.path.join(rdir, key, "snapsize"))
        if not r.get("wall_s"):
            continue
        wall, cpu = float(r["wall_s"]), float(r["user_s"]) + float(r["sys_s"])
        text = int(sizes.get("passwd", 0)) + int(sizes.get("group", 0))
        page = read(os.path.join(rdir, key, "page_size")) or "?"
        rows.append(f"| {label} | {page} | {wall:.2f} | {cpu:.2f} | "
                    f"{max(0.0, 1 - cpu / wall) * 100:.0f}% | "
                    f"{int(r['rss_kb']) / 1024:.1f} | "
                    f"{int(snap) / 1e6:.1f} | {text / 1e6:.1f} | "
                    f"{int(snap) / text:.2f}x |")
    if not rows:
        return
    out.append("## Refresh\n")
    out.append("`scim-cache refresh` into an empty state, from the bridge "
               "emulator on 127.0.0.1 (plain HTTP). The "
               "waiting share is the part of the wall time the tool was not "
               "on a CPU: waiting on the emulator (which shares the 2 cores) "
               "and on fsync.\n")
    runs = read(os.path.join(rdir, "refresh", "refresh_runs"))
    if runs:
        each = [line.split() for line in runs.splitlines() if line.strip()]
        out.append(f"The refresh set ran {len(each)} times from empty "
                   "state; its row gives the run of median CPU time and "
                   "the largest peak RSS of all. Every run (CPU s, peak RSS "
                   "MB): " + ", ".join(f"{float(c):.2f} s, "
                                       f"{int(r) / 1024:.1f} MB"
                                       for _, c, r in each) + ".\n")
    out.append("| data set | page size | wall s | tool CPU s (user+sys) "
               "| waiting "
               "| peak RSS MB | snapshot MB | passwd+group text MB "
               "| snapshot/text |")
    out.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    out.extend(rows)
    out.append("")


def main():
    if len(sys.argv) not in (2, 3):
        print("usage: report.py RESULTS_DIR [FINDINGS.md]", file=sys.stderr)
        return 2
    rdir = sys.argv[1]
    m = kv(os.path.join(rdir, "machine"))
    out = ["# Benchmarks\n",
           "Written by `make bench` (`tests/bench/run-bench.sh`, "
           "`tests/bench/report.py`); do not edit by hand. The findings at "
           "the end come from `tests/bench/findings.md`.\n",
           "## Machine and versions\n",
           f"- CPU: {m.get('cpu', '?')}, {m.get('cores', '?')} cores",
           f"- Linux {m.get('kernel', '?')}, glibc {m.get('glibc', '?')}, "
           f"LMDB {m.get('lmdb', '?')}, libnss-cache "
           f"{m.get('libnss_cache', '?')}",
           f"- nss-scim commit {m.get('commit', '?')}, run {m.get('date', '?')}"
           + (" (smoke run: short budgets, figures are rough)"
              if m.get("smoke") == "1" else ""),
           f"- load average when the run started: {m.get('load', '?')}, "
           f"when it ended: {m.get('load_end', '?')} (the machine is shared "
           "with other work; see the arithmetic-scaling rows)",
           "",
           "## Method\n",
           "Each backend is measured through glibc's own `getpwnam_r`, "
           "`getgrgid_r`, `getgrouplist`, `getpwent_r` ... with a test "
           "`nsswitch.conf` naming only that backend (`passwd: X`, "
           "`group: X`), in a private mount namespace where `/etc` is a "
           "throw-away overlay. All four hold the same people and groups "
           "with the same names and numbers: the snapshot's own, exported "
           "with `getent` through the scim module.\n",
           "- **floor**: `libnss_floor.so.2`, built only for the bench, "
           "answers every call at once without looking at anything: what "
           "glibc's dispatch alone costs.",
           "- **scim**: `libnss_scim.so.2` on the snapshot.",
           "- **files**: glibc's nss_files on `/etc/passwd` and "
           "`/etc/group` holding the host's own entries and then the "
           "data set.",
           "- **cache**: Debian's libnss-cache on `/etc/passwd.cache`, "
           "`/etc/group.cache` and their sorted `.ixname`/`.ixuid`/"
           "`.ixgid` indexes.\n",
           "In-process figures come from `tests/bench/bench-nss` "
           "(`clock_gettime(CLOCK_MONOTONIC)`): the median over batches of "
           "the cost per call, cycling through 1,000 people (or private "
           "groups) picked at random across the whole data set, with a "
           "caller's buffer that grows on ERANGE and is kept; the "
           "\"uniformly random\" rows instead pick a person at random among "
           "everyone in the data set at each call, so that the lookup's "
           "data is mostly out of the CPU caches and TLB (those rows come "
           "right after the hot set, while the backend is still bringing "
           "its data into the process; the rows \"after a pass over "
           "everyone\" first look everyone up once, untimed, or as many as "
           "the time budget allows). `id USER` is "
           "the wall time of a run of `/usr/bin/id` (fork, exec, "
           "wait); the first lookup is timed inside a fresh process (it "
           "reads `nsswitch.conf`, loads the module and opens its data). "
           "Both are given as the median and the 10th-90th percentiles of "
           "every process, the four backends taking turns in ten rounds "
           "(a backend that has spent 30 s on a row stops there: nss_files' "
           "`id` on the large sets). "
           "floor and scim (and nss_files' enumerations) are measured in "
           "three alternating rounds and each figure is the median of the "
           "rounds, so that a change in the load of this shared machine "
           "falls on both sides of a ratio; `files` and `cache` run once. "
           "The thread rows are the best lookups per second of five short "
           "trials that alternate 1 thread, 2 threads and the same for plain "
           "arithmetic, since another process takes a core now and then. "
           "Ratios: scim/floor is what scim adds over glibc's floor; "
           "files/scim and cache/scim say how many times slower the other "
           "backend is (for lookups/s rows, how many times fewer).\n"]
    res = {"_dir": rdir}
    out.append("## Results\n")
    for key, label in SETS:
        d = os.path.join(rdir, key)
        if os.path.isdir(d) and key != "refresh":
            res[key] = set_table(d, label, out)
    idroot = read(os.path.join(rdir, "idroot"))
    if idroot:
        out.append(f"`id root` through nss_files on the host's own "
                   f"`/etc/passwd` and `/etc/group`: "
                   f"{float(idroot.split()[0]) / 1e3:.2f} ms (median).\n")
    refresh_section(rdir, out)
    goals(res, out)
    if len(sys.argv) == 3:
        f = read(sys.argv[2])
        if f:
            out.append(f)
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
