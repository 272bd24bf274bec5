#!/usr/bin/env python3
# deps.py - does ./quickstart install everything the build and the tests use?
#
#   deps.py TOP_SRCDIR
#
# Finds what is needed, from the files themselves:
#   - every PKG_CHECK_MODULES module, AC_CHECK_HEADER(S) header,
#     AC_CHECK_LIB library and -lNAME in configure.ac;
#   - every external command in command position in tests/*.bats,
#     tests/helpers.bash, quickstart and .ci/run (quoted strings and
#     here-documents, which hold python, are left out);
# maps each to the Debian package that owns its file (dpkg -S) and checks
# that this package is installed by quickstart: in its package list, a
# dependency of one (apt-get install --no-install-recommends brings those),
# or part of every Debian system (Essential or Priority required, what
# debootstrap --variant=minbase installs). Prints one line per miss, naming
# the package, and exits 1; exits 77 when there is no dpkg database.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import fnmatch
import glob
import os
import re
import shutil
import subprocess
import sys

# Words that start a command but name none; and the words after which the
# next word is the command (run -N cmd, timeout 5 cmd, env A=b cmd, ...).
SHELL_WORDS = {
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until",
    "for", "in", "case", "esac", "function", "select", "!", "{", "}",
    "[", "[[", "]]", "]", "time", "coproc", "return", "local", "export",
    "declare", "readonly", "unset", "set", "shift", "wait", "trap", "read",
    "echo", "printf", "cd", "exit", "true", "false", "test", "source", ".",
    "eval", "type", "hash", "kill", "let", "umask", "ulimit", "break",
    "continue", "builtin", "mapfile", "pwd", "getopts", "shopt", "alias",
    "jobs", "fg", "bg", "disown", "caller",
}
PREFIX_WORDS = {"run", "command", "exec", "env", "timeout", "nice", "setsid",
                "xargs", "sudo", "stdbuf", "unshare", "nohup"}
# Needed before quickstart can install anything: not in its list on purpose.
BOOTSTRAP = {"sudo", "apt-get", "dpkg-query"}


def strip_shell(text):
    """text with quoted strings, comments and here-document bodies blanked
    (newlines kept, so line numbers hold); $(...) inside double quotes kept."""
    out = []
    i, n = 0, len(text)
    heredocs = []
    state = []  # stack: '"' inside double quotes, '(' inside $( )
    while i < n:
        c = text[i]
        top = state[-1] if state else None
        if c == "\n":
            out.append("\n")
            i += 1
            if heredocs and top != '"':
                # skip here-document bodies up to their delimiters
                for delim, dash in heredocs:
                    while i < n:
                        j = text.find("\n", i)
                        j = n if j < 0 else j
                        line = text[i:j]
                        i = j + 1
                        out.append("\n")
                        if (line.lstrip("\t") if dash else line) == delim:
                            break
                heredocs = []
            continue
        if top == '"':
            if c == "\\":
                out.append("\n" if text.startswith("\n", i + 1) else "")
                i += 2
            elif c == '"':
                state.pop()
                out.append(" ")
                i += 1
            elif text.startswith("$(", i):
                state.append("(")
                out.append(" ; ")
                i += 2
            else:
                i += 1
            continue
        if c == "\\":
            out.append("\n" if text.startswith("\n", i + 1) else " ")
            i += 2
        elif c == "'":
            j = text.find("'", i + 1)
            j = n - 1 if j < 0 else j
            out.append(" " + "\n" * text.count("\n", i, j + 1))
            i = j + 1
        elif c == '"':
            state.append('"')
            out.append(" ")
            i += 1
        elif c == "#" and (i == 0 or text[i - 1] in " \t\n;(|&"):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("<<", i) and not text.startswith("<<<", i):
            m = re.match(r"<<(-?)\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2",
                         text[i:])
            if m:
                heredocs.append((m.group(3), m.group(1) == "-"))
                out.append(" ")
                i += m.end()
            else:
                out.append(c)
                i += 1
        elif text.startswith("$(", i):
            state.append("(")
            out.append(" ; ")
            i += 2
        elif c == ")" and top == "(":
            state.pop()
            out.append(" ; ")
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def commands(path):
    """(name, line) of every word in command position in the shell file."""
    text = strip_shell(open(path).read())
    found = []
    for lineno, line in enumerate(text.split("\n"), 1):
        # $PYTHON is python3 unless the caller says otherwise (helpers.bash)
        line = re.sub(r"\$\{?PYTHON\}?", "python3", line)
        # array assignments hold words, not commands
        line = re.sub(r"\b[A-Za-z_]\w*\+?=\([^)]*\)", " ", line)
        for seg in re.split(r"[;|&(){}`]", line):
            words = seg.split()
            k = 0
            while k < len(words):
                w = words[k]
                if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w) or \
                        re.match(r"^-[0-9A-Za-z!-]*$", w) or \
                        re.match(r"^[0-9.]+[smhd]?$", w) or w in ("!",):
                    k += 1  # VAR=x, an option of a prefix word, a duration
                    continue
                if w in PREFIX_WORDS:
                    if w not in ("run", "command", "exec"):
                        found.append((w, lineno))
                    k += 1
                    continue
                if w in ("if", "then", "else", "elif", "do", "while",
                         "until", "time"):
                    k += 1
                    continue
                if re.match(r"^[a-z][a-z0-9_.+-]*$", w) and \
                        w not in SHELL_WORDS:
                    found.append((w, lineno))
                break
    return found


FILES = None


def dpkg_owner(pattern):
    """The packages whose files match the glob pattern (dpkg -S without
    running it once per pattern: the file lists are read once)."""
    global FILES
    if FILES is None:
        FILES = {}
        for lst in glob.glob("/var/lib/dpkg/info/*.list"):
            pkg = os.path.basename(lst)[:-len(".list")].split(":")[0]
            for f in open(lst, errors="replace"):
                f = f.rstrip("\n")
                FILES.setdefault(os.path.basename(f), []).append((f, pkg))
    return sorted({pkg for f, pkg in FILES.get(os.path.basename(pattern), ())
                   if fnmatch.fnmatchcase(f, pattern)})


def command_owner(name, builddir):
    path = shutil.which(name)
    if path is None:
        return None, []
    real = os.path.realpath(path)
    if builddir and real.startswith(os.path.realpath(builddir) + "/"):
        return path, ["(built here)"]
    cands = [path, real] + [d + "/" + name for d in
                            ("/usr/bin", "/bin", "/usr/sbin", "/sbin")]
    for c in cands:
        if os.path.exists(c):
            owners = dpkg_owner(c)
            if owners:
                return c, owners
    return path, []


def installed_closure(roots):
    """The installed packages that roots, Essential and Priority required
    bring, following Depends and Pre-Depends (not Recommends)."""
    fmt = "${Package}\t${Status}\t${Essential}\t${Priority}\t" \
          "${Pre-Depends}, ${Depends}\t${Provides}\n"
    r = subprocess.run(["dpkg-query", "-W", "-f", fmt],
                       capture_output=True, text=True, check=True)
    deps, provides, base = {}, {}, set()
    for line in r.stdout.splitlines():
        pkg, status, ess, prio, dep, prov = (line.split("\t") + [""] * 6)[:6]
        if not status.endswith(" installed"):
            continue
        deps[pkg] = [alt for alt in dep.split(",") if alt.strip()]
        for p in prov.split(","):
            p = p.strip().split(" ")[0]
            if p:
                provides.setdefault(p, set()).add(pkg)
        if ess == "yes" or prio == "required":
            base.add(pkg)
    seen = set()
    todo = list(roots) + list(base)
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        for group in deps.get(p, []):
            for alt in group.split("|"):
                a = alt.strip().split(" ")[0].split(":")[0]
                if a in deps:
                    todo.append(a)
                todo += list(provides.get(a, ()))
    return seen


def quickstart_packages(top):
    text = open(os.path.join(top, "quickstart")).read()
    m = re.search(r"^packages=\((.*?)^\)", text, re.S | re.M)
    if not m:
        sys.exit("deps.py: no packages=( ... ) list in quickstart")
    body = m.group(1)
    # and what it adds in some cases (CI's compiler; npm where no nodejs
    # brought its own)
    body += " " + " ".join(re.findall(r"^.*\b(?:packages|missing)\+=\(([^)]*)\)",
                                      text, re.M))
    return re.sub(r"#.*", "", body).split()


def needs_from_configure(top):
    """(what, file patterns) for configure.ac's modules, headers, libs."""
    text = open(os.path.join(top, "configure.ac")).read()
    text = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
    needs = []
    for m in re.finditer(r"PKG_CHECK_MODULES\(\[\w+\],\s*\[([^\]]+)\]", text):
        for mod in re.findall(r"([A-Za-z][\w.+-]*)(?:\s*[<>=]+\s*[\w.]+)?",
                              m.group(1)):
            needs.append(("pkg-config module " + mod,
                          ["*/pkgconfig/%s.pc" % mod]))
    for m in re.finditer(r"AC_CHECK_HEADERS?\(\[([^\]]+)\]", text):
        for h in m.group(1).split():
            needs.append(("header " + h, ["/usr/include/" + h,
                                           "/usr/include/*/" + h]))
    libs = set(re.findall(r"AC_CHECK_LIB\(\[(\w+)\]", text))
    libs |= set(re.findall(r"(?<![\w])-l([A-Za-z][\w+-]*)", text))
    for lib in sorted(libs):
        needs.append(("library -l" + lib, ["*/lib%s.so" % lib,
                                           "*/lib%s.a" % lib]))
    for f in sorted(set(re.findall(r"-l:([\w.+-]+)", text))):
        needs.append(("library -l:" + f, ["*/" + f]))
    return needs


def main(top):
    if not os.path.isdir("/var/lib/dpkg/info"):
        print("deps.py: no dpkg here: not a Debian system")
        return 77
    listed = quickstart_packages(top)
    have = installed_closure(listed)
    builddir = os.environ.get("CA_TOP_BUILDDIR", os.path.join(top, "_build"))
    missing = 0
    checked = 0

    def check(what, owners, where):
        nonlocal missing, checked
        checked += 1
        if not owners:
            print("%s (%s): not from any installed package" % (what, where))
            missing += 1
        elif not any(o in have for o in owners):
            print("%s (%s) is in %s, which quickstart does not install" %
                  (what, where, " or ".join(sorted(set(owners)))))
            missing += 1

    for what, patterns in needs_from_configure(top):
        owners = []
        for p in patterns:
            owners += dpkg_owner(p)
        check(what, owners, "configure.ac")

    files = sorted(glob.glob(os.path.join(top, "tests", "*.bats")))
    files += [os.path.join(top, f) for f in
              ("tests/helpers.bash", "quickstart", ".ci/run")]
    seen = {}
    functions = set()
    for f in files:
        functions |= set(re.findall(r"^\s*(?:function\s+)?([\w-]+)\s*\(\)",
                                    open(f).read(), re.M))
    for f in files:
        for name, line in commands(f):
            seen.setdefault(name, "%s:%d" % (os.path.relpath(f, top), line))
    for name in sorted(seen):
        if name in BOOTSTRAP or name in functions or name.startswith("ca-"):
            continue
        path, owners = command_owner(name, builddir)
        if path is None or owners == ["(built here)"]:
            continue  # a function, an alias or not a command at all
        check("command %s" % name, owners, seen[name])
    print("# %d needs checked against %d listed packages" %
          (checked, len(listed)))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
