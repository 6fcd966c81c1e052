#!/usr/bin/env python3
"""Tests of tools/check_modules.py: small fake source trees, each written into a temporary
directory, and the tool run on them the way scripts and the build run it (exit status,
messages). `--allow-cycle ""` replaces the repository's KNOWN_CYCLES with none.
"""

import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOOL = os.path.join(REPO, "tools", "check_modules.py")


def write_tree(root, files):
    for path, text in files.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(text).lstrip("\n"))


def module(name, deps="", libs="", headers=""):
    text = f"sluice_module(NAME {name}\n"
    if deps:
        text += f"  DEPS {deps}  # why, in a comment\n"
    if libs:
        text += f"  LIBS {libs}\n"
    if headers:
        text += f"  PUBLIC_HEADERS {headers}\n"
    return text + ")\n"


# Three modules in a line: base <- mid <- top, with public headers for base.
CLEAN = {
    "src/base/CMakeLists.txt": module("base", headers="sluice/base.h sluice/base/"),
    "src/base/base.h": "#pragma once\n#include <sluice/base.h>\n",
    "src/base/base.cc": '#include "base/base.h"\n#include <vector>\n',
    "include/sluice/base.h": "#pragma once\n#include <cstdint>\n",
    "include/sluice/base/more.h": '#pragma once\n#include "../base.h"\n',
    "src/mid/CMakeLists.txt": module("mid", deps="base"),
    "src/mid/mid.h": '#pragma once\n#include "base/base.h"\n',
    "src/mid/mid.cc": '#include "mid/mid.h"\n#include "mid.h"\n',
    "src/top/CMakeLists.txt": module("top", deps="mid base"),
    "src/top/top.cc": '#include "mid/mid.h"\n#include <sluice/base/more.h>\n',
}


class CheckModulesTest(unittest.TestCase):
    def run_tool(self, files, *args):
        with tempfile.TemporaryDirectory() as root:
            write_tree(root, files)
            done = subprocess.run([sys.executable, TOOL, "--root", root, *args],
                                  capture_output=True, text=True, check=False)
        return done.returncode, done.stdout, done.stderr

    def test_clean_tree_passes(self):
        rc, out, err = self.run_tool(CLEAN, "--allow-cycle", "")
        self.assertEqual(rc, 0, err)
        self.assertIn("3 modules", out)

    def test_undeclared_include_fails_with_file_line_module_and_fix(self):
        files = dict(CLEAN)
        files["src/mid/extra.cc"] = '#include <string>\n#include "top/top.h"\n'
        files["src/top/top.h"] = "#pragma once\n"
        rc, _, err = self.run_tool(files, "--allow-cycle", "")
        self.assertEqual(rc, 1)
        self.assertIn('src/mid/extra.cc:2: mid includes "top/top.h" of module top (src/top), '
                      "which it does not declare", err)
        # Declaring it would close top -> mid -> top: the fix is to move code.
        self.assertIn("declaring it would close the cycle mid -> top -> mid", err)
        # The include is also a cycle in the actual graph.
        self.assertIn("cycle in the actual (#include) module graph: mid -> top -> mid", err)

    def test_undeclared_include_without_cycle_says_which_deps_to_extend(self):
        files = dict(CLEAN)
        files["src/mid/CMakeLists.txt"] = module("mid")
        rc, _, err = self.run_tool(files, "--allow-cycle", "")
        self.assertEqual(rc, 1)
        self.assertIn('src/mid/mid.h:2: mid includes "base/base.h" of module base (src/base)', err)
        self.assertIn("add base to DEPS of sluice_module(NAME mid) in src/mid/CMakeLists.txt",
                      err)

    def test_declared_cycle_fails(self):
        files = dict(CLEAN)
        files["src/base/CMakeLists.txt"] = module("base", deps="top",
                                                  headers="sluice/base.h sluice/base/")
        files["src/base/uses_top.cc"] = '#include "top/top.h"\n'
        files["src/top/top.h"] = "#pragma once\n"
        rc, _, err = self.run_tool(files, "--allow-cycle", "")
        self.assertEqual(rc, 1)
        self.assertIn("cycle in the declared (DEPS) module graph: base -> top -> base", err)
        self.assertIn('src/base/uses_top.cc:1 includes "top/top.h"', err)

    def test_allowed_cycle_is_reported_and_passes(self):
        files = dict(CLEAN)
        files["src/base/CMakeLists.txt"] = module("base", deps="mid",
                                                  headers="sluice/base.h sluice/base/")
        files["src/base/uses_mid.cc"] = '#include "mid/mid.h"\n'
        rc, out, err = self.run_tool(files, "--allow-cycle", "base,mid")
        self.assertEqual(rc, 0, err)
        self.assertIn("known cycle in the actual (#include) module graph", out)
        self.assertIn("base -> mid -> base", out)

    def test_allowed_cycle_does_not_cover_a_larger_one(self):
        files = dict(CLEAN)
        files["src/base/CMakeLists.txt"] = module("base", deps="top",
                                                  headers="sluice/base.h sluice/base/")
        files["src/base/uses_top.cc"] = '#include "top/top.h"\n'
        files["src/top/top.h"] = "#pragma once\n"
        rc, _, err = self.run_tool(files, "--allow-cycle", "base,top")
        self.assertEqual(rc, 1)  # the component is base, mid, top
        self.assertIn("cycle in the declared (DEPS) module graph", err)
        self.assertIn("KNOWN_CYCLES allows the cycle base <-> top, which no longer exists", err)

    def test_allowed_cycle_that_is_gone_must_be_removed(self):
        rc, _, err = self.run_tool(CLEAN, "--allow-cycle", "mid,top")
        self.assertEqual(rc, 1)
        self.assertIn("KNOWN_CYCLES allows the cycle mid <-> top, which no longer exists: "
                      "remove the entry", err)

    def test_unused_declared_dependency_fails(self):
        files = dict(CLEAN)
        files["src/top/CMakeLists.txt"] = module("top", deps="mid base")
        files["src/top/top.cc"] = '#include "mid/mid.h"\n'
        rc, _, err = self.run_tool(files, "--allow-cycle", "")
        self.assertEqual(rc, 1)
        self.assertIn("src/top/CMakeLists.txt:2: top declares DEPS base but none of its files "
                      "includes a header of base: remove it", err)

    def test_undeclared_library_fails(self):
        files = dict(CLEAN)
        files["src/base/kafka.cc"] = "#include <librdkafka/rdkafka.h>\n"
        rc, _, err = self.run_tool(files, "--allow-cycle", "")
        self.assertEqual(rc, 1)
        self.assertIn("src/base/kafka.cc:1: base includes <librdkafka/rdkafka.h> but does not "
                      "declare PkgConfig::RdKafka", err)
        files["src/base/CMakeLists.txt"] = module("base", libs="PkgConfig::RdKafka",
                                                  headers="sluice/base.h sluice/base/")
        rc, _, err = self.run_tool(files, "--allow-cycle", "")
        self.assertEqual(rc, 0, err)

    def test_public_headers_are_checked_too(self):
        files = dict(CLEAN)
        files["include/sluice/base/more.h"] = "#pragma once\n#include <sluice/mid.h>\n"
        files["src/mid/CMakeLists.txt"] = module("mid", deps="base", headers="sluice/mid.h")
        files["include/sluice/mid.h"] = "#pragma once\n"
        rc, _, err = self.run_tool(files, "--allow-cycle", "")
        self.assertEqual(rc, 1)
        self.assertIn("include/sluice/base/more.h:2: base includes <sluice/mid.h> of module mid",
                      err)

    def test_public_header_must_not_include_internal_header(self):
        files = dict(CLEAN)
        files["include/sluice/base.h"] = '#pragma once\n#include "base/base.h"\n'
        rc, _, err = self.run_tool(files, "--allow-cycle", "")
        self.assertEqual(rc, 1)
        self.assertIn('include/sluice/base.h:2: public header includes internal header '
                      '"base/base.h"', err)

    def test_files_outside_every_module_fail(self):
        files = dict(CLEAN)
        files["src/stray/stray.cc"] = "int x;\n"
        files["include/sluice/orphan.h"] = "#pragma once\n"
        rc, _, err = self.run_tool(files, "--allow-cycle", "")
        self.assertEqual(rc, 1)
        self.assertIn("src/stray/stray.cc:1: belongs to no module", err)
        self.assertIn("include/sluice/orphan.h:1: belongs to no module", err)

    def test_declarations_must_be_literal(self):
        files = dict(CLEAN)
        files["src/top/CMakeLists.txt"] = "sluice_module(NAME top DEPS ${MY_DEPS})\n"
        rc, _, err = self.run_tool(files, "--allow-cycle", "")
        self.assertEqual(rc, 1)
        self.assertIn("write plain names", err)

    def test_unknown_dependency_fails(self):
        files = dict(CLEAN)
        files["src/top/CMakeLists.txt"] = module("top", deps="mid base nosuch")
        rc, _, err = self.run_tool(files, "--allow-cycle", "")
        self.assertEqual(rc, 1)
        self.assertIn("top names unknown module 'nosuch' in DEPS", err)

    def test_repository_passes(self):
        done = subprocess.run([sys.executable, TOOL, "--root", REPO], capture_output=True,
                              text=True, check=False)
        self.assertEqual(done.returncode, 0, done.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
