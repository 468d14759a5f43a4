#!/usr/bin/env python3
"""Generate a data file for scim-bridge-emulator.py.

Contract
========
    gen-directory.py --people N --groups G (--per-user K | --big-groups M)
                     [--seed S] [--suspended C] [--domain D] [--pretty] OUT.json
    gen-directory.py --sample [OUT.json]

Writes {"users": [...], "groups": [...]} of 1Password-shaped SCIM resources to
OUT.json (through OUT.json.tmp and a rename, so a running emulator never
reads half a file). The same arguments always give the same bytes.

People: id = 26 characters of upper-case base32 from (seed, index); userName
firstname.lastname@D, unique (a second jane.doe becomes jane.doe2, ...);
name {formatted, familyName, givenName}, displayName, preferredLanguage,
active, emails, meta.resourceType. C people, chosen from the seed, are
suspended (active:false). Some names carry accents; their userName is the
ASCII folding.

Groups: id = 26 characters of lower-case base32 from (seed, index);
distinct displayNames such as "Engineering", "Site Reliability",
"Engineering EMEA"; members [{"value": ID, "display": displayName}] in
person order. With --per-user K each person is in K of the G groups, chosen
from the seed; with --big-groups M each group has M people (consecutive
people from an offset per group, wrapping around).

--sample writes the demo directory: 50 people, 8 groups (names with spaces
and mixed case), one suspended person, seed 1, domain example.com,
pretty-printed; OUT defaults to sample-directory.json beside this script.

Exit status: 0 on success, 2 on bad arguments or an unwritable OUT.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import sys
import time
import unicodedata
from typing import Optional

SCHEMA_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
SCHEMA_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"

GIVEN_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth "
    "William Barbara Richard Susan Joseph Jessica Thomas Sarah Charles Karen "
    "Christopher Lisa Daniel Nancy Matthew Betty Anthony Sandra Mark Margaret "
    "Donald Ashley Steven Kimberly Andrew Emily Paul Donna Joshua Michelle "
    "Kenneth Carol Kevin Amanda Brian Melissa George Deborah Timothy Stephanie "
    "Aisha Mohammed Wei Yuki Priya Arjun Olga Sven Ingrid Mateo Lucia Kwame "
    "Amara Hiroshi Mei Rahul Fatima Omar Chen Nikolai Astrid Diego Ana Tariq "
    "José Zoë Chloé Björn Søren Renée André Małgorzata François Jürgen"
).split()

FAMILY_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez "
    "Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin "
    "Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson "
    "Walker Young Allen King Wright Scott Torres Nguyen Hill Flores "
    "Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts "
    "Okafor Mensah Tanaka Sato Kim Park Singh Patel Sharma Ivanova Petrov "
    "Larsen Nielsen Schmidt Müller Rossi Bianchi Dubois Lefèvre Novak "
    "Kowalski Nowak Yilmaz Haddad Cohen Levi O'Brien Garcia-Lopez Van-Dyke Ng"
).split()

GROUP_NAMES = (
    "Engineering", "Site Reliability", "DevOps", "Data Science", "iOS Team",
    "Customer Support", "Product Management", "QA and Release", "Security",
    "Finance", "Legal", "People Ops", "Marketing", "Sales", "Design",
    "Infrastructure", "Database Admins", "Network Operations", "IT Helpdesk",
    "Research", "Platform", "Mobile", "Web Frontend", "Backend Services",
    "Machine Learning", "Analytics", "Compliance", "Facilities", "Recruiting",
    "Developer Experience", "Build and CI", "Observability", "Storage",
    "Payments", "Identity", "Localization", "Documentation", "Partners",
    "Executive Team", "Interns",
)
GROUP_QUALIFIERS = ("EMEA", "APAC", "Americas", "Leads", "On-call", "Contractors")

CREATED_EPOCH = 1672531200   # 2023-01-01T00:00:00Z


def base32_id(seed: int, kind: str, index: int) -> str:
    """26 base32 characters of a hash of (seed, kind, index), like 1Password's
    ids (16 random bytes); upper case as given, callers lower it for groups."""
    digest = hashlib.sha256(f"{seed}:{kind}:{index}".encode()).digest()[:16]
    return base64.b32encode(digest).decode("ascii").rstrip("=")


def ascii_fold(text: str) -> str:
    """'Zoë O'Brien' -> 'Zoe OBrien': the part of a name an email keeps."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("ø", "o"))
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c in " -"))


def unique_local(base: str, taken: dict) -> str:
    """base the first time, then base2, base3, ... (bases end in letters,
    so a numbered name can never equal another base)."""
    taken[base] = taken.get(base, 0) + 1
    return base if taken[base] == 1 else f"{base}{taken[base]}"


def timestamp(offset_seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(CREATED_EPOCH + offset_seconds))


def make_person(seed: int, index: int, given: str, family: str, local: str,
                domain: str, active: bool) -> dict:
    email = f"{local}@{domain}"
    return {
        "schemas": [SCHEMA_USER],
        "id": base32_id(seed, "person", index),
        "meta": {"resourceType": "User"},
        "userName": email,
        "name": {"formatted": f"{given} {family}", "familyName": family, "givenName": given},
        "displayName": f"{given} {family}",
        "preferredLanguage": "en",
        "active": active,
        "emails": [{"value": email, "primary": True}],
    }


def make_people(count: int, seed: int, domain: str, suspended: int,
                rng: random.Random) -> list:
    inactive = set(rng.sample(range(count), suspended))
    folded = {n: ascii_fold(n).lower() for n in GIVEN_NAMES + FAMILY_NAMES}
    taken: dict = {}
    people = []
    for i in range(count):
        given, family = rng.choice(GIVEN_NAMES), rng.choice(FAMILY_NAMES)
        local = unique_local(f"{folded[given]}.{folded[family]}", taken)
        people.append(make_person(seed, i, given, family, local, domain, i not in inactive))
    return people


def group_names(count: int) -> list:
    """Distinct names: plain ones, then qualified ones, then numbered ones."""
    names = list(GROUP_NAMES)
    names += [f"{base} {q}" for q in GROUP_QUALIFIERS for base in GROUP_NAMES]
    names += [f"Team {n}" for n in range(1, max(0, count - len(names)) + 1)]
    return names[:count]


def make_group(seed: int, index: int, name: str, members: list) -> dict:
    stamp = timestamp(index * 3600)
    return {
        "schemas": [SCHEMA_GROUP],
        "id": base32_id(seed, "group", index).lower(),
        "displayName": name,
        "meta": {"resourceType": "Group", "created": stamp, "lastModified": stamp},
        "members": members,
    }


def member(person: dict) -> dict:
    return {"value": person["id"], "display": person["displayName"]}


def spread_members(people: list, groups: int, per_user: int, rng: random.Random) -> list:
    """Member lists of `groups` groups, each person in `per_user` of them."""
    lists: list = [[] for _ in range(groups)]
    for person in people:
        entry = member(person)
        for g in sorted(pick_distinct(rng, groups, per_user)):
            lists[g].append(entry)
    return lists


def pick_distinct(rng: random.Random, n: int, k: int) -> set:
    """k distinct numbers below n (rejection is much faster than
    random.sample when k is small against n, the usual case)."""
    if 2 * k > n:
        return set(rng.sample(range(n), k))
    picks: set = set()
    while len(picks) < k:
        picks.add(rng.randrange(n))
    return picks


def big_members(people: list, groups: int, size: int) -> list:
    """Member lists of `size` consecutive people, from an offset per group."""
    if not people:
        return [[] for _ in range(groups)]
    stride = max(1, len(people) // max(1, groups))
    doubled = people + people
    lists = []
    for g in range(groups):
        start = (g * stride) % len(people)
        lists.append([member(p) for p in doubled[start:start + size]])
    return lists


def make_directory(people: int, groups: int, per_user: int, big_groups: Optional[int],
                   seed: int, suspended: int, domain: str) -> dict:
    rng = random.Random(seed)
    persons = make_people(people, seed, domain, suspended, rng)
    if big_groups is not None:
        lists = big_members(persons, groups, big_groups)
    else:
        lists = spread_members(persons, groups, per_user, rng)
    names = group_names(groups)
    return {"users": persons,
            "groups": [make_group(seed, i, names[i], lists[i]) for i in range(groups)]}


def pretty(doc: object, indent: int = 0, width: int = 100) -> str:
    """Indented JSON that keeps a value on one line when it fits in width."""
    flat = json.dumps(doc, ensure_ascii=False, separators=(", ", ": "))
    if len(flat) + indent <= width or not isinstance(doc, (dict, list)) or not doc:
        return flat
    pad = " " * (indent + 2)
    if isinstance(doc, dict):
        items = [f"{pad}{json.dumps(k, ensure_ascii=False)}: {pretty(v, indent + 2, width)}"
                 for k, v in doc.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [pad + pretty(v, indent + 2, width) for v in doc]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def write_atomically(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def parse_args(argv: Optional[list]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="gen-directory.py",
                                description="Generate an emulator data file.")
    p.add_argument("out", nargs="?", metavar="OUT.json")
    p.add_argument("--sample", action="store_true", help="write the demo directory")
    p.add_argument("--people", type=int, help="number of people")
    p.add_argument("--groups", type=int, help="number of groups")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--per-user", type=int, help="groups per person")
    how.add_argument("--big-groups", type=int, metavar="MEMBERS_PER_GROUP",
                     help="members per group instead of --per-user")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--suspended", type=int, default=0, help="people with active:false")
    p.add_argument("--domain", default="example.com")
    p.add_argument("--pretty", action="store_true", help="indent the output")
    args = p.parse_args(argv)
    if args.sample:
        apply_sample(args)
    check_args(p, args)
    return args


def apply_sample(args: argparse.Namespace) -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    args.out = args.out or os.path.join(here, "sample-directory.json")
    args.people, args.groups, args.per_user, args.big_groups = 50, 8, 2, None
    args.seed, args.suspended, args.domain, args.pretty = 1, 1, "example.com", True


def check_args(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.out is None:
        p.error("OUT.json is required")
    if args.people is None or args.groups is None:
        p.error("--people and --groups are required (or --sample)")
    if args.per_user is None and args.big_groups is None:
        p.error("one of --per-user and --big-groups is required")
    if args.people < 0 or args.groups < 0 or args.suspended < 0:
        p.error("counts must not be negative")
    if args.suspended > args.people:
        p.error("--suspended is larger than --people")
    if args.per_user is not None and not 0 <= args.per_user <= args.groups:
        p.error("--per-user must be between 0 and --groups")
    if args.big_groups is not None and not 0 <= args.big_groups <= args.people:
        p.error("--big-groups must be between 0 and --people")
    if not args.domain or "@" in args.domain or any(c.isspace() for c in args.domain):
        p.error("--domain must be a plain domain name")


def main(argv: Optional[list] = None) -> int:
    args = parse_args(argv)
    doc = make_directory(args.people, args.groups, args.per_user or 0, args.big_groups,
                         args.seed, args.suspended, args.domain)
    if args.pretty:
        text = pretty(doc) + "\n"
    else:
        text = json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"
    try:
        write_atomically(args.out, text)
    except OSError as e:
        print(f"gen-directory.py: {args.out}: {e.strerror}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
