#!/usr/bin/env python3
"""Runs README.md's shell blocks, top to bottom in one bash shell, and checks what they print.

  tests/readme/readme_blocks.py README.md --build-dir DIR     (CTest's test `readme.blocks`)
  tests/readme/readme_blocks.py README.md --print              (the script it would run)

What runs: every ```sh block, in order, from the repository's root, unless the line before its
fence is `<!-- readme-test: skip: WHY -->`. Other blocks (```cpp, ```text, ...) are not run.
`scripts/run-example` runs the examples already built in DIR (GATEHOUSE_EXAMPLE_BUILD_DIR), so
nothing is installed or built. Each command runs as written, under `set -euo pipefail`: one
that fails fails the test; so does one still running after 30 s (a wait loop whose server never
comes up). `curl` is a shell function that adds `-D FILE`, to learn the status.

What is checked: the comments that say what a command prints.
  curl -s URL        # 404 {"message":"Pet 9 not found"}   (a remark in parentheses)
  node ...
          # first line of the output
          # …
A command's claims are its trailing comments and the indented comment lines right after it
(a comment line at column 0 is a remark of its own). A claim in parentheses, or the part of one
after two spaces and "(", is a remark. Whitespace runs count as one space; `…` stands for any
text. For a command that starts with `curl`, "NNN rest" claims the status NNN of the (last)
response, then "rest". A claim starting with `{` or `[` matches the response body (after the
headers of `curl -i`) as a whole or one line of the output; other claims match output lines,
in order. A background command's claims match what it printed by the end (a banner).

Servers: every background job still running when the blocks end fails the test (a block stops
what it starts: "followed top to bottom" must not leave one block's server in the next one's
way), and is stopped by pid, as on any failure (an EXIT trap); the whole process group is killed
as a last resort. The README's 127.0.0.1 ports must be free first; concurrent runs of this test
on one machine take turns (a lock in /tmp). Without Node.js and tests/cross's npm packages the
test is skipped (exit 77), as the other tests with npm clients are.
"""

import argparse
import fcntl
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP_MARK = re.compile(r"<!--\s*readme-test:\s*skip\b(.*?)-->")
STEP_TIMEOUT = 30  # seconds one command may take
RUN_TIMEOUT = 240  # seconds all blocks may take
LOCK_TIMEOUT = 180  # seconds to wait for another run of this test
LOCK_PATH = "/tmp/gatehouse-readme-test.lock"
NAME = "README.md"  # for messages
SKIPPED = 77  # CTest's SKIP_RETURN_CODE


class Command:
    def __init__(self, line, text):
        self.line = line  # README line of its first line
        self.text = text  # as written, lines joined with \n
        self.claims = []  # (line, text)
        self.background = False
        self.attach = True  # indented comment lines after it are its claims


def fenced_blocks(lines):
    """(language, first line number, body lines, skip reason or None) of each fenced block."""
    blocks = []
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\S*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        lang, start = m.group(1), i + 1
        j = start
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        k = i - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        skip = SKIP_MARK.search(lines[k]) if k >= 0 else None
        reason = skip.group(1).strip(" :") if skip else None
        if skip and not reason:
            sys.exit(f"{NAME}:{k + 1}: a readme-test skip says why: <!-- readme-test: skip: WHY -->")
        blocks.append((lang, start + 1, lines[start:j], reason))
        i = j + 1
    return blocks


def scan_line(line, state):
    """Splits a shell line into code and trailing comment, carrying quote state and parenthesis
    depth across lines. Returns (code, comment or None, state)."""
    quote, depth = state
    i = 0
    while i < len(line):
        c = line[i]
        if quote == "'":
            if c == "'":
                quote = None
        elif quote == '"':
            if c == "\\":
                i += 1
            elif c == '"':
                quote = None
        elif c == "\\":
            i += 1
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t;&|("):
            return line[:i], line[i + 1 :].strip(), (quote, depth)
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        i += 1
    return line, None, (quote, depth)


def commands_of(body, first_line):
    """The block's commands, each with its claims."""
    commands = []
    i = 0
    while i < len(body):
        line = body[i]
        if not line.strip():
            i += 1
            continue
        if line.lstrip().startswith("#"):
            if line[0] in " \t" and commands and commands[-1].attach:
                commands[-1].claims.append((first_line + i, line.lstrip()[1:].strip()))
            elif commands:
                commands[-1].attach = False
            i += 1
            continue
        start = i
        state = (None, 0)
        claims = []
        code = ""
        while True:
            code, comment, state = scan_line(body[i], state)
            if comment:
                claims.append((first_line + i, comment))
            heredoc = re.search(r"<<-?\s*(['\"]?)([A-Za-z_]\w*)\1", code) if not state[0] else None
            i += 1
            if heredoc:
                while i < len(body) and body[i].strip() != heredoc.group(2):
                    i += 1
                i += 1
            stripped = code.rstrip()
            if state[0] or state[1] > 0 or stripped.endswith(("\\", "|", "&&", "||")):
                if i >= len(body):
                    sys.exit(f"{NAME}:{first_line + start}: the block ends inside a command")
                continue
            break
        command = Command(first_line + start, "\n".join(body[start:i]))
        command.claims = claims
        command.background = bool(re.search(r"(^|[^&])&(\s+\w+=\$!)?\s*$", code.rstrip()))
        commands.append(command)
    return commands


def remark_free(claim):
    """The claim without its remark; None when it is all remark."""
    if claim.startswith("("):
        return None
    return re.sub(r"\s{2,}\(.*\)$", "", claim).strip() or None


def norm(text):
    return " ".join(text.replace("\r", "").split())


def pattern(claim):
    return re.compile(".*".join(re.escape(p) for p in norm(claim).split("…")), re.S)


def check(command, out, headers):
    """What is wrong with a command's output, as lines (empty: its claims hold)."""
    problems = []
    lines = [norm(l) for l in out.splitlines() if norm(l)]
    body = out
    if out.startswith("HTTP/"):
        parts = re.split(r"\r?\n\r?\n", out, maxsplit=1)
        body = parts[1] if len(parts) > 1 else ""
    is_curl = command.text.lstrip().startswith("curl ")
    statuses = re.findall(r"^HTTP/\S+ (\d{3})", headers, re.M)
    at = 0  # ordered claims match output lines from here on
    for line, raw in command.claims:
        claim = remark_free(raw)
        if claim is None:
            continue
        m = re.match(r"^(\d{3})(?:\s+(.*))?$", claim)
        if is_curl and m:
            if not statuses:
                problems.append(f"{NAME}:{line}: no HTTP response, but the README says {m.group(1)}")
            elif statuses[-1] != m.group(1):
                problems.append(
                    f"{NAME}:{line}: status {statuses[-1]}, but the README says {m.group(1)}")
            claim = m.group(2)
            if not claim:
                continue
        p = pattern(claim)
        if claim.startswith(("{", "[")):
            if p.fullmatch(norm(body)) or any(p.fullmatch(l) for l in lines):
                continue
            problems.append(f"{NAME}:{line}: the body is {norm(body)!r}, but the README says {claim!r}")
            continue
        for k in range(at, len(lines)):
            if p.fullmatch(lines[k]):
                at = k + 1
                break
        else:
            problems.append(f"{NAME}:{line}: no line of the output (from line {at + 1} on) is {claim!r}")
    return problems


PRELUDE = r"""
set -euo pipefail
__out=%(out)s
__step=0
__step_start=$SECONDS
__begin() { __step=$1; __step_start=$SECONDS; echo "$1" >"$__out/current"; }
# curl as written, plus -D to learn the status; and a wait loop that never ends fails.
curl() {
  if ((SECONDS - __step_start > %(step_timeout)d)); then
    echo "readme-test: step $__step still running after %(step_timeout)d s" >&2
    exit 124
  fi
  command curl -D "$__out/$__step.headers" "$@"
}
__stop_all() {
  local pids
  pids=$(jobs -rp)
  [[ -z $pids ]] && return 0
  kill $pids 2>/dev/null || true
  for _ in $(seq 50); do [[ -z $(jobs -rp) ]] && return 0; sleep 0.1; done
  kill -KILL $(jobs -rp) 2>/dev/null || true
}
trap 'rc=$?; set +e; __stop_all; exit $rc' EXIT
trap 'exit 143' TERM
"""

EPILOGUE = r"""
__begin end
for _ in $(seq 100); do [[ -z $(jobs -rp) ]] && break; sleep 0.1; done
if [[ -n $(jobs -rp) ]]; then
  echo "readme-test: still running after the README's last block (a block stops what it starts):" >&2
  jobs -r >&2
  exit 3
fi
"""


def script_of(commands, out):
    parts = [PRELUDE % {"out": shlex.quote(out), "step_timeout": STEP_TIMEOUT}]
    for n, c in enumerate(commands):
        # A server's output in one file, in the order it came (its banner and warnings).
        err = "&1" if c.background else f"\"$__out/{n}.err\""
        parts.append(f"__begin {n}\n{{\n{c.text}\n}} >\"$__out/{n}.out\" 2>{err}\n")
    parts.append(EPILOGUE)
    return "".join(parts)


def ports_of(commands):
    ports = set()
    for c in commands:
        ports.update(int(p) for p in re.findall(r"127\.0\.0\.1:(\d{2,5})\b", c.text))
        ports.update(int(p) for p in re.findall(r"http\.server (\d{2,5})\b", c.text))
    return sorted(ports)


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def first_line(text):
    return text.splitlines()[0] + (" …" if "\n" in text else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("readme")
    ap.add_argument("--build-dir", help="the build tree whose examples run")
    ap.add_argument("--print", action="store_true", help="print the script and exit")
    args = ap.parse_args()

    global NAME
    readme = os.path.abspath(args.readme)
    NAME = os.path.basename(readme)
    root = os.path.dirname(readme)
    with open(readme, encoding="utf-8") as f:
        lines = f.read().split("\n")
    commands = []
    for lang, line, body, skip in fenced_blocks(lines):
        if lang == "sh" and skip is None:
            commands += commands_of(body, line)
        elif lang == "sh":
            print(f"{NAME}:{line - 1}: not run: {skip}")
    if args.print:
        print(script_of(commands, "/tmp/readme-test"))
        return 0
    if not args.build_dir:
        ap.error("--build-dir is needed to run the blocks")

    # As the other tests with npm clients do: without Node.js and tests/cross's packages
    # (scripts/install-deps), say so and skip.
    if any(re.search(r"(^|[\s(])node\s", c.text) for c in commands) and (
            not shutil.which("node")
            or not os.path.exists(os.path.join(root, "tests/cross/node_modules/ws/package.json"))):
        print("readme-test: skipped: the README's blocks run node with tests/cross's npm packages "
              "(scripts/install-deps installs them when Node.js is there)")
        return SKIPPED

    lock = open(LOCK_PATH, "a")
    deadline = time.monotonic() + LOCK_TIMEOUT
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                print(f"readme-test: another run holds {LOCK_PATH} after {LOCK_TIMEOUT} s")
                return 1
            time.sleep(0.5)
    busy = [p for p in ports_of(commands) if not port_free(p)]
    if busy:
        print("readme-test: the README's ports must be free, and these are in use: "
              + ", ".join(f"127.0.0.1:{p}" for p in busy))
        return 1

    out = tempfile.mkdtemp(prefix="readme-test.")
    script = os.path.join(out, "blocks.sh")
    with open(script, "w") as f:
        f.write(script_of(commands, out))
    env = dict(os.environ, GATEHOUSE_EXAMPLE_BUILD_DIR=os.path.abspath(args.build_dir))
    started = time.monotonic()
    # A session of its own: whatever the blocks start is in its process group, the last resort.
    proc = subprocess.Popen(["bash", script], cwd=root, env=env, start_new_session=True,
                            stdin=subprocess.DEVNULL)
    timed_out = False
    try:
        proc.wait(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        timed_out = True
        # The command it waits on and the servers stop; then its EXIT trap stops what is left.
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    elapsed = time.monotonic() - started

    current = read(os.path.join(out, "current")).strip()
    problems = []
    for n, c in enumerate(commands):
        if current != "end" and (not current.isdigit() or n > int(current)):
            break
        stdout = read(os.path.join(out, f"{n}.out"))
        stderr = read(os.path.join(out, f"{n}.err"))
        print(f"$ {c.text}".replace("\n", "\n  ") + ("   [background]" if c.background else ""))
        for text in (stdout, stderr):
            if text.strip():
                print("  | " + text.rstrip("\n").replace("\n", "\n  | "))
        failed_here = current == str(n) and (proc.returncode != 0 or timed_out)
        if failed_here:
            problems.append(f"{NAME}:{c.line}: `{first_line(c.text)}` failed"
                            + (f" (still running after {RUN_TIMEOUT} s)" if timed_out
                               else f" (exit {proc.returncode})"))
        else:
            problems += check(c, stdout, read(os.path.join(out, f"{n}.headers")))
    if current == "end" and proc.returncode != 0:
        problems.append("readme-test: a server was still running after the last block")
    print(f"readme-test: {len(commands)} commands, {elapsed:.1f} s")
    if problems:
        print("\n".join(["", f"{NAME} does not hold:"] + problems))
        print(f"(outputs kept in {out})")
        return 1
    subprocess.run(["rm", "-rf", out])
    return 0


if __name__ == "__main__":
    sys.exit(main())
