#!/usr/bin/env python3
"""Generate a benchmark data set as passwd- and group-format text.

    gen-data.py --people N --groups G --per-user K [--seed S] OUT_PREFIX
    gen-data.py --people N --groups G --avg-members M [--seed S] OUT_PREFIX

Writes OUT_PREFIX.passwd and OUT_PREFIX.group: the shape scim-cache gives a
1Password directory (names from the email local part, gecos from the full
name, /home/NAME, /bin/bash, a private group per person with gid = uid),
for tests/helpers/mksnap when the real pipeline (emulator and scim-cache) is not
built.  The same arguments always give the same bytes.

--per-user K puts every person in K of the G groups (the 1k/10k/100k sets);
--avg-members M gives each group a random size between 1 and 2M-1 people,
consecutive from a random offset (the "big groups" set).

Exit status 0, or 2 on bad arguments.
"""

import argparse
import random
import sys

UID_BASE = 200000     # people and their private groups
GID_BASE = 1200000    # the directory's groups

GIVEN = ("james mary robert patricia john jennifer michael linda david "
         "elizabeth william barbara richard susan joseph jessica thomas sarah "
         "charles karen christopher lisa daniel nancy matthew betty anthony "
         "sandra mark margaret aisha mohammed wei yuki priya arjun olga sven "
         "ingrid mateo lucia kwame amara hiroshi mei rahul fatima omar chen "
         "nikolai astrid diego ana tariq jose zoe chloe bjorn soren renee "
         "andre malgorzata francois jurgen").split()
FAMILY = ("smith johnson williams brown jones garcia miller davis rodriguez "
          "martinez hernandez lopez gonzalez wilson anderson thomas taylor "
          "moore jackson martin lee perez thompson white harris sanchez clark "
          "ramirez lewis robinson walker young allen king wright scott torres "
          "nguyen hill flores okafor mensah tanaka sato kim park singh patel "
          "sharma ivanova petrov larsen nielsen schmidt muller rossi bianchi "
          "dubois lefevre novak kowalski nowak yilmaz haddad cohen levi "
          "obrien garcia-lopez van-dyke").split()
TEAMS = ("engineering site-reliability devops data-science ios-team "
         "customer-support product-management qa-and-release security "
         "finance legal people-ops marketing sales design infrastructure "
         "database-admins network-operations it-helpdesk research platform "
         "mobile web-frontend backend-services machine-learning analytics "
         "compliance facilities recruiting developer-experience").split()
REGIONS = ("", "-emea", "-amer", "-apac", "-berlin", "-london", "-nyc",
           "-tokyo")


def people(n, rng):
    seen = {}
    for i in range(n):
        g, f = rng.choice(GIVEN), rng.choice(FAMILY)
        base = f"{g}.{f}"
        k = seen.get(base, 0) + 1
        seen[base] = k
        name = base if k == 1 else f"{base}{k}"
        gecos = f"{g.capitalize()} {f.capitalize()}"
        yield name, UID_BASE + i, gecos


def group_names(n):
    names = []
    for region in REGIONS:
        for t in TEAMS:
            names.append(t + region)
    i = 0
    while len(names) < n:
        i += 1
        names.append(f"team-{i}")
    return names[:n]


def memberships_per_user(nusers, ngroups, k, rng):
    members = [[] for _ in range(ngroups)]
    for u in range(nusers):
        for g in rng.sample(range(ngroups), k):
            members[g].append(u)
    return members


def memberships_big(nusers, ngroups, avg, rng):
    members = []
    for _ in range(ngroups):
        size = min(nusers, rng.randint(1, 2 * avg - 1))
        start = rng.randrange(nusers)
        members.append([(start + j) % nusers for j in range(size)])
    return members


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, required=True)
    ap.add_argument("--groups", type=int, required=True)
    how = ap.add_mutually_exclusive_group(required=True)
    how.add_argument("--per-user", type=int)
    how.add_argument("--avg-members", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("out")
    a = ap.parse_args()
    if a.people < 1 or a.groups < 1 or (a.per_user or 1) > a.groups or \
            (a.avg_members is not None and a.avg_members < 1):
        ap.error("bad sizes")
    rng = random.Random(a.seed)
    users = list(people(a.people, rng))
    if a.per_user is not None:
        members = memberships_per_user(a.people, a.groups, a.per_user, rng)
    else:
        members = memberships_big(a.people, a.groups, a.avg_members, rng)
    with open(a.out + ".passwd", "w") as pw:
        for name, uid, gecos in users:
            pw.write(f"{name}:x:{uid}:{uid}:{gecos}:/home/{name}:/bin/bash\n")
    with open(a.out + ".group", "w") as gr:
        for name, uid, _ in users:
            gr.write(f"{name}:x:{uid}:\n")
        for gname, m, gid in zip(group_names(a.groups), members,
                                 range(GID_BASE, GID_BASE + a.groups)):
            mem = ",".join(users[u][0] for u in m)
            gr.write(f"{gname}:x:{gid}:{mem}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
