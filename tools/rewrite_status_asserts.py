#!/usr/bin/env python3
"""Rewrites bare Status checks in GoogleTest files into the matchers of
<sluice/testing/status_matchers.h>, so that a failing check prints the status and its message.

    tools/rewrite_status_asserts.py [--check] FILE...

Rewrites, statement by statement (a statement may span lines; string literals are skipped):

    ASSERT_TRUE(E.ok()) << E.status().ToString();   ->  ASSERT_THAT(E, IsOk());
    EXPECT_FALSE(E.ok()) << why;                    ->  EXPECT_THAT(E, Not(IsOk())) << why;
    EXPECT_EQ(E.code(), C)   (either order)         ->  EXPECT_THAT(E, StatusIs(C));
    EXPECT_EQ(E.status().code(), C)                 ->  EXPECT_THAT(E, StatusIs(C));
    EXPECT_NE(E.code(), C)                          ->  EXPECT_THAT(E, Not(StatusIs(C)));
    EXPECT_NE(M.message().find(S), std::string::npos) -> EXPECT_THAT(M.message(), HasSubstr(S));
    EXPECT_EQ(M.message().find(S), std::string::npos) -> ... Not(HasSubstr(S))
    EXPECT_EQ(M.message().rfind(S, 0), 0u)          ->  EXPECT_THAT(M.message(), StartsWith(S));

A streamed message stays, minus what the matcher now prints itself: the status
(`<< E.ToString()`, `<< E.status().ToString()`, with a `<< ": "` before it) or the checked
message (`<< M.message()`). `E.ok()`
inside a compound condition (`a.ok() && b.ok()`) is left alone, and so is `E.ok()` on a
variable the file declares as a JobExecutionResult (its ok() is not a Status's). Anything else
that is not a Status or Result<T> fails to compile (the matchers are constrained to them); fix
those by hand. The file gets the include and the using-declarations it needs. Run
scripts/format afterwards.

--check: rewrite nothing; list what would change and exit 1 if anything would.

How it was run over the tree (tests of Status itself, the matchers' own test, and programs
that do not link gmock left out):

    git grep -lE '(ASSERT|EXPECT)_' -- 'tests/*.cc' 'tests/*.h' \
      | grep -vE 'tests/(crash|install)/|core/status(_matchers)?_test|kafka_test_env' \
      | xargs tools/rewrite_status_asserts.py && scripts/format $(git diff --name-only)
"""

import argparse
import re
import sys

MACRO = re.compile(r"\b(ASSERT|EXPECT)_(TRUE|FALSE|EQ|NE)\(")


def skip_literal(text, i):
    """If a string or char literal starts at i, returns the index after it, else i."""
    raw = re.match(r'(?:u8|u|U|L)?R"([^()\\\s]{0,16})\(', text[i:])
    if raw and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
        end = text.find(")" + raw.group(1) + '"', i + raw.end())
        return end + len(raw.group(1)) + 2
    if text[i] in "\"'":
        if text[i] == "'" and i > 0 and text[i - 1].isalnum():
            return i  # digit separator: 1'000
        quote = text[i]
        j = i + 1
        while text[j] != quote:
            j += 2 if text[j] == "\\" else 1
        return j + 1
    return i


def match_paren(text, open_index):
    """The index of the parenthesis closing the one at open_index."""
    depth = 0
    i = open_index
    while i < len(text):
        j = skip_literal(text, i)
        if j != i:
            i = j
            continue
        c = text[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError("unbalanced parentheses")


def split_top_level(text, sep=","):
    """Splits at separators outside brackets and literals. Commas inside template arguments
    split too; the rules then do not match and the statement is left alone."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        j = skip_literal(text, i)
        if j != i:
            i = j
            continue
        c = text[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def statement_end(text, i):
    """From just after a macro's closing parenthesis: the index of the ending ';'."""
    while i < len(text):
        j = skip_literal(text, i)
        if j != i:
            i = j
            continue
        if text[i] == ";":
            return i
        if text[i] in "([{":
            i = match_paren(text, i) + 1
            continue
        i += 1
    raise ValueError("no ';'")


def is_simple(expr):
    """An expression we may move into a matcher argument unchanged."""
    e = expr.strip()
    if not e or e.startswith("!"):
        return False
    depth = 0
    i = 0
    while i < len(e):
        j = skip_literal(e, i)
        if j != i:
            i = j
            continue
        c = e[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0 and (e.startswith("&&", i) or e.startswith("||", i) or c in "?=<>"):
            if not e.startswith("->", i - 1):
                return False
        i += 1
    return True


def strip_status_message(message, subject):
    """Drops `<< subject.ToString()` / `<< subject.status().ToString()` (and a `<< ": "`
    before it) from a streamed message: the matcher prints the status itself."""
    if not message:
        return message
    subject = subject.strip()
    pieces = [p for p in re.split(r"<<", message)]
    # pieces[0] is whatever precedes the first << (whitespace)
    items = [p.strip() for p in pieces[1:]]
    redundant = {subject + ".ToString()", subject + ".status().ToString()"}
    out = []
    for item in items:
        if item in redundant:
            if out and out[-1] in ('": "', "': '"):
                out.pop()
            continue
        out.append(item)
    if not out:
        return ""
    return " << " + " << ".join(out)


def strip_repeated(message, value):
    """Drops `<< value` from a streamed message: the matcher prints the value it checks."""
    if not message:
        return message
    items = [p.strip() for p in message.split("<<")[1:]]
    out = [item for item in items if item != value.strip()]
    return (" << " + " << ".join(out)) if out else ""


def rewrite_statement(kind, check, args_text, message, jer_names):
    """Returns (replacement text without ';', set of names used) or None to leave it."""
    args = [a.strip() for a in split_top_level(args_text)]
    if check in ("TRUE", "FALSE"):
        if len(args) != 1:
            return None
        m = re.fullmatch(r"(.*)\.ok\(\)", args[0], re.S)
        if not m or not is_simple(m.group(1)):
            return None
        subject = m.group(1).strip()
        if subject in jer_names:
            return None
        message = strip_status_message(message, subject)
        if check == "TRUE":
            return f"{kind}_THAT({subject}, IsOk()){message}", {"IsOk"}
        return f"{kind}_THAT({subject}, Not(IsOk())){message}", {"IsOk", "Not"}
    if len(args) != 2:
        return None
    a, b = args
    # Status codes.
    for x, y in ((a, b), (b, a)):
        m = re.fullmatch(r"(.*?)(?:\.status\(\))?\.code\(\)", x, re.S)
        if m and re.fullmatch(r"(?:sluice::)?StatusCode::k\w+", y) and is_simple(m.group(1)):
            subject = m.group(1).strip()
            message = strip_status_message(message, subject)
            if check == "EQ":
                return f"{kind}_THAT({subject}, StatusIs({y})){message}", {"StatusIs"}
            return f"{kind}_THAT({subject}, Not(StatusIs({y}))){message}", {"StatusIs", "Not"}
    # Substrings of a message.
    for x, y in ((a, b), (b, a)):
        m = re.fullmatch(r"(.*\.message\(\))\.find\((.*)\)", x, re.S)
        if m and y == "std::string::npos" and is_simple(m.group(1)):
            args_inner = split_top_level(m.group(2))
            if len(args_inner) != 1:
                continue
            needle = args_inner[0].strip()
            message = strip_repeated(message, m.group(1))
            if check == "NE":
                return f"{kind}_THAT({m.group(1)}, HasSubstr({needle})){message}", {"HasSubstr"}
            return (
                f"{kind}_THAT({m.group(1)}, Not(HasSubstr({needle}))){message}",
                {"HasSubstr", "Not"},
            )
    if check == "EQ":
        for x, y in ((a, b), (b, a)):
            m = re.fullmatch(r"(.*\.message\(\))\.rfind\((.*)\)", x, re.S)
            if m and y in ("0u", "0U", "0", "size_t{0}") and is_simple(m.group(1)):
                inner = [p.strip() for p in split_top_level(m.group(2))]
                if len(inner) == 2 and inner[1] in ("0", "0u"):
                    message = strip_repeated(message, m.group(1))
                    return (
                        f"{kind}_THAT({m.group(1)}, StartsWith({inner[0]})){message}",
                        {"StartsWith"},
                    )
    return None


def job_result_names(text):
    names = set(re.findall(r"\bJobExecutionResult\s+(\w+)\s*[=;({]", text))
    names |= set(re.findall(r"\bauto\s+(\w+)\s*=\s*[^;]*(?:->|\.)(?:Execute|WaitForResult)\(", text))
    return names


def rewrite(text):
    jer = job_result_names(text)
    out = []
    used = set()
    pos = 0
    changes = []
    for m in MACRO.finditer(text):
        if m.start() < pos:
            continue
        # Skip macros inside comments.
        line_start = text.rfind("\n", 0, m.start()) + 1
        if "//" in text[line_start : m.start()]:
            continue
        open_index = m.end() - 1
        close = match_paren(text, open_index)
        end = statement_end(text, close + 1)
        args_text = text[open_index + 1 : close]
        message = text[close + 1 : end].strip()
        if message and not message.startswith("<<"):
            continue
        message = (" " + message) if message else ""
        result = rewrite_statement(m.group(1), m.group(2), args_text, message, jer)
        if result is None:
            continue
        replacement, names = result
        out.append(text[pos : m.start()])
        out.append(replacement)
        pos = end
        used |= names
        line = text.count("\n", 0, m.start()) + 1
        changes.append((line, " ".join(text[m.start() : end + 1].split()), replacement + ";"))
    out.append(text[pos:])
    return "".join(out), used, changes


USINGS = {
    "IsOk": "using ::sluice::testing::IsOk;",
    "StatusIs": "using ::sluice::testing::StatusIs;",
    "HasSubstr": "using ::testing::HasSubstr;",
    "Not": "using ::testing::Not;",
    "StartsWith": "using ::testing::StartsWith;",
}


def add_declarations(text, used):
    lines = text.split("\n")
    includes = [i for i, line in enumerate(lines) if line.startswith("#include")]
    if not includes:
        raise ValueError("no #include")
    needed_includes = []
    if "IsOk" in used or "StatusIs" in used:
        needed_includes.append("#include <sluice/testing/status_matchers.h>")
    if used & {"HasSubstr", "Not", "StartsWith"}:
        needed_includes.append("#include <gmock/gmock.h>")
    for inc in needed_includes:
        if inc in lines:
            continue
        # The first include is the file's own header: never join its block.
        others = includes[1:]
        if "gmock" in inc:
            anchor = next((i for i in others if "<gtest/gtest.h>" in lines[i]), None)
            if anchor is None:
                raise ValueError("no <gtest/gtest.h> to put <gmock/gmock.h> beside")
            lines.insert(anchor, inc)
        else:
            sluice = [i for i in others if "<sluice/" in lines[i]]
            quoted = [i for i in others if lines[i].startswith('#include "')]
            if sluice:  # with the other sluice headers
                lines.insert(sluice[-1] + 1, inc)
            elif quoted:  # a block of its own before the project-local ones
                lines[quoted[0]:quoted[0]] = [inc, ""]
            else:  # a block of its own after the last include
                lines[others[-1] + 1 : others[-1] + 1] = ["", inc]
        includes = [i for i, line in enumerate(lines) if line.startswith("#include")]
    declarations = [USINGS[n] for n in ("IsOk", "StatusIs", "HasSubstr", "Not", "StartsWith")
                    if n in used and USINGS[n] not in lines]
    if declarations:
        last = max(i for i, line in enumerate(lines) if line.startswith("#include"))
        # After the include block (and any #if/#endif closing it).
        insert_at = last + 1
        lines[insert_at:insert_at] = [""] + declarations
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    changed = False
    for path in args.files:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        new_text, used, changes = rewrite(text)
        if not changes:
            continue
        changed = True
        for line, old, new in changes:
            print(f"{path}:{line}: {old}\n    -> {new}")
        if not args.check:
            new_text = add_declarations(new_text, used)
            with open(path, "w", encoding="utf-8") as f:
                f.write(new_text)
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
