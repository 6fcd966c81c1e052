#!/usr/bin/env python3
"""Checks sluice's module boundaries and include cycles.

usage: tools/check_modules.py [--root DIR] [--allow-cycle A,B ...] [--print-graph]

A module is a directory under src/ whose CMakeLists.txt calls sluice_module(...)
(cmake/SluiceModules.cmake), plus the public headers under include/ that the call lists in
PUBLIC_HEADERS. The call is the one source of truth: CMake builds the module's library from it,
and this tool reads the same text. For every .h/.cc of every module (src/ and the public headers
it owns; public headers are checked like any other file) it reads the #include lines and fails
when

  - a file includes a header of a module that its module does not name in DEPS, or a library
    header (librdkafka, nlohmann, fmt, spdlog, CLI11) whose CMake target is not in LIBS;
  - a public header includes an internal "..." header (it would not compile once installed);
  - a module names a module in DEPS but includes none of its headers (a stale declaration);
  - the declared graph (DEPS) or the actual graph (includes) has a cycle, unless exactly that
    set of modules is in KNOWN_CYCLES (then it is reported as known), or a KNOWN_CYCLES entry
    no longer matches a cycle (then the entry must go);
  - a source file or public header belongs to no module.

Each finding names file:line, the module, what it included and the fix. Exit status: 0 clean,
1 findings, 2 bad usage. tests/, examples/ and bench/ are not checked: they link all of
sluice::sluice and may include any module's headers. Python 3 standard library only. The build runs it before compiling any
module (target sluice_check_modules); scripts/test runs it on its own.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass, field

# Cycles between modules that are known and being removed. Each entry is the exact set of
# modules of one strongly connected component; a cycle through more (or other) modules fails.
KNOWN_CYCLES: list[frozenset[str]] = [
    # Empty: an entry allows one cycle while it is being removed, with a comment saying how.
]

# Library headers whose use must be declared (sluice_module LIBS), by include prefix. Anything
# else in <...> (the standard library, POSIX) is not checked.
EXTERNAL_HEADERS = {
    "librdkafka/": "PkgConfig::RdKafka",
    "nlohmann/": "nlohmann_json::nlohmann_json",
    "fmt/": "fmt::fmt",
    "spdlog/": "spdlog::spdlog",
    "CLI/": "CLI11::CLI11",
}

SOURCE_SUFFIXES = (".h", ".hh", ".hpp", ".cc", ".cpp")
KEYWORDS = ("NAME", "DEPS", "LIBS", "PUBLIC_HEADERS")
FLAGS = ("EXECUTABLE",)

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
CALL_RE = re.compile(r"^\s*sluice_module\s*\(", re.MULTILINE)


@dataclass
class Module:
    name: str
    directory: str  # relative to root, e.g. "src/connectors/kafka"
    cmake_file: str  # relative to root
    line: int
    deps: dict[str, int] = field(default_factory=dict)  # module -> line of its declaration
    libs: set[str] = field(default_factory=set)
    public_headers: list[str] = field(default_factory=list)  # relative to include/


@dataclass
class Finding:
    where: str  # "path:line"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def strip_cmake_comment(line: str) -> str:
    # sluice_module() arguments are plain words, so any '#' starts a comment.
    return line.split("#", 1)[0]


def parse_declarations(root: str, findings: list[Finding]) -> dict[str, Module]:
    """Reads every sluice_module(...) call in src/**/CMakeLists.txt."""
    modules: dict[str, Module] = {}
    src = os.path.join(root, "src")
    for directory, dirs, files in os.walk(src):
        dirs.sort()
        if "CMakeLists.txt" not in files:
            continue
        path = os.path.join(directory, "CMakeLists.txt")
        rel = os.path.relpath(path, root)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        lines = text.splitlines()
        for match in CALL_RE.finditer(text):
            start_line = text.count("\n", 0, match.start()) + 1
            module = parse_call(lines, start_line, match, text, rel, findings)
            if module is None:
                continue
            module.directory = os.path.relpath(directory, root)
            if module.name in modules:
                other = modules[module.name]
                findings.append(Finding(f"{rel}:{start_line}",
                                        f"module {module.name} is already declared at "
                                        f"{other.cmake_file}:{other.line}: give it another NAME"))
                continue
            modules[module.name] = module
    return modules


def parse_call(lines, start_line, match, text, rel, findings):
    # Collects the words up to the closing parenthesis, with the line each came from.
    words: list[tuple[str, int]] = []
    line_no = start_line
    first = text[match.end():].split("\n", 1)[0]
    pending = [(first, start_line)] + [(lines[i], i + 1) for i in range(start_line, len(lines))]
    closed = False
    for content, line_no in pending:
        content = strip_cmake_comment(content)
        if ")" in content:
            content = content.split(")", 1)[0]
            closed = True
        words.extend((w, line_no) for w in content.split())
        if closed:
            break
    where = f"{rel}:{start_line}"
    if not closed:
        findings.append(Finding(where, "sluice_module( has no closing parenthesis"))
        return None
    module = Module(name="", directory="", cmake_file=rel, line=start_line)
    keyword = None
    for word, word_line in words:
        if "${" in word or '"' in word or "(" in word:
            findings.append(Finding(f"{rel}:{word_line}",
                                    f"sluice_module() argument {word!r}: write plain names "
                                    "(this tool reads the call literally, without CMake's "
                                    "variables or quoting)"))
            continue
        if word in KEYWORDS:
            keyword = word
            continue
        if word in FLAGS:
            keyword = None
            continue
        if keyword == "NAME":
            if module.name:
                findings.append(Finding(f"{rel}:{word_line}", f"sluice_module() has two NAMEs"))
            module.name = word
        elif keyword == "DEPS":
            module.deps[word] = word_line
        elif keyword == "LIBS":
            module.libs.add(word)
        elif keyword == "PUBLIC_HEADERS":
            module.public_headers.append(word)
        else:
            findings.append(Finding(f"{rel}:{word_line}",
                                    f"sluice_module() argument {word!r} follows no keyword "
                                    f"(one of {', '.join(KEYWORDS + FLAGS)})"))
    if not module.name:
        findings.append(Finding(where, "sluice_module() without NAME"))
        return None
    return module


def owner_of_source(path: str, modules: dict[str, Module]) -> Module | None:
    """The module whose directory holds `path` (relative to root); the deepest one wins."""
    best = None
    for module in modules.values():
        prefix = module.directory + "/"
        if path.startswith(prefix) and (best is None or len(prefix) > len(best.directory) + 1):
            best = module
    return best


def owner_of_public_header(path: str, modules: dict[str, Module]) -> Module | None:
    """The module owning include/<path>: an exact file entry, else the longest directory."""
    best, best_len = None, -1
    for module in modules.values():
        for entry in module.public_headers:
            if entry.endswith("/"):
                if path.startswith(entry) and len(entry) > best_len:
                    best, best_len = module, len(entry)
            elif path == entry:
                return module
    return best


def module_files(root: str, top: str):
    base = os.path.join(root, top)
    for directory, dirs, files in os.walk(base):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(SOURCE_SUFFIXES):
                yield os.path.relpath(os.path.join(directory, name), root)


def describe(module: Module) -> str:
    return f"{module.name} ({module.directory})"


def find_path(graph: dict[str, set[str]], start: str, goal: str) -> list[str] | None:
    """A shortest path start -> ... -> goal in graph, or None."""
    previous = {start: None}
    queue = [start]
    while queue:
        node = queue.pop(0)
        if node == goal:
            path = []
            while node is not None:
                path.append(node)
                node = previous[node]
            return path[::-1]
        for succ in sorted(graph.get(node, ())):
            if succ not in previous:
                previous[succ] = node
                queue.append(succ)
    return None


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm; returns the components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return result


def cycle_through(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One cycle inside `component`, as a -> b -> ... -> a."""
    members = set(component)
    sub = {n: {s for s in graph.get(n, ()) if s in members} for n in members}
    start = component[0]
    for succ in sorted(sub[start]):
        back = find_path(sub, succ, start)
        if back:
            return [start] + back
    return component + [component[0]]


def check(root: str, allowed_cycles: list[frozenset[str]]) -> tuple[list[Finding], list[str]]:
    findings: list[Finding] = []
    notes: list[str] = []
    modules = parse_declarations(root, findings)
    if not modules:
        findings.append(Finding(os.path.join(root, "src"),
                                "no sluice_module() declaration found under src/"))
        return findings, notes

    for module in modules.values():
        for dep, line in module.deps.items():
            if dep not in modules:
                findings.append(Finding(f"{module.cmake_file}:{line}",
                                        f"{module.name} names unknown module {dep!r} in DEPS "
                                        f"(modules: {', '.join(sorted(modules))})"))
            elif dep == module.name:
                findings.append(Finding(f"{module.cmake_file}:{line}",
                                        f"{module.name} names itself in DEPS"))

    claimed: dict[str, Module] = {}
    for module in modules.values():
        for entry in module.public_headers:
            if entry in claimed:
                findings.append(Finding(f"{module.cmake_file}:{module.line}",
                                        f"public header entry {entry} is claimed by both "
                                        f"{claimed[entry].name} and {module.name}"))
            claimed[entry] = module

    # (file, line, including module, included module, what was included)
    edges: list[tuple[str, int, Module, Module, str]] = []
    used_deps: dict[str, set[str]] = {name: set() for name in modules}
    files_checked = 0

    for top in ("src", "include"):
        for path in module_files(root, top):
            if top == "src":
                module = owner_of_source(path, modules)
            else:
                module = owner_of_public_header(os.path.relpath(path, "include"), modules)
            if module is None:
                if top == "src":
                    fix = ("declare a module for its directory with sluice_module() in a "
                           "CMakeLists.txt there, or move it into a module's directory")
                else:
                    fix = ("add it (or its directory) to PUBLIC_HEADERS of the module that "
                           "implements it")
                findings.append(Finding(f"{path}:1", f"belongs to no module: {fix}"))
                continue
            files_checked += 1
            with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
                for line_no, line in enumerate(f, 1):
                    match = INCLUDE_RE.match(line)
                    if not match:
                        continue
                    check_include(root, path, line_no, top, module, match.group(1),
                                  match.group(2), modules, edges, used_deps, findings)

    actual: dict[str, set[str]] = {name: set() for name in modules}
    declared: dict[str, set[str]] = {
        name: {d for d in m.deps if d in modules and d != name} for name, m in modules.items()}
    evidence: dict[tuple[str, str], str] = {}
    for path, line_no, module, target, what in edges:
        actual[module.name].add(target.name)
        evidence.setdefault((module.name, target.name), f"{path}:{line_no} includes {what}")

    for path, line_no, module, target, what in edges:
        if target.name in module.deps:
            continue
        fix = (f"add {target.name} to DEPS of sluice_module(NAME {module.name}) in "
               f"{module.cmake_file} (with a comment saying why)")
        back = find_path(declared, target.name, module.name)
        if back:
            fix = (f"move the code so that {module.name} does not need {target.name}: "
                   f"declaring it would close the cycle {' -> '.join([module.name] + back)}")
        findings.append(Finding(f"{path}:{line_no}",
                                f"{module.name} includes {what} of module "
                                f"{describe(target)}, which it does not declare. Fix: {fix}"))

    for module in modules.values():
        for dep, line in sorted(module.deps.items()):
            if dep in modules and dep != module.name and dep not in used_deps[module.name]:
                findings.append(Finding(f"{module.cmake_file}:{line}",
                                        f"{module.name} declares DEPS {dep} but none of its "
                                        f"files includes a header of {dep}: remove it"))

    seen_components: set[frozenset[str]] = set()
    for label, graph in (("declared (DEPS)", declared), ("actual (#include)", actual)):
        for component in strongly_connected(graph):
            members = frozenset(component)
            cycle = cycle_through(graph, component)
            detail = "; ".join(evidence.get((a, b), f"{a} declares {b}")
                               for a, b in zip(cycle, cycle[1:]))
            if members in allowed_cycles:
                seen_components.add(members)
                notes.append(f"known cycle in the {label} module graph, allowed by KNOWN_CYCLES "
                             f"in tools/check_modules.py: {' -> '.join(cycle)} ({detail})")
                continue
            where = modules[cycle[0]]
            findings.append(Finding(f"{where.cmake_file}:{where.line}",
                                    f"cycle in the {label} module graph: {' -> '.join(cycle)} "
                                    f"({detail}). Fix: move code so that one of these modules "
                                    "no longer needs the next"))
    for members in allowed_cycles:
        if members not in seen_components:
            findings.append(Finding(known_cycles_location(),
                                    f"KNOWN_CYCLES allows the cycle {' <-> '.join(sorted(members))}"
                                    ", which no longer exists: remove the entry"))

    notes.append(f"{len(modules)} modules, {files_checked} files checked")
    return findings, notes


def known_cycles_location() -> str:
    """tools/check_modules.py:<line of KNOWN_CYCLES>, for findings about its entries."""
    with open(__file__, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if line.startswith("KNOWN_CYCLES"):
                return f"tools/check_modules.py:{line_no}"
    return "tools/check_modules.py"


def check_include(root, path, line_no, top, module, delimiter, target, modules, edges,
                  used_deps, findings):
    where = f"{path}:{line_no}"
    shown = f"<{target}>" if delimiter == "<" else f'"{target}"'

    if target.startswith("sluice/"):
        owner = owner_of_public_header(target, modules)
        if owner is None:
            findings.append(Finding(where, f"{shown} is a public header no module owns: add it to "
                                           "PUBLIC_HEADERS of the module that implements it"))
            return
    elif delimiter == "<":
        for prefix, lib in EXTERNAL_HEADERS.items():
            if target.startswith(prefix) and lib not in module.libs:
                findings.append(Finding(where, f"{module.name} includes {shown} but does not "
                                               f"declare {lib}. Fix: add {lib} to LIBS of "
                                               f"sluice_module(NAME {module.name}) in "
                                               f"{module.cmake_file}"))
        return
    else:
        sibling = os.path.normpath(os.path.join(os.path.dirname(path), target))
        if top == "include":
            if os.path.isfile(os.path.join(root, sibling)):
                owner = owner_of_public_header(os.path.relpath(sibling, "include"), modules)
            else:
                findings.append(Finding(where, f"public header includes internal header {shown}, "
                                               "which is not installed: move what it needs into "
                                               "a public header"))
                return
        else:
            # Internal headers are included relative to src/ ("runtime/task.h"); a name next to
            # the including file also resolves, as it does for the compiler.
            resolved = sibling if os.path.isfile(os.path.join(root, sibling)) else \
                os.path.normpath(os.path.join("src", target))
            if not os.path.isfile(os.path.join(root, resolved)):
                findings.append(Finding(where, f"{shown} does not resolve to a file under src/ "
                                               "(internal headers are included relative to src/)"))
                return
            owner = owner_of_source(resolved, modules)
        if owner is None:
            findings.append(Finding(where, f"{shown} belongs to no module"))
            return
    if owner.name == module.name:
        return
    used_deps[module.name].add(owner.name)
    edges.append((path, line_no, module, owner, shown))


def print_graph(root: str) -> None:
    modules = parse_declarations(root, [])
    for name in sorted(modules):
        module = modules[name]
        deps = " ".join(sorted(module.deps)) or "-"
        print(f"{name:<10} {module.directory:<22} DEPS {deps}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description="Fails on an include of an undeclared module and on cycles between modules.")
    parser.add_argument("--root", default=os.path.join(os.path.dirname(__file__), ".."),
                        help="the source tree (default: this tool's repository)")
    parser.add_argument("--allow-cycle", action="append", metavar="A,B",
                        help="allow exactly this set of modules to form a cycle, instead of "
                             "KNOWN_CYCLES (repeatable; used by the tool's own tests)")
    parser.add_argument("--print-graph", action="store_true",
                        help="print each module's declared dependencies and exit")
    parser.add_argument("--quiet", action="store_true", help="print findings only")
    args = parser.parse_args(argv)
    root = os.path.abspath(args.root)
    if not os.path.isdir(os.path.join(root, "src")):
        print(f"check_modules: {root} has no src/ directory", file=sys.stderr)
        return 2
    if args.print_graph:
        print_graph(root)
        return 0
    allowed = KNOWN_CYCLES
    if args.allow_cycle is not None:
        # An empty value (--allow-cycle "") allows no cycle at all.
        allowed = [frozenset(x for x in entry.split(",") if x) for entry in args.allow_cycle]
        allowed = [entry for entry in allowed if entry]
    findings, notes = check(root, allowed)
    for finding in findings:
        print(f"{finding}", file=sys.stderr)
    if findings:
        print(f"check_modules: {len(findings)} finding(s); module declarations are the "
              "sluice_module() calls in src/**/CMakeLists.txt", file=sys.stderr)
        return 1
    if not args.quiet:
        for note in notes:
            print(f"check_modules: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
