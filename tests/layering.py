#!/usr/bin/env python3
# layering.py TOP PATTERN... - check the include graph of ca-tools:
#   1. bin/*.c include only public lib/ headers: no .c file, no
#      *-internal.h or *-impl.h, nothing outside lib/;
#   2. the headers in lib/ include one another without a cycle;
#   3. only the authority's implementation files in lib/ (the file name
#      patterns given, e.g. "authority-*.c", headers too) reach store.h or
#      authority-impl.h, directly or through another header;
#   4. lib/authority.h declares struct ca_authority without defining it.
# Each violation is one line on stdout; the status is 1 if there is any.
# The last line counts what was checked. tests/layering.bats holds the
# allow-list and runs this on the tree and on broken copies of it.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import fnmatch
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
RESERVED = ("store.h", "authority-impl.h")
PRIVATE = ("*-internal.h", "*-impl.h")


def includes(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    # Comments may name a header; only directives count.
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return INCLUDE.findall(text)


def main():
    if len(sys.argv) < 3:
        print("usage: layering.py TOP PATTERN...", file=sys.stderr)
        return 2
    top, allowed = sys.argv[1], sys.argv[2:]
    lib, binp = os.path.join(top, "lib"), os.path.join(top, "bin")
    libfiles = sorted(f for f in os.listdir(lib) if f.endswith((".c", ".h")))
    binfiles = sorted(f for f in os.listdir(binp) if f.endswith(".c"))
    inc = {"lib/" + f: includes(os.path.join(lib, f)) for f in libfiles}
    inc.update({"bin/" + f: includes(os.path.join(binp, f)) for f in binfiles})
    bad = []

    # 1. bin/ -> public lib/ headers only.
    for f in binfiles:
        for h in inc["bin/" + f]:
            if "/" in h or not h.endswith(".h") or h not in libfiles:
                bad.append('bin/%s includes "%s", not a header of lib/'
                           % (f, h))
            elif any(fnmatch.fnmatch(h, p) for p in PRIVATE):
                bad.append('bin/%s includes "%s", a private header of lib/'
                           % (f, h))

    # 2. no cycle among lib/ headers (depth-first, white/grey/black).
    headers = [f for f in libfiles if f.endswith(".h")]
    state = {}

    def visit(h, stack):
        state[h] = 1
        for d in inc["lib/" + h]:
            if d not in headers:
                continue
            if state.get(d) == 1:
                cyc = stack[stack.index(d):] + [d] if d in stack else [h, d]
                bad.append("include cycle: %s" % " -> ".join(cyc))
            elif d not in state:
                visit(d, stack + [d])
        state[h] = 2

    for h in headers:
        if h not in state:
            visit(h, [h])

    # 3. store.h and authority-impl.h, reached through any header.
    def reach(name):
        seen, todo = set(), list(inc[name])
        while todo:
            h = todo.pop()
            if h in seen or h not in headers:
                continue
            seen.add(h)
            todo.extend(inc["lib/" + h])
        return seen

    for name in sorted(inc):
        base = os.path.basename(name)
        if base in RESERVED:
            continue
        ok = name.startswith("lib/") and any(fnmatch.fnmatch(base, p)
                                             for p in allowed)
        for r in RESERVED:
            if r in reach(name) and not ok:
                direct = r in inc[name]
                bad.append("%s reaches %s%s, outside the authority's "
                           "implementation" % (name, r, "" if direct
                                               else " (through a header)"))

    # 4. the authority is opaque.
    auth = os.path.join(lib, "authority.h")
    if os.path.exists(auth):
        with open(auth, encoding="utf-8") as f:
            if re.search(r"^struct ca_authority\s*\{", f.read(), re.M):
                bad.append("lib/authority.h defines struct ca_authority "
                           "(callers must see it opaque)")

    for b in bad:
        print("layering: " + b)
    print("# %d files, %d headers checked" % (len(inc), len(headers)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
