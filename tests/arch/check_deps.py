"""Checks the module dependencies of docs/architecture.md against the #include lines.

docs/architecture.md holds the one list of allowed arrows: the "may include" column of its
module table. This script fails when
1. a file under src/<module>/ (or apps/) includes "x/..." of a module x that its row does not
   list (test sources, *_test.cc and test_*.h, may also include "testutil/..."), naming
   file:line and the arrow;
2. the diagram above the table draws an arrow the table does not allow, or the table allows
   one the diagram does not show (directly or through other arrows).
A module is a folder under src/ named in the table; a row may name a subfolder (`config/store`),
which is then a module of its own. Usage: check_deps.py [ROOT] (default: this repository)."""

import os
import re
import sys

TEST_ONLY = "testutil"


def parse_table(doc):
    """{module: set of modules it may include} from the table whose header has "may include"."""
    allowed = {}
    lines = doc.splitlines()
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and "may include" in cells:
            col = cells.index("may include")
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                rc = [c.strip() for c in row.strip().strip("|").split("|")]
                name = re.fullmatch(r"`([a-z_/]+)`", rc[0])
                if not name:
                    raise SystemExit(f"architecture.md: module cell {rc[0]!r} is not `name`")
                allowed[name.group(1)] = set(re.findall(r"`([a-z_/]+)`", rc[col]))
            return allowed
    raise SystemExit("architecture.md: no module table with a 'may include' column")


def parse_diagram(doc):
    """Arrows (user, used) of the first ``` block: lines `a <- b <- c`, `{a, b} <- c`."""
    block = re.search(r"^```\n(.*?)^```", doc, re.M | re.S)
    if not block:
        raise SystemExit("architecture.md: no diagram")
    arrows = set()
    for line in block.group(1).splitlines():
        if not line.strip():
            continue
        groups = [re.findall(r"[a-z_/]+", part) for part in line.split("<-")]
        for used, users in zip(groups, groups[1:]):
            if len(users) != 1:
                raise SystemExit(f"architecture.md: diagram line {line!r}: one user per arrow")
            arrows |= {(users[0], u) for u in used}
    return arrows


def closure(arrows):
    reach = {}
    for a, b in arrows:
        reach.setdefault(a, set()).add(b)
    changed = True
    while changed:
        changed = False
        for a in reach:
            more = set().union(*(reach.get(b, set()) for b in reach[a])) - reach[a]
            if more:
                reach[a] |= more
                changed = True
    return {(a, b) for a in reach for b in reach[a]}


def module_of(rel, modules):
    """The longest module whose folder holds `rel` (a path like "config/store/x.h")."""
    best = None
    for m in modules:
        if rel == m or rel.startswith(m + "/"):
            if best is None or len(m) > len(best):
                best = m
    return best


def check_includes(root, allowed):
    problems = []
    sources = []
    for top, prefix in (("src", ""), ("apps", "apps/")):
        for d, _, names in os.walk(os.path.join(root, top)):
            for n in sorted(names):
                if n.endswith((".h", ".cc")):
                    full = os.path.join(d, n)
                    sources.append((full, prefix + os.path.relpath(full, os.path.join(root, top))))
    for full, rel in sorted(sources):
        user = module_of(rel, allowed)
        shown = os.path.relpath(full, root)
        if user is None:
            problems.append(f"{shown}: in no module of the table in docs/architecture.md")
            continue
        name = os.path.basename(rel)
        is_test = name.endswith("_test.cc") or (name.startswith("test_") and name.endswith(".h"))
        with open(full, encoding="utf-8") as f:
            for no, line in enumerate(f, 1):
                inc = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                if not inc or "/" not in inc.group(1):
                    continue
                path = inc.group(1)
                used = module_of(path, allowed)
                if used is None and path.split("/")[0] == TEST_ONLY and is_test:
                    continue
                if used == user:
                    continue
                if used is None or used not in allowed[user]:
                    problems.append(f"{shown}:{no}: {user} -> {used or path.split('/')[0]} "
                                    f"(#include \"{path}\") is not an arrow of "
                                    f"docs/architecture.md")
    return problems


def check_diagram(allowed, arrows):
    table = {(a, b) for a, bs in allowed.items() for b in bs}
    problems = []
    for a, b in sorted(arrows - table):
        problems.append(f"docs/architecture.md: the diagram draws {a} -> {b}, the table does not "
                        f"allow it")
    implied = closure(arrows)
    for a, b in sorted(table - implied):
        problems.append(f"docs/architecture.md: the table allows {a} -> {b}, the diagram does not "
                        f"show it")
    for m in sorted({x for arrow in arrows for x in arrow} - set(allowed)):
        problems.append(f"docs/architecture.md: the diagram names {m}, the table has no row for it")
    return problems


def check(root):
    with open(os.path.join(root, "docs", "architecture.md"), encoding="utf-8") as f:
        doc = f.read()
    allowed = parse_table(doc)
    for m, uses in allowed.items():
        for u in sorted(uses - set(allowed)):
            raise SystemExit(f"architecture.md: {m} may include {u}, which has no row")
    return check_diagram(allowed, parse_diagram(doc)) + check_includes(root, allowed)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..")
    problems = check(os.path.abspath(root))
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
