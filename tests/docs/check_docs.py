"""Checks that the documentation the code cites resolves inside the repository.

1. docs/spec.md is the behaviour contract, vendored from ../shared/SPEC.md: when that file is
   beside the clone (a developer's checkout), the two must be identical.
2. Every `SPEC §N` / `SPEC §N.M` cited in src/, tests/, apps/, bench/, scripts/ and docs/ names a
   section heading of docs/spec.md (`## N. ...` or `### N.M ...`).
3. Every relative Markdown link in README.md and docs/ points at a file that exists.
Prints each problem and exits 1 when there is one."""

import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SPEC = os.path.join(ROOT, "docs", "spec.md")
SHARED = os.path.join(ROOT, "..", "shared", "SPEC.md")
CITED_IN = ["src", "tests", "apps", "bench", "scripts", "docs", "README.md"]
TEXT_SUFFIXES = (".cc", ".h", ".py", ".sh", ".md", ".mjs", ".txt", ".lua")


def files(paths):
    for p in paths:
        full = os.path.join(ROOT, p)
        if os.path.isfile(full):
            yield full
            continue
        for d, dirs, names in os.walk(full):
            dirs[:] = [x for x in dirs if x not in ("corpus", "node_modules")]
            for n in names:
                if n.endswith(TEXT_SUFFIXES):
                    yield os.path.join(d, n)


def main():
    problems = []
    spec = open(SPEC, encoding="utf-8").read()
    if os.path.exists(SHARED) and open(SHARED, encoding="utf-8").read() != spec:
        problems.append("docs/spec.md differs from ../shared/SPEC.md: copy it again")
    sections = set(re.findall(r"^## (\d+)\.", spec, re.M))
    sections |= set(re.findall(r"^### (\d+\.\d+) ", spec, re.M))
    for path in files(CITED_IN):
        if os.path.samefile(path, SPEC):
            continue
        text = open(path, encoding="utf-8", errors="replace").read()
        for m in re.finditer(r"SPEC §(\d+(?:\.\d+)?)", text):
            if m.group(1) not in sections:
                line = text.count("\n", 0, m.start()) + 1
                problems.append(f"{os.path.relpath(path, ROOT)}:{line}: SPEC §{m.group(1)} is not "
                                "a section of docs/spec.md")
        if path.endswith(".md"):
            for m in re.finditer(r"\]\(([^)#\s]+)(#[^)\s]*)?\)", text):
                target = m.group(1)
                if re.match(r"^[a-z]+:", target):
                    continue  # an absolute URL
                if not os.path.exists(os.path.join(os.path.dirname(path), target)):
                    line = text.count("\n", 0, m.start()) + 1
                    problems.append(f"{os.path.relpath(path, ROOT)}:{line}: link to {target} "
                                    "names no file")
    for p in problems:
        print(p)
    print(f"{len(sections)} sections; {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
