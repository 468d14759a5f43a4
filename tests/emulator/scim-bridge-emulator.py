#!/usr/bin/env python3
"""SCIM bridge emulator: a stand-in for the 1Password SCIM bridge in tests.

Contract
========
Serves 1Password-shaped SCIM 2.0 Users and Groups, read from a JSON data file,
over HTTP or HTTPS on 127.0.0.1 only, with faults that a test can switch on
and off while the server runs. Python 3 standard library only.

    scim-bridge-emulator.py --data FILE [--token-file FILE] [--port N]
        [--port-file FILE] [--pidfile FILE] [--log FILE]
        [--tls-cert FILE --tls-key FILE] [--max-page N]
        [--fault SPEC]... [--control FILE] [--verbose]

--data FILE      {"users": [...], "groups": [...]}: SCIM resources served
                 verbatim, in file order. Re-read when the file changes
                 (inode, mtime or size, checked on every request). A file that
                 does not parse keeps the previous directory (warning on
                 stderr) and is tried again on the next request; replace it
                 atomically (write a temporary file, rename it over).
--token-file F   The accepted bearer token (surrounding white space stripped),
                 re-read when it changes. Without it nothing is authenticated.
--port N         Port on 127.0.0.1 (default 0: the kernel picks one).
--port-file F    Written (F.tmp, then renamed) with the port once listening.
--pidfile F      Written with the process id before the port file.
--log F          One line appended per answered request:
                 "METHOD PATH[?QUERY] STATUS", written before the response.
--tls-cert/--tls-key  Serve HTTPS with this certificate chain and key.
--max-page N     Largest page served, whatever `count` asks (default 100).
--fault SPEC     Switch a fault on for the whole run (repeatable).
--control F      JSON list of fault specs, re-read when it changes; a missing
                 file means no faults. Replacing it resets the counters of its
                 faults. An invalid file keeps the previous faults (warning).
--verbose        Also print every request to stderr.

SIGTERM or SIGINT: stop listening, remove the port and pid files, exit 0.
Exit status 2: bad command line, unreadable data/token/control file at start.

Endpoints (SCIM ones under /scim/v2, /scim, or no prefix):
    GET /ping                        no token; "pong", text/plain
    GET /health                      {"build","version","reports","retrievedAt"}
    GET /app, /app/status            small HTML status page
    GET /Users, /Groups              ListResponse; startIndex, count, filter
    GET /Users/{id}, /Groups/{id}    one resource or 404
    GET /ServiceProviderConfig, /ResourceTypes[/{id}], /Schemas[/{id}]
Everything but /ping needs "Authorization: Bearer TOKEN" (else 401). Other
methods get 405. Errors are SCIM Error messages with "status" as a string.

Listing: startIndex is 1-based (default 1, values below 1 mean 1); count
defaults to 100 and is capped at --max-page (negative means 0). Filters:
`userName eq "v"` and `id eq "v"` on Users, `displayName eq "v"` and
`id eq "v"` on Groups; the attribute name and operator are case-insensitive,
userName and displayName values compare case-insensitively, ids exactly.
Anything else is 400 invalidFilter.

Faults
======
A spec is NAME or NAME:ARG:ARG. PATH_SUBSTR is matched against the raw
request target (path and query as sent, e.g. "/scim/Users?startIndex=101");
it may contain ':' and may be empty (matches every request). NTH is N (the
Nth matching request only, from 1), N+ (the Nth and all later ones) or *
(every one). Counters count only requests that reach the fault, see order.

  status:CODE:PATH_SUBSTR:NTH  answer CODE with a SCIM error body
  retry-after:SECONDS:TIMES    first TIMES listings get 429 + Retry-After
  unavailable:SECONDS:TIMES    first TIMES listings get 503 + Retry-After
                               (SECONDS: integer, "none" to send no header,
                               or "@N" for an HTTP-date N seconds ahead)
  slow:SECONDS[:PATH_SUBSTR]   sleep SECONDS (fractions allowed) first
  truncate:PATH_SUBSTR:NTH     announce the full Content-Length, send half of
                               the body, drop the connection
  badjson:PATH_SUBSTR:NTH      status 200 with a body that is not JSON
  lie-total:DELTA              listings' totalResults is off by DELTA (signed)
  repeat-page                  startIndex is ignored: every page is page one
  past-end-first-page          a startIndex past the end serves page one
  startindex-zero              listings say "startIndex": 0
  shuffle[:SEED]               resources reordered on each listing (seeded by
                               SEED and the listing's sequence number)
  no-members                   listed groups have no "members" (GET /Groups/{id}
                               still has them)
  case                         attribute names re-cased (UserName, ACTIVE,
                               resources, ...), plus an unknown extension
                               schema block and unknown attributes
  owner                        an account-owner person listed first (never in
                               any group): id NU6SE55LNYMQ4H4QOUUQTMNPLE,
                               userName morgan.owner@DOMAIN (DOMAIN: that of
                               the first user, else example.com)
  auth-500                     authenticated requests get 500

Order for an authenticated request: slow, auth-500, retry-after/unavailable
(listings only), status, then the normal answer, then badjson, truncate.
/ping is never subject to faults.
"""

from __future__ import annotations

import argparse
import email.utils
import hmac
import json
import os
import random
import re
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import traceback
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Optional
from urllib.parse import parse_qsl, unquote

PROG = "scim-bridge-emulator"
HOST = "127.0.0.1"

SCHEMA_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
SCHEMA_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
SCHEMA_LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SCHEMA_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SCHEMA_SPC = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
SCHEMA_RESOURCE_TYPE = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"
SCHEMA_UNKNOWN_EXT = "urn:example:params:scim:schemas:extension:emulator:2.0:Noise"

SCIM_JSON = "application/scim+json"
PLAIN_JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
HTML = "text/html; charset=utf-8"

DEFAULT_COUNT = 100
DEFAULT_MAX_PAGE = 100
HANDSHAKE_TIMEOUT = 10
CONNECTION_TIMEOUT = 60
MAX_REQUEST_BODY = 1 << 20
BRIDGE_BUILD = "209163"
BRIDGE_VERSION = "2.9.16"

OWNER_ID = "NU6SE55LNYMQ4H4QOUUQTMNPLE"
OWNER_USER_LOCAL = "morgan.owner"

RESOURCE_KINDS = ("Users", "Groups", "ServiceProviderConfig", "ResourceTypes", "Schemas")
SCIM_PREFIXES = ("/scim/v2", "/scim", "")


class StartupError(Exception):
    """A problem that stops the emulator before it listens."""


class BadRequest(Exception):
    """A client error answered with a SCIM 400; scim_type is RFC 7644's."""

    def __init__(self, detail: str, scim_type: str):
        super().__init__(detail)
        self.scim_type = scim_type


def warn(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Files that change under a running server


_REQUIRED = object()


class WatchedFile:
    """The parsed content of a file, re-parsed whenever the file changes.

    get() returns the latest content that parsed. A change is a different
    (inode, mtime, size). If the file is missing, get() returns `missing`
    when one was given; otherwise, and when the new content does not parse,
    the previous content is kept (with a warning) and the file is tried again
    on the next call. The first load raises StartupError instead.
    """

    def __init__(self, path: str, parse: Callable[[bytes], object], label: str,
                 missing: object = _REQUIRED):
        self._path = path
        self._parse = parse
        self._label = label
        self._missing = missing
        self._lock = threading.Lock()
        self._key: Optional[tuple] = None
        self._value: object = None
        self._loaded = False

    def get(self) -> object:
        with self._lock:
            self._refresh()
            return self._value

    def _refresh(self) -> None:
        try:
            st = os.stat(self._path)
        except FileNotFoundError:
            if self._missing is not _REQUIRED:
                self._accept("missing", self._missing)
                return
            self._reject("no such file")
            return
        except OSError as e:
            self._reject(e.strerror or str(e))
            return
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        if key == self._key:
            return
        try:
            with open(self._path, "rb") as f:
                value = self._parse(f.read())
        except (OSError, ValueError) as e:
            self._reject(str(e))
            return
        self._accept(key, value)

    def _accept(self, key: object, value: object) -> None:
        self._key, self._value, self._loaded = key, value, True

    def _reject(self, reason: str) -> None:
        message = f"{self._label} {self._path}: {reason}"
        if not self._loaded:
            raise StartupError(message)
        warn(message + " (keeping the previous content)")


# --------------------------------------------------------------------------
# The directory


class Directory:
    """Users and groups of one data file, with an id index for each."""

    def __init__(self, users: list, groups: list):
        self.users = users
        self.groups = groups
        self.users_by_id = index_by_id(users)
        self.groups_by_id = index_by_id(groups)


def index_by_id(resources: list) -> dict:
    """Map id -> resource; with duplicate ids the first one wins."""
    index: dict = {}
    for resource in resources:
        ident = resource.get("id")
        if isinstance(ident, str):
            index.setdefault(ident, resource)
    return index


def parse_directory(raw: bytes) -> Directory:
    """Parse a data file; ValueError unless it has lists of objects."""
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"not JSON: {e}") from None
    if not isinstance(doc, dict):
        raise ValueError("top level is not an object")
    lists = []
    for key in ("users", "groups"):
        items = doc.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ValueError(f'"{key}" is not a list of objects')
        lists.append(items)
    return Directory(*lists)


def parse_token(raw: bytes) -> str:
    token = raw.decode("utf-8", "strict").strip()
    if not token:
        raise ValueError("empty token")
    return token


# --------------------------------------------------------------------------
# Faults


@dataclass
class Fault:
    """One parsed fault spec and its request counter."""

    spec: str
    name: str
    code: int = 0
    seconds: float = 0.0
    retry_after: Optional[str] = None
    times: int = 0
    substr: str = ""
    nth: tuple = (1, True)
    delta: int = 0
    seed: int = 0
    seen: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def matches(self, target: str) -> bool:
        """Count a request if its target contains substr; True if NTH hits."""
        if self.substr not in target:
            return False
        with self.lock:
            self.seen += 1
            n = self.seen
        first, onward = self.nth
        return n == first or (onward and n > first)

    def take(self) -> bool:
        """True for the first `times` calls, False after."""
        with self.lock:
            if self.seen >= self.times:
                return False
            self.seen += 1
            return True

    def next_sequence(self) -> int:
        with self.lock:
            self.seen += 1
            return self.seen


def split_args(spec: str, rest: str, head: int, tail: int) -> list:
    """Split rest into `head` fields, one middle field that may hold ':',
    and `tail` fields: "500:/a:b:2" with head 1, tail 1 -> [500, /a:b, 2]."""
    parts = rest.split(":") if rest else []
    if len(parts) < head + tail + 1:
        raise ValueError(f"{spec!r}: too few arguments")
    end = len(parts) - tail
    return parts[:head] + [":".join(parts[head:end])] + parts[end:]


def parse_int(text: str, what: str, low: Optional[int] = None,
              high: Optional[int] = None) -> int:
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise ValueError(f"{what} {text!r} is not an integer")
    value = int(text)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{what} {value} is out of range")
    return value


def parse_nth(text: str) -> tuple:
    """'*' -> (1, True); 'N+' -> (N, True); 'N' -> (N, False)."""
    if text == "*":
        return (1, True)
    if text.endswith("+"):
        return (parse_int(text[:-1], "NTH", 1), True)
    return (parse_int(text, "NTH", 1), False)


def parse_retry_after(text: str) -> Optional[str]:
    """'none' -> None; '@N' -> '@N' (an HTTP-date made per answer); else int."""
    if text == "none":
        return None
    if text.startswith("@"):
        parse_int(text[1:], "Retry-After date offset", 0)
        return text
    return str(parse_int(text, "Retry-After seconds", 0))


def parse_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"SECONDS {text!r} is not a number") from None
    if not 0 <= value <= 3600:
        raise ValueError(f"SECONDS {text!r} is out of range")
    return value


def _fault_status(f: Fault, rest: str) -> None:
    code, f.substr, nth = split_args(f.spec, rest, 1, 1)
    f.code = parse_int(code, "CODE", 100, 599)
    f.nth = parse_nth(nth)


def _fault_retry(f: Fault, rest: str) -> None:
    parts = rest.split(":")
    if len(parts) != 2:
        raise ValueError(f"{f.spec!r}: expected {f.name}:SECONDS:TIMES")
    f.retry_after = parse_retry_after(parts[0])
    f.times = parse_int(parts[1], "TIMES", 0)
    f.code = 429 if f.name == "retry-after" else 503


def _fault_slow(f: Fault, rest: str) -> None:
    seconds, _, f.substr = rest.partition(":")
    f.seconds = parse_seconds(seconds)


def _fault_nth(f: Fault, rest: str) -> None:
    f.substr, nth = split_args(f.spec, rest, 0, 1)
    f.nth = parse_nth(nth)


def _fault_lie_total(f: Fault, rest: str) -> None:
    f.delta = parse_int(rest, "DELTA")


def _fault_shuffle(f: Fault, rest: str) -> None:
    f.seed = parse_int(rest, "SEED") if rest else 0


def _fault_flag(f: Fault, rest: str) -> None:
    if rest:
        raise ValueError(f"{f.spec!r}: {f.name} takes no arguments")


FAULT_PARSERS = {
    "status": _fault_status,
    "retry-after": _fault_retry,
    "unavailable": _fault_retry,
    "slow": _fault_slow,
    "truncate": _fault_nth,
    "badjson": _fault_nth,
    "lie-total": _fault_lie_total,
    "shuffle": _fault_shuffle,
    "repeat-page": _fault_flag,
    "past-end-first-page": _fault_flag,
    "startindex-zero": _fault_flag,
    "no-members": _fault_flag,
    "case": _fault_flag,
    "owner": _fault_flag,
    "auth-500": _fault_flag,
}


def parse_fault(spec: str) -> Fault:
    """Parse one spec; ValueError names the spec and the problem."""
    if not isinstance(spec, str):
        raise ValueError(f"fault spec {spec!r} is not a string")
    name, colon, rest = spec.partition(":")
    parser = FAULT_PARSERS.get(name)
    if parser is None:
        raise ValueError(f"unknown fault {name!r} in {spec!r}")
    if colon and not rest and name not in ("slow", "shuffle"):
        raise ValueError(f"{spec!r}: empty argument list")
    fault = Fault(spec=spec, name=name)
    parser(fault, rest)
    return fault


def parse_control(raw: bytes) -> list:
    try:
        specs = json.loads(raw) if raw.strip() else []
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"not JSON: {e}") from None
    if not isinstance(specs, list):
        raise ValueError("not a JSON list of fault specs")
    return [parse_fault(s) for s in specs]


class FaultSet:
    """The faults of one request: command-line ones plus the control file's."""

    def __init__(self, faults: list):
        self.faults = faults

    def named(self, name: str) -> list:
        return [f for f in self.faults if f.name == name]

    def first(self, name: str) -> Optional[Fault]:
        found = self.named(name)
        return found[0] if found else None

    def has(self, name: str) -> bool:
        return self.first(name) is not None

    def any_matches(self, name: str, target: str) -> Optional[Fault]:
        """Count the request in every fault `name`; return the first that hits."""
        hit = None
        for fault in self.named(name):
            if fault.matches(target) and hit is None:
                hit = fault
        return hit


# --------------------------------------------------------------------------
# Responses


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str
    headers: list = field(default_factory=list)
    truncate: bool = False


def scim_error_doc(status: int, detail: str, scim_type: Optional[str] = None) -> dict:
    doc = {"schemas": [SCHEMA_ERROR], "status": str(status), "detail": detail}
    if scim_type:
        doc["scimType"] = scim_type
    return doc


def json_response(status: int, doc: object, content_type: str = SCIM_JSON,
                  headers: Optional[list] = None) -> Response:
    body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(status, body, content_type, headers or [])


def error_response(status: int, detail: str, scim_type: Optional[str] = None,
                   headers: Optional[list] = None) -> Response:
    return json_response(status, scim_error_doc(status, detail, scim_type), headers=headers)


def text_response(status: int, text: str, content_type: str = TEXT) -> Response:
    return Response(status, text.encode("utf-8"), content_type)


def iso_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# --------------------------------------------------------------------------
# Routing


@dataclass
class Route:
    kind: str               # a RESOURCE_KINDS entry, "health" or "app"
    ident: Optional[str] = None


def resolve(path: str) -> Optional[Route]:
    """Map a request path to a Route, or None when nothing lives there."""
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    if path == "/health":
        return Route("health")
    if path in ("/app", "/app/status"):
        return Route("app")
    for prefix in SCIM_PREFIXES:
        if not path.startswith(prefix + "/"):
            continue
        parts = path[len(prefix) + 1:].split("/")
        if parts[0] in RESOURCE_KINDS and len(parts) <= 2:
            ident = unquote(parts[1]) if len(parts) == 2 else None
            return Route(parts[0], ident)
    return None


def is_listing(route: Optional[Route]) -> bool:
    return route is not None and route.kind in ("Users", "Groups") and route.ident is None


# --------------------------------------------------------------------------
# Listing: query parameters, filter, page selection


@dataclass
class ListQuery:
    start: int
    count: int
    filter_attr: Optional[str] = None   # lower-cased attribute name
    filter_value: Optional[str] = None


FILTER_RE = re.compile(r'\s*([A-Za-z][A-Za-z0-9._$-]*)\s+(?i:eq)\s+("(?:[^"\\]|\\.)*")\s*')
FILTERABLE = {
    "Users": {"username": False, "id": True},
    "Groups": {"displayname": False, "id": True},
}


def query_int(params: dict, name: str, default: int) -> int:
    text = params.get(name.lower())
    if text is None or text == "":
        return default
    try:
        return parse_int(text.strip(), name)
    except ValueError as e:
        raise BadRequest(str(e), "invalidValue") from None


def parse_filter(kind: str, text: str) -> tuple:
    """`attr eq "value"` -> (attr lower-cased, value); BadRequest otherwise."""
    m = FILTER_RE.fullmatch(text)
    if not m:
        raise BadRequest(f"unsupported filter {text!r}", "invalidFilter")
    attr = m.group(1).lower()
    if attr not in FILTERABLE[kind]:
        raise BadRequest(f"cannot filter {kind} on {m.group(1)!r}", "invalidFilter")
    try:
        value = json.loads(m.group(2))
    except json.JSONDecodeError:
        raise BadRequest(f"bad string in filter {text!r}", "invalidFilter") from None
    return attr, value


def parse_list_query(kind: str, query: str, max_page: int) -> ListQuery:
    """Parameter names are case-insensitive; the last occurrence wins."""
    params = {k.lower(): v for k, v in parse_qsl(query, keep_blank_values=True)}
    start = max(1, query_int(params, "startIndex", 1))
    count = min(max(0, query_int(params, "count", DEFAULT_COUNT)), max_page)
    result = ListQuery(start, count)
    if params.get("filter"):
        result.filter_attr, result.filter_value = parse_filter(kind, params["filter"])
    return result


def get_ci(resource: dict, attr_lower: str) -> object:
    """The value of an attribute whose name matches case-insensitively."""
    for key, value in resource.items():
        if key.lower() == attr_lower:
            return value
    return None


def filter_resources(kind: str, resources: list, q: ListQuery) -> list:
    if q.filter_attr is None:
        return resources
    exact = FILTERABLE[kind][q.filter_attr]
    wanted = q.filter_value if exact else q.filter_value.lower()

    def keep(resource: dict) -> bool:
        value = get_ci(resource, q.filter_attr)
        if not isinstance(value, str):
            return False
        return (value if exact else value.lower()) == wanted

    return [r for r in resources if keep(r)]


def shuffled(resources: list, fault: Fault) -> list:
    """A new order per listing, reproducible from the seed and sequence."""
    rng = random.Random(f"{fault.seed}/{fault.next_sequence()}")
    copy = list(resources)
    rng.shuffle(copy)
    return copy


def select_page(resources: list, q: ListQuery, faults: FaultSet) -> tuple:
    """Apply ordering and paging faults; return (page, startIndex used)."""
    shuffle = faults.first("shuffle")
    if shuffle is not None:
        resources = shuffled(resources, shuffle)
    start = q.start
    if faults.has("repeat-page"):
        start = 1
    if faults.has("past-end-first-page") and start > len(resources):
        start = 1
    return resources[start - 1:start - 1 + q.count], start


def list_response_doc(total: int, page: list, start: int, faults: FaultSet) -> dict:
    lie = faults.first("lie-total")
    return {
        "schemas": [SCHEMA_LIST],
        "totalResults": total + (lie.delta if lie else 0),
        "itemsPerPage": len(page),
        "startIndex": 0 if faults.has("startindex-zero") else start,
        "Resources": page,
    }


# --------------------------------------------------------------------------
# Resource views under faults


def owner_user(directory: Directory) -> dict:
    """An account owner: looks like any person, never provisioned via SCIM."""
    domain = "example.com"
    if directory.users:
        name = directory.users[0].get("userName")
        if isinstance(name, str) and "@" in name:
            domain = name.rsplit("@", 1)[1]
    email = f"{OWNER_USER_LOCAL}@{domain}"
    return {
        "schemas": [SCHEMA_USER],
        "id": OWNER_ID,
        "meta": {"resourceType": "User"},
        "userName": email,
        "name": {"formatted": "Morgan Owner", "familyName": "Owner", "givenName": "Morgan"},
        "displayName": "Morgan Owner",
        "preferredLanguage": "en",
        "active": True,
        "emails": [{"value": email, "primary": True}],
    }


def users_view(directory: Directory, faults: FaultSet) -> list:
    if faults.has("owner"):
        return [owner_user(directory)] + directory.users
    return directory.users


def without_members(group: dict) -> dict:
    return {k: v for k, v in group.items() if k.lower() != "members"}


def add_noise(resource: dict) -> dict:
    """The resource plus an unknown extension schema and unknown attributes."""
    noisy = dict(resource)
    schemas = noisy.get("schemas")
    noisy["schemas"] = (list(schemas) if isinstance(schemas, list) else []) + [SCHEMA_UNKNOWN_EXT]
    noisy[SCHEMA_UNKNOWN_EXT] = {
        "costCenter": "4711",
        "flags": [True, None, 3.5, {"nested": ["deep"]}],
        "manager": {"value": "NOTAPERSON", "displayName": "Nobody"},
    }
    noisy["x-emulator-unknown"] = {"list": [1, 2, {"a": None}], "empty": {}, "text": "ignore me"}
    noisy["nickName"] = None
    return noisy


CASE_EXAMPLES = {"userName": "UserName", "active": "ACTIVE", "Resources": "resources"}


def recase(key: str) -> str:
    """A different casing of key, the same one every time for a key.
    Keys holding ':' are schema URNs and kept as they are."""
    if key in CASE_EXAMPLES:
        return CASE_EXAMPLES[key]
    if ":" in key:
        return key
    variants = [key[:1].upper() + key[1:], key.upper(), key.lower(), key.swapcase()]
    pick = zlib.crc32(key.encode("utf-8")) % len(variants)
    for i in range(len(variants)):
        candidate = variants[(pick + i) % len(variants)]
        if candidate != key:
            return candidate
    return key


def recase_keys(doc: object) -> object:
    if isinstance(doc, dict):
        return {recase(k): recase_keys(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [recase_keys(v) for v in doc]
    return doc


# --------------------------------------------------------------------------
# Fixed documents


def service_provider_config() -> dict:
    return {
        "schemas": [SCHEMA_SPC],
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": 10000},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication scheme using the OAuth Bearer Token Standard",
            "primary": True,
        }],
        "meta": {"resourceType": "ServiceProviderConfig"},
    }


def resource_types() -> list:
    return [
        {"schemas": [SCHEMA_RESOURCE_TYPE], "id": kind, "name": kind,
         "endpoint": f"/{kind}s", "schema": schema,
         "meta": {"resourceType": "ResourceType"}}
        for kind, schema in (("User", SCHEMA_USER), ("Group", SCHEMA_GROUP))
    ]


def schema_attr(name: str, kind: str = "string", **extra: object) -> dict:
    attr = {"name": name, "type": kind, "multiValued": False, "required": False,
            "caseExact": False, "mutability": "readWrite", "returned": "default",
            "uniqueness": "none"}
    attr.update(extra)
    return attr


def schemas() -> list:
    user = [
        schema_attr("userName", required=True, uniqueness="server"),
        schema_attr("name", "complex", subAttributes=[
            schema_attr(n) for n in ("formatted", "familyName", "givenName")]),
        schema_attr("displayName"),
        schema_attr("preferredLanguage"),
        schema_attr("active", "boolean"),
        schema_attr("emails", "complex", multiValued=True, subAttributes=[
            schema_attr("value"), schema_attr("primary", "boolean")]),
    ]
    group = [
        schema_attr("displayName", required=True),
        schema_attr("members", "complex", multiValued=True, subAttributes=[
            schema_attr("value", caseExact=True, mutability="immutable"),
            schema_attr("display", mutability="readOnly")]),
    ]
    return [
        {"schemas": [SCHEMA_SCHEMA], "id": urn, "name": name, "attributes": attrs,
         "meta": {"resourceType": "Schema"}}
        for urn, name, attrs in ((SCHEMA_USER, "User", user), (SCHEMA_GROUP, "Group", group))
    ]


def status_page() -> str:
    return ("<!DOCTYPE html>\n<html><head><title>SCIM bridge</title></head>"
            f"<body><h1>SCIM bridge (emulator)</h1><p>Version {BRIDGE_VERSION}, "
            f"build {BRIDGE_BUILD}: healthy.</p></body></html>\n")


def health_doc() -> dict:
    return {
        "build": BRIDGE_BUILD,
        "version": BRIDGE_VERSION,
        "reports": [{"source": "SCIMServer", "state": "healthy"}],
        "retrievedAt": iso_now(),
    }


# --------------------------------------------------------------------------
# The application: from a request to a Response


class Emulator:
    """Answers requests; shared by all handler threads."""

    def __init__(self, data: WatchedFile, token: Optional[WatchedFile],
                 control: Optional[WatchedFile], cli_faults: list,
                 max_page: int, log_path: Optional[str], verbose: bool):
        self.data = data
        self.token = token
        self.control = control
        self.cli_faults = cli_faults
        self.max_page = max_page
        self.verbose = verbose
        self._log = open(log_path, "a", encoding="utf-8") if log_path else None
        self._log_lock = threading.Lock()

    def close(self) -> None:
        if self._log:
            self._log.close()

    def record(self, method: str, target: str, status: int) -> None:
        line = f"{method} {target} {status}"
        if self.verbose:
            warn(line)
        if self._log is None:
            return
        with self._log_lock:
            self._log.write(line + "\n")
            self._log.flush()

    def current_faults(self) -> FaultSet:
        extra = self.control.get() if self.control else []
        return FaultSet(self.cli_faults + extra)

    def authorized(self, header: Optional[str]) -> bool:
        if self.token is None:
            return True
        scheme, _, credentials = (header or "").strip().partition(" ")
        if scheme.lower() != "bearer":
            return False
        expected = self.token.get().encode("utf-8")
        return hmac.compare_digest(credentials.strip().encode("utf-8"), expected)

    def respond(self, method: str, target: str, authorization: Optional[str]) -> Response:
        path = target.partition("?")[0]
        if path == "/ping":
            return text_response(200, "pong")
        if not self.authorized(authorization):
            return error_response(401, "Invalid or missing bearer token",
                                  headers=[("WWW-Authenticate", 'Bearer realm="scim"')])
        faults = self.current_faults()
        route = resolve(path)
        response = self.injected_error(faults, target, route)
        if response is None:
            response = self.serve(method, target, route, faults)
        if faults.has("case") and response.content_type == SCIM_JSON:
            response = recased(response)
        return self.corrupted(response, faults, target)

    def injected_error(self, faults: FaultSet, target: str,
                       route: Optional[Route]) -> Optional[Response]:
        for slow in faults.named("slow"):
            if slow.substr in target:
                time.sleep(slow.seconds)
        if faults.has("auth-500"):
            return error_response(500, "Provisioning is not enabled for this account")
        if is_listing(route):
            for name in ("retry-after", "unavailable"):
                for fault in faults.named(name):
                    if fault.take():
                        return throttled(fault)
        hit = faults.any_matches("status", target)
        if hit is not None:
            return error_response(hit.code, f"Injected fault {hit.spec}")
        return None

    def corrupted(self, response: Response, faults: FaultSet, target: str) -> Response:
        if faults.any_matches("badjson", target) is not None:
            response = Response(200, b'{"schemas":["' + SCHEMA_LIST.encode() +
                                b'"],"totalResults":3,"Resources":[{"id":"A",,]',
                                response.content_type)
        if faults.any_matches("truncate", target) is not None:
            response.truncate = True
        return response

    def serve(self, method: str, target: str, route: Optional[Route],
              faults: FaultSet) -> Response:
        if route is None:
            return error_response(404, f"No resource at {target.partition('?')[0]}")
        if method != "GET":
            return error_response(405, f"{method} is not supported by the emulator",
                                  headers=[("Allow", "GET")])
        try:
            return self.serve_get(route, target.partition("?")[2], faults)
        except BadRequest as e:
            return error_response(400, str(e), e.scim_type)

    def serve_get(self, route: Route, query: str, faults: FaultSet) -> Response:
        if route.kind == "health":
            return json_response(200, health_doc(), PLAIN_JSON)
        if route.kind == "app":
            return text_response(200, status_page(), HTML)
        if route.kind == "ServiceProviderConfig":
            return json_response(200, service_provider_config())
        if route.kind in ("ResourceTypes", "Schemas"):
            docs = resource_types() if route.kind == "ResourceTypes" else schemas()
            return serve_fixed(docs, route)
        directory = self.data.get()
        if route.ident is None:
            return self.serve_listing(route.kind, query, directory, faults)
        return serve_one(route, directory, faults)

    def serve_listing(self, kind: str, query: str, directory: Directory,
                      faults: FaultSet) -> Response:
        q = parse_list_query(kind, query, self.max_page)
        if kind == "Users":
            resources = users_view(directory, faults)
        else:
            resources = directory.groups
        resources = filter_resources(kind, resources, q)
        page, start = select_page(resources, q, faults)
        if kind == "Groups" and faults.has("no-members"):
            page = [without_members(g) for g in page]
        if faults.has("case"):
            page = [add_noise(r) for r in page]
        return json_response(200, list_response_doc(len(resources), page, start, faults))


def find_resource(route: Route, directory: Directory, faults: FaultSet) -> Optional[dict]:
    if route.kind == "Groups":
        return directory.groups_by_id.get(route.ident)
    if route.ident == OWNER_ID and faults.has("owner"):
        return owner_user(directory)
    return directory.users_by_id.get(route.ident)


def serve_one(route: Route, directory: Directory, faults: FaultSet) -> Response:
    resource = find_resource(route, directory, faults)
    if resource is None:
        return error_response(404, f"Resource {route.ident} not found")
    if faults.has("case"):
        resource = add_noise(resource)
    return json_response(200, resource)


def serve_fixed(docs: list, route: Route) -> Response:
    if route.ident is None:
        return json_response(200, {"schemas": [SCHEMA_LIST], "totalResults": len(docs),
                                   "itemsPerPage": len(docs), "startIndex": 1,
                                   "Resources": docs})
    for doc in docs:
        if doc["id"] == route.ident:
            return json_response(200, doc)
    return error_response(404, f"Resource {route.ident} not found")


def throttled(fault: Fault) -> Response:
    headers = []
    if fault.retry_after is not None:
        value = fault.retry_after
        if value.startswith("@"):
            value = email.utils.formatdate(time.time() + int(value[1:]), usegmt=True)
        headers.append(("Retry-After", value))
    detail = "Too many requests" if fault.code == 429 else "Service unavailable"
    return error_response(fault.code, detail, headers=headers)


def recased(response: Response) -> Response:
    doc = json.loads(response.body)
    new = json_response(response.status, recase_keys(doc), response.content_type,
                        response.headers)
    new.truncate = response.truncate
    return new


# --------------------------------------------------------------------------
# HTTP plumbing


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Without TCP_NODELAY every keep-alive answer waits ~40 ms for the
    # client's delayed ACK (Nagle), which dominated long listings.
    disable_nagle_algorithm = True
    server_version = "scim-bridge-emulator/1"
    timeout = CONNECTION_TIMEOUT

    def do_GET(self) -> None:
        self.answer()

    def do_POST(self) -> None:
        self.answer()

    do_PUT = do_PATCH = do_DELETE = do_POST

    def answer(self) -> None:
        self.discard_body()
        app: Emulator = self.server.app
        try:
            response = app.respond(self.command, self.path, self.headers.get("Authorization"))
        except Exception:   # an emulator bug: say so loudly, still answer
            traceback.print_exc()
            response = error_response(500, "emulator bug, see its stderr")
        app.record(self.command, self.path, response.status)
        self.send(response)

    def discard_body(self) -> None:
        """Read a small request body away so the connection can be reused;
        with a big or chunked one, close the connection after answering."""
        length = self.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) <= MAX_REQUEST_BODY:
            self.rfile.read(int(length))
        elif length is not None or self.headers.get("Transfer-Encoding"):
            self.close_connection = True

    def send(self, r: Response) -> None:
        self.send_response(r.status)
        self.send_header("Content-Type", r.content_type)
        self.send_header("Content-Length", str(len(r.body)))
        for name, value in r.headers:
            self.send_header(name, value)
        self.end_headers()
        if not r.truncate:
            self.wfile.write(r.body)
            return
        self.wfile.write(r.body[:len(r.body) // 2])
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: object) -> None:
        pass   # Emulator.record logs answered requests


class EmulatorServer(ThreadingHTTPServer):
    """Threaded HTTP server; with a TLS context, each connection does its
    TLS handshake in its own thread so a stalled client blocks no one."""

    daemon_threads = True

    def __init__(self, port: int, app: Emulator, tls: Optional[ssl.SSLContext]):
        self.app = app
        self.tls = tls
        super().__init__((HOST, port), Handler)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)   # no reverse DNS lookup
        self.server_name, self.server_port = self.server_address[:2]

    def finish_request(self, request: socket.socket, client_address: tuple) -> None:
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            conn = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return   # a failed handshake is the client's problem
        try:
            super().finish_request(conn, client_address)
        finally:
            conn.close()

    def handle_error(self, request: object, client_address: tuple) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout)):
            return   # clients that hang up, time out or drop TLS
        super().handle_error(request, client_address)


# --------------------------------------------------------------------------
# Start-up


def parse_args(argv: Optional[list]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="scim-bridge-emulator.py",
        description="Emulate a 1Password SCIM bridge on 127.0.0.1 for tests.")
    p.add_argument("--data", required=True, help="JSON data file {users, groups}")
    p.add_argument("--token-file", help="file holding the accepted bearer token")
    p.add_argument("--port", type=int, default=0, help="port (default 0: any free)")
    p.add_argument("--port-file", help="write the bound port here once listening")
    p.add_argument("--pidfile", help="write the process id here")
    p.add_argument("--log", help="append 'METHOD TARGET STATUS' per request")
    p.add_argument("--tls-cert", help="PEM certificate chain: serve HTTPS")
    p.add_argument("--tls-key", help="PEM private key for --tls-cert")
    p.add_argument("--max-page", type=int, default=DEFAULT_MAX_PAGE,
                   help=f"largest page served (default {DEFAULT_MAX_PAGE})")
    p.add_argument("--fault", action="append", default=[], metavar="SPEC",
                   help="fault spec, repeatable (see the module docstring)")
    p.add_argument("--control", help="JSON list of fault specs, re-read on change")
    p.add_argument("--verbose", action="store_true", help="print requests to stderr")
    args = p.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")
    if args.max_page < 1:
        p.error("--max-page must be at least 1")
    if not 0 <= args.port <= 65535:
        p.error("--port must be 0..65535")
    return args


def tls_context(cert: Optional[str], key: Optional[str]) -> Optional[ssl.SSLContext]:
    if not cert:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as e:
        raise StartupError(f"TLS certificate {cert} / key {key}: {e}") from None
    return ctx


def build_emulator(args: argparse.Namespace) -> Emulator:
    """Load every input once so that bad ones stop the start (StartupError)."""
    try:
        cli_faults = [parse_fault(spec) for spec in args.fault]
    except ValueError as e:
        raise StartupError(f"--fault: {e}") from None
    data = WatchedFile(args.data, parse_directory, "data file")
    token = WatchedFile(args.token_file, parse_token, "token file") if args.token_file else None
    control = (WatchedFile(args.control, parse_control, "control file", missing=[])
               if args.control else None)
    for watched in (data, token, control):
        if watched is not None:
            watched.get()
    try:
        return Emulator(data, token, control, cli_faults, args.max_page, args.log, args.verbose)
    except OSError as e:
        raise StartupError(f"log file {args.log}: {e.strerror}") from None


def write_atomically(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def remove_quietly(path: Optional[str]) -> None:
    if path:
        try:
            os.unlink(path)
        except OSError:
            pass


def stop_on_signals(server: EmulatorServer) -> None:
    """SIGTERM/SIGINT make serve_forever return (shutdown() must run in
    another thread than the one serving)."""

    def handler(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run(args: argparse.Namespace) -> int:
    app = build_emulator(args)
    tls = tls_context(args.tls_cert, args.tls_key)
    try:
        server = EmulatorServer(args.port, app, tls)
    except OSError as e:
        raise StartupError(f"cannot listen on {HOST}:{args.port}: {e.strerror}") from None
    stop_on_signals(server)
    try:
        if args.pidfile:
            write_atomically(args.pidfile, f"{os.getpid()}\n")
        if args.port_file:
            write_atomically(args.port_file, f"{server.server_port}\n")
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        app.close()
        remove_quietly(args.port_file)
        remove_quietly(args.pidfile)
    return 0


def main(argv: Optional[list] = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except StartupError as e:
        warn(str(e))
        return 2


if __name__ == "__main__":
    sys.exit(main())
