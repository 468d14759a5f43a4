#!/usr/bin/env python3
"""The mutation gate: make mutation.

    run.py --srcdir DIR --builddir DIR [--list FILE] [--only ID,...]

Each entry of tests/mutation/mutations.txt names a promise of the README
or the man pages, the one line of code that keeps it (a regular
expression that must match exactly one line of the file), a one-line
change that breaks it, and the tests that must then fail.  In a scratch
copy of the source tree, built out of tree with the build directory's own
configure options, each mutation is applied alone, rebuilt incrementally,
and its tests run one after another until one fails: "killed" by that
test.  A mutation that every named test passes "survived".  First, each
named test must pass on the unmutated copy (a test that fails or skips
there proves nothing).  The gate fails when a mutation survives, when a
pattern matches no line or more than one (the code moved: update the
entry), or when a mutation does not build.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

KEYS = ("id", "promise", "file", "match", "replace", "tests", "env", "build")


def parse(path):
    entries, cur = [], {}
    for n, raw in enumerate(open(path, encoding="utf-8"), 1):
        line = raw.rstrip("\n")
        if line.startswith("#"):
            continue
        if not line.strip():
            if cur:
                entries.append(cur)
                cur = {}
            continue
        key, sep, value = line.partition(":")
        if not sep or key not in KEYS:
            sys.exit(f"{path}:{n}: expected one of {', '.join(KEYS)}: {line}")
        if key in cur:
            sys.exit(f"{path}:{n}: {key} given twice")
        cur[key] = value.strip()
        cur.setdefault("_line", n)
    if cur:
        entries.append(cur)
    ids = set()
    for e in entries:
        for k in ("id", "promise", "file", "match", "replace", "tests"):
            if k not in e:
                sys.exit(f"{path}:{e['_line']}: entry lacks {k}")
        if e["id"] in ids:
            sys.exit(f"{path}:{e['_line']}: id {e['id']} repeated")
        ids.add(e["id"])
        e["tests"] = e["tests"].split()
        e["env"] = dict(kv.split("=", 1) for kv in e.get("env", "").split())
        e["build"] = e["build"].split() if "build" in e else None
    return entries


def locate(src, e):
    """The index of the one line E's pattern matches, or an error."""
    path = os.path.join(src, e["file"])
    try:
        lines = open(path, encoding="utf-8").read().split("\n")
    except OSError as x:
        return None, None, f"cannot read {e['file']}: {x.strerror}"
    rx = re.compile(e["match"])
    hits = [i for i, l in enumerate(lines) if rx.search(l)]
    if len(hits) != 1:
        where = ", ".join(str(i + 1) for i in hits[:5])
        return None, None, (f"pattern /{e['match']}/ matches {len(hits)} "
                            f"lines of {e['file']}{' (' + where + ')' if hits else ''}"
                            "; the entry must match exactly one")
    i = hits[0]
    new = rx.sub(lambda m: m.expand(e["replace"]), lines[i], count=1)
    if new == lines[i]:
        return None, None, "the replacement changes nothing"
    return lines, (i, new), None


def sync_tree(src, dst, skip):
    """Copies SRC to DST; files that differ get a new mtime (so that make
    rebuilds what depends on them), files that do not are left alone."""
    for root, dirs, files in os.walk(src):
        rel = os.path.relpath(root, src)
        dirs[:] = [d for d in dirs
                   if os.path.realpath(os.path.join(root, d)) not in skip
                   and not d.startswith("_build") and d != ".git"
                   and d != "autom4te.cache"]
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for f in files:
            s = os.path.join(root, f)
            d = os.path.join(dst, rel, f)
            if f in ("config.status", "config.log") and rel == ".":
                continue
            if os.path.islink(s):
                continue
            if not os.path.exists(d):
                shutil.copy2(s, d)
            elif open(s, "rb").read() != open(d, "rb").read():
                shutil.copy(s, d)
                shutil.copymode(s, d)


def run(cmd, cwd, env=None, log=None):
    with open(log or os.devnull, "ab") as out:
        return subprocess.call(cmd, cwd=cwd, env=env, stdout=out,
                               stderr=subprocess.STDOUT)


def test_result(build, test):
    """PASS, FAIL, SKIP or ERROR from automake's result file for TEST in
    BUILD, None when it has none."""
    base = test[:-3] if test.endswith((".sh", ".py")) else test
    try:
        for l in open(os.path.join(build, base + ".trs")):
            if l.startswith(":test-result:"):
                return l.split()[1]
    except OSError:
        pass
    return None


def make_vars(build, names):
    """Values of the build's Makefile variables NAMES."""
    out = {}
    for l in open(os.path.join(build, "Makefile"), encoding="utf-8"):
        k, sep, v = l.partition(" = ")
        if sep and k in names and k not in out:
            out[k] = v.strip()
    return out


def run_test(build, tree, test, env, log):
    """PASS, FAIL or SKIP of TEST, run as make check runs it (the
    environment of AM_TESTS_ENVIRONMENT, from the build directory) but
    without make check's rebuild of every program."""
    v = make_vars(build, ("SHELL", "PYTHON3", "enable_sanitizers",
                          "enable_testpoints", "CC"))
    e = dict(os.environ)
    e.update(top_srcdir=tree, top_builddir=build,
             PYTHON3=v.get("PYTHON3", "python3"),
             SANITIZERS=v.get("enable_sanitizers", "no"),
             TESTPOINTS=v.get("enable_testpoints", "no"),
             CC=v.get("CC", "cc"))
    e.update(env)
    if test.endswith(".sh"):
        cmd = [v.get("SHELL", "/bin/sh"), os.path.join(tree, test)]
    elif test.endswith(".py"):
        cmd = [e["PYTHON3"], os.path.join(tree, test)]
    else:
        cmd = [os.path.join(build, test)]
    with open(log, "a") as f:
        f.write(f"---- {test}\n")
    rc = run(cmd, build, e, log)
    return {0: "PASS", 77: "SKIP"}.get(rc, "FAIL")


# What a change in each directory must rebuild for the tests to see it;
# the C tests a mutation names are built too.
REBUILD = {
    "pam/": ["pam/pam_scim.la"],
    "nss/": ["nss/libnss_scim.la"],
    "cache/": ["nss/libnss_scim.la", "pam/pam_scim.la", "tools/scim-cache"],
    "tools/": ["tools/scim-cache"],
}


def targets(e):
    t = list(e["build"]) if e["build"] is not None else []
    if e["build"] is None:
        for d, ts in REBUILD.items():
            if e["file"].startswith(d):
                t += ts
    return t + [x for x in e["tests"] if not x.endswith((".sh", ".py"))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--srcdir", required=True)
    ap.add_argument("--builddir", required=True)
    ap.add_argument("--list")
    ap.add_argument("--scratch")
    ap.add_argument("--only")
    ap.add_argument("--jobs", default=str(os.cpu_count() or 2))
    ap.add_argument("--rerun-baseline", action="store_true",
                    help="run every named test unmutated here, even when "
                    "the build directory's own run passed it")
    a = ap.parse_args()
    src = os.path.realpath(a.srcdir)
    builddir = os.path.realpath(a.builddir)
    listfile = a.list or os.path.join(src, "tests/mutation/mutations.txt")
    scratch = os.path.realpath(a.scratch or os.path.join(builddir, "mutation"))
    entries = parse(listfile)
    if a.only:
        want = set(a.only.split(","))
        entries = [e for e in entries if e["id"] in want]
    t0 = time.time()

    # Every pattern first: a stale entry fails the gate before any build.
    bad = 0
    for e in entries:
        _, _, err = locate(src, e)
        if err:
            print(f"ERROR    {e['id']}: {err}")
            bad += 1
    if bad:
        print(f"mutation: {bad} entries do not match the code; fix {listfile}")
        return 1

    # The scratch copy and its build, with the build directory's options.
    cs = subprocess.run(["./config.status", "--config"], cwd=builddir,
                        capture_output=True, text=True)
    if cs.returncode != 0:
        print(f"mutation: {builddir} is not configured")
        return 1
    tree = os.path.join(scratch, "src")
    build = os.path.join(scratch, "build")
    sync_tree(src, tree, {builddir, scratch})
    os.makedirs(build, exist_ok=True)
    log = os.path.join(scratch, "mutation.log")
    open(log, "w").close()
    if not os.path.exists(os.path.join(build, "Makefile")):
        if run(["sh", "-c", f"{tree}/configure {cs.stdout.strip()}"], build,
               log=log) != 0:
            print(f"mutation: configure failed; see {log}")
            return 1
    if run(["make", "-s", f"-j{a.jobs}", "check", "TESTS="], build,
           log=log) != 0:
        print(f"mutation: the unmutated copy does not build; see {log}")
        return 1

    # Each named test must pass unmutated: in the build directory's own
    # run of the suite (CI runs the gate right after it, with the same
    # configuration), or else here.
    baseline = {}
    reused = 0
    for e in entries:
        for t in e["tests"]:
            key = (t, tuple(sorted(e["env"].items())))
            if key in baseline:
                continue
            if not a.rerun_baseline and test_result(builddir, t) == "PASS":
                baseline[key] = "PASS"
                reused += 1
                continue
            r = run_test(build, tree, t, e["env"], log)
            baseline[key] = r
            if r != "PASS":
                print(f"ERROR    {t} {' '.join(f'{k}={v}' for k, v in e['env'].items())}: "
                      f"{r} without a mutation; it can prove nothing")
                bad += 1
    if bad:
        print(f"mutation: {bad} tests do not pass unmutated; see {log}")
        return 1
    print(f"baseline: {len(baseline)} tests pass unmutated ({reused} in "
          f"{builddir}'s own run, {len(baseline) - reused} here)")
    sys.stdout.flush()

    killed = survived = errors = 0
    dirty = []  # programs that may hold a restored file's mutated code
    for e in entries:
        path = os.path.join(tree, e["file"])
        lines, (i, new), _ = locate(tree, e)
        original = "\n".join(lines)
        lines[i] = new
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        try:
            with open(log, "a") as f:
                f.write(f"\n==== {e['id']}: {e['file']}:{i + 1}: {new.strip()}\n")
            want = targets(e)
            if run(["make", "-s", f"-j{a.jobs}"] + dirty + want, build,
                   log=log) != 0:
                print(f"ERROR    {e['id']}: the mutated tree does not build "
                      f"({e['file']}:{i + 1})")
                errors += 1
                continue
            dirty = []
            by = None
            for t in e["tests"]:
                r = run_test(build, tree, t, e["env"], log)
                if r in ("FAIL", "ERROR"):
                    by = t
                    break
            if by:
                killed += 1
                print(f"killed   {e['id']:<24} by {by}  ({e['promise']})")
            else:
                survived += 1
                print(f"SURVIVED {e['id']:<24} {' '.join(e['tests'])} all "
                      f"pass with {e['file']}:{i + 1} changed to: {new.strip()}"
                      f"  ({e['promise']})")
        finally:
            with open(path, "w", encoding="utf-8") as f:
                f.write(original)
            # No mutated object may outlive its mutation: the programs it
            # rebuilt are rebuilt again with the next mutation's.
            dirty = sorted(set(dirty) | set(targets(e)))
        sys.stdout.flush()
    # Leave the scratch build matching the source again.
    run(["make", "-s", f"-j{a.jobs}"], build, log=log)
    n = len(entries)
    print(f"mutation: {killed} of {n} killed, {survived} survived, "
          f"{errors} errors in {time.time() - t0:.0f} s")
    return 0 if killed == n else 1


if __name__ == "__main__":
    sys.exit(main())
