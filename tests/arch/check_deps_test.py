"""Self-test of check_deps.py: it passes on a tree that keeps to its table and fails, naming the
file, line and arrow, on one that does not (a temporary tree, and a copy of this repository with
a wrong #include injected)."""

import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_deps  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

DOC = """# Architecture

```
a <- b <- c
{a, b} <- d/e
```

| module | may include | owns |
| --- | --- | --- |
| `a` | — | x |
| `b` | `a` | x |
| `c` | `b` | x |
| `d` | — | x |
| `d/e` | `a`, `b` | x |
"""


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


class CheckDepsTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.root)
        write(self.root, "docs/architecture.md", DOC)
        write(self.root, "src/a/a.h", "#pragma once\n#include <vector>\n")
        write(self.root, "src/b/b.h", '#pragma once\n#include "a/a.h"\n')
        write(self.root, "src/c/c.cc", '#include "c/c.h"\n#include "b/b.h"\n')
        write(self.root, "src/d/e/e.cc", '#include "a/a.h"\n#include "b/b.h"\n')
        write(self.root, "src/c/c_test.cc", '#include "testutil/fixtures.h"\n')

    def problems(self):
        return check_deps.check(self.root)

    def test_clean_tree_passes(self):
        self.assertEqual(self.problems(), [])

    def test_arrow_the_table_does_not_allow_fails(self):
        write(self.root, "src/a/bad.cc", '#include "a/a.h"\n\n#include "c/c.h"\n')
        self.assertEqual(self.problems(), [
            'src/a/bad.cc:3: a -> c (#include "c/c.h") is not an arrow of docs/architecture.md'])

    def test_transitive_arrow_is_not_direct_permission(self):
        write(self.root, "src/c/bad.h", '#include "a/a.h"\n')  # c uses b uses a: not c -> a
        self.assertEqual(len(self.problems()), 1)
        self.assertIn("src/c/bad.h:1: c -> a", self.problems()[0])

    def test_subfolder_module_is_its_own_module(self):
        write(self.root, "src/d/bad.cc", '#include "d/e/e.h"\n')  # d -> d/e is not listed
        self.assertIn("src/d/bad.cc:1: d -> d/e", self.problems()[0])
        write(self.root, "src/d/bad.cc", '#include "a/a.h"\n')
        self.assertIn("src/d/bad.cc:1: d -> a", self.problems()[0])

    def test_testutil_only_from_tests(self):
        write(self.root, "src/c/c.cc", '#include "testutil/fixtures.h"\n')
        self.assertIn("src/c/c.cc:1: c -> testutil", self.problems()[0])

    def test_unknown_module_fails(self):
        write(self.root, "src/x/x.cc", "\n")
        self.assertIn("src/x/x.cc: in no module", self.problems()[0])

    def test_diagram_must_agree_with_table(self):
        doc = DOC.replace("a <- b <- c", "a <- b <- c\nc <- a")
        write(self.root, "docs/architecture.md", doc)
        self.assertIn("the diagram draws a -> c, the table does not allow it",
                      "\n".join(self.problems()))
        doc = DOC.replace("a <- b <- c", "a <- b")
        write(self.root, "docs/architecture.md", doc)
        self.assertIn("the table allows c -> b, the diagram does not show it",
                      "\n".join(self.problems()))

    def test_this_repository_with_a_wrong_include_fails(self):
        for top in ("src", "apps", "docs"):
            shutil.copytree(os.path.join(REPO, top), os.path.join(self.root, "repo", top))
        repo = os.path.join(self.root, "repo")
        self.assertEqual(check_deps.check(repo), [])
        header = os.path.join(repo, "src", "oauth", "token_issuer.h")
        with open(header, encoding="utf-8") as f:
            lines = f.read().splitlines()
        lines.insert(3, '#include "storage/store.h"')
        with open(header, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        self.assertEqual(check_deps.check(repo), [
            'src/oauth/token_issuer.h:4: oauth -> storage (#include "storage/store.h") is not an '
            "arrow of docs/architecture.md"])


if __name__ == "__main__":
    unittest.main()
