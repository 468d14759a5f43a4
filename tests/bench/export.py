#!/usr/bin/env python3
"""Export one data set, as the snapshot serves it, to the other backends.

    export.py PASSWD GROUP HOST_PASSWD HOST_GROUP OUTDIR

PASSWD and GROUP are `getent passwd` and `getent group` through the scim
module, so every backend holds exactly the snapshot's names and numbers.
Writes into OUTDIR:

  files.passwd, files.group   the host's own entries, then the data set
                              (what an admin would put in /etc for nss_files)
  passwd.cache, group.cache   libnss-cache's maps, with their sorted indexes
  passwd.cache.ixname, passwd.cache.ixuid, group.cache.ixname,
  group.cache.ixgid
  sample                      what bench-nss looks up: 1,000 people, 1,000
                              private groups, the largest group
  sizes                       "passwd BYTES", "group BYTES" of the text,
                              "biggroup NAME MEMBERS", "groups_per_user N"

libnss-cache's index: one fixed-width record per entry, sorted by strcmp()
of the key (names, or ids as decimal text): the key, a NUL, the entry's byte
offset in the map as decimal text, NULs up to the common width, a newline.
The module takes the width from the first newline and binary-searches.

Exit status 0, or 2 on bad input.
"""

import os
import random
import sys


def read_lines(path):
    with open(path, "rb") as f:
        return [l for l in f.read().split(b"\n") if l]


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def write_map(path, lines, key_fields):
    """Writes the map and one index per (suffix, field number)."""
    offsets, off = [], 0
    for line in lines:
        offsets.append(off)
        off += len(line) + 1
    write(path, b"".join(l + b"\n" for l in lines))
    for suffix, field in key_fields:
        keys = [(l.split(b":")[field], o) for l, o in zip(lines, offsets)]
        keys.sort()
        recs = [k + b"\0" + str(o).encode() + b"\0" for k, o in keys]
        width = max(len(r) for r in recs)
        write(path + suffix,
              b"".join(r + b"\0" * (width - len(r)) + b"\n" for r in recs))


def main():
    if len(sys.argv) != 6:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    pw_path, gr_path, host_pw, host_gr, out = sys.argv[1:]
    pw, gr = read_lines(pw_path), read_lines(gr_path)
    if not pw or not gr:
        print("export.py: empty data set", file=sys.stderr)
        return 2
    write(os.path.join(out, "files.passwd"),
          b"".join(l + b"\n" for l in read_lines(host_pw) + pw))
    write(os.path.join(out, "files.group"),
          b"".join(l + b"\n" for l in read_lines(host_gr) + gr))
    write_map(os.path.join(out, "passwd.cache"), pw,
              [(".ixname", 0), (".ixuid", 2)])
    write_map(os.path.join(out, "group.cache"), gr,
              [(".ixname", 0), (".ixgid", 2)])

    users = [l.split(b":") for l in pw]
    groups = [l.split(b":") for l in gr]
    uids = {u[2] for u in users}
    private = [g for g in groups if g[2] in uids]
    if not private:
        private = groups
    big = max(groups, key=lambda g: len(g[3].split(b",")) if g[3] else 0)
    rng = random.Random(6)
    with open(os.path.join(out, "sample"), "w") as f:
        for u in rng.sample(users, min(1000, len(users))):
            f.write(f"user {u[0].decode()} {int(u[2])} {int(u[3])}\n")
        for g in rng.sample(private, min(1000, len(private))):
            f.write(f"group {g[0].decode()} {int(g[2])}\n")
        f.write(f"biggroup {big[0].decode()} {int(big[2])}\n")
    with open(os.path.join(out, "sizes"), "w") as f:
        f.write(f"passwd {sum(len(l) + 1 for l in pw)}\n")
        f.write(f"group {sum(len(l) + 1 for l in gr)}\n")
        nmem = len(big[3].split(b",")) if big[3] else 0
        f.write(f"biggroup {big[0].decode()} {nmem}\n")
        memberships = sum(len(g[3].split(b",")) for g in groups if g[3])
        f.write(f"groups_per_user {round(memberships / len(users))}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
