#!/usr/bin/env python3
"""Sync benchmark (`make bench`, after tests/tools/bench.py; alone: `make bench-sync`).

cec sync against `rclone sync` and `aws s3 sync` on the same dev server (release build,
loopback, plain HTTP). A tree of 10,000 files of mixed sizes (most 1-64 KiB, some 256 KiB-2 MiB,
a few 8-16 MiB) is synced to an empty remote folder (first sync); then 1 % of the files are
changed, 1 % added and 1 % deleted, and each client syncs again (incremental, with deletion).
Each client has its own remote folder; clients run one at a time, in a rotating order, for
BENCH_SYNC_ROUNDS rounds (a fresh tree and fresh folders each round). Measured per run: wall
time, client CPU (user+sys of the client process tree, GNU time), and the requests the dev
server answered (its counters, GET /devserver/requests). Every run is checked: the remote
folder must then hold exactly the local tree (names and sizes, and the changed files' bytes).

The table goes into bench/results.md between the markers below (the rest of the file, the
transfer tables of bench.py, is kept); quick runs (BENCH_SYNC_FILES set) write
target/bench/results-sync.md.

Client settings: cec defaults (`--delete`); rclone `sync --update --use-server-modtime`
(its default mode compares the modification time kept in object metadata and fixes
differences with a server-side copy; this gateway keeps no metadata and has no CopyObject, so
the default mode fails here; these two flags are rclone's documented mode for such servers,
and the same rule cec applies); aws `s3 sync --delete` (size and time, its only mode).

Environment: BENCH_SYNC_FILES (default 10000), BENCH_SYNC_ROUNDS (default 3), BENCH_NO_BUILD,
BENCH_NO_INSTALL, BENCH_KEEP, BENCH_TMPDIR (as for bench.py).
"""

import json
import os
import random
import statistics
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as B  # noqa: E402

NFILES = int(os.environ.get("BENCH_SYNC_FILES", "10000"))
ROUNDS = max(1, int(os.environ.get("BENCH_SYNC_ROUNDS", "3")))
FULL_RUN = "BENCH_SYNC_FILES" not in os.environ
PREFIX = "common-files/bsync"
START = "<!-- sync-bench:start -->"
END = "<!-- sync-bench:end -->"
CLIENTS = ("cec", "rclone", "awscli")
KIB = 1024
MIB = 1024 * KIB


def log(msg):
    print(f"[bench-sync] {msg}", file=sys.stderr, flush=True)


def size_for(rng):
    x = rng.random()
    if x < 0.97:
        return rng.randint(KIB, 64 * KIB)
    if x < 0.997:
        return rng.randint(256 * KIB, 2 * MIB)
    return rng.randint(8 * MIB, 16 * MIB)


def make_tree(root, nfiles, seed):
    """nfiles files in folders of 100, two levels; the file times are an hour ago."""
    rng = random.Random(seed)
    past = time.time() - 3600
    total = 0
    for i in range(nfiles):
        d = i // 100
        folder = root / f"d{d // 10:02d}" / f"s{d % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        p = folder / f"file-{i:05d}.bin"
        n = size_for(rng)
        p.write_bytes(rng.randbytes(n))
        os.utime(p, (past, past))
        total += n
    return total


def mutate(root, nfiles, seed):
    """1 % changed (new bytes, new size), 1 % added, 1 % deleted; returns the changed paths."""
    rng = random.Random(seed)
    files = sorted(p for p in root.rglob("*") if p.is_file())
    k = max(1, nfiles // 100)
    picked = rng.sample(files, 2 * k)
    changed, deleted = picked[:k], picked[k:]
    for p in changed:
        p.write_bytes(rng.randbytes(rng.randint(KIB, 64 * KIB)))
    for p in deleted:
        p.unlink()
    for i in range(k):
        folder = root / f"new{i % 10}"
        folder.mkdir(exist_ok=True)
        (folder / f"added-{i:04d}.bin").write_bytes(rng.randbytes(rng.randint(KIB, 64 * KIB)))
    return [p.relative_to(root) for p in changed]


def listing(root):
    return sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*") if p.is_file())


def counters(url):
    with urllib.request.urlopen(f"{url}/devserver/requests", timeout=30) as r:
        return json.load(r)["total"]


class SyncBench(B.Bench):
    def commands(self, tool, src, folder):
        if tool == "cec":
            return [str(B.CEC), "sync", "-p", "--delete", "--no-progress", str(src),
                    f"cells://{folder}"], self.cec_env(self.srv)
        if tool == "rclone":
            return ["rclone", "sync", "--update", "--use-server-modtime", str(src),
                    f"X:io/{folder}"], self.rclone_env(self.srv)
        return [B.aws_bin(), "--endpoint-url", self.srv.url, "s3", "sync", "--delete",
                "--only-show-errors", str(src), f"s3://io/{folder}/"], self.aws_env(self.srv)

    def check(self, src, folder, changed):
        remote = self.srv.root / "data" / "common" / folder.split("/", 1)[1]
        if listing(src) != listing(remote):
            return "remote tree differs"
        if not all(B.same_file(src / rel, remote / rel) for rel in changed):
            return "a changed file differs"
        return ""

    def one(self, tool, src, folder, changed, work):
        cmd, env = self.commands(tool, src, folder)
        before = counters(self.srv.url)
        res = B.measure(cmd, env, work)
        res.requests = counters(self.srv.url) - before
        if res.ok:
            res.note = self.check(src, folder, changed)
            res.ok = not res.note
        return res

    def run(self):
        # Plain HTTP: this bench compares the sync logic (what is sent, how many requests).
        self.srv = B.Server(self.tmp, "http")
        self.servers.append(self.srv)
        results = {(phase, t): [] for phase in ("first", "incremental") for t in CLIENTS}
        for r in range(ROUNDS):
            src = self.tmp / f"src{r}"
            log(f"round {r + 1}/{ROUNDS}: writing {NFILES} files")
            total = make_tree(src, NFILES, 7000 + r)
            order = CLIENTS[r % 3:] + CLIENTS[:r % 3]
            for tool in order:
                log(f"round {r + 1}: first sync, {tool}")
                results[("first", tool)].append(
                    self.one(tool, src, f"{PREFIX}/r{r}/{tool}", [], self.tmp))
            changed = mutate(src, NFILES, 9000 + r)
            for tool in order:
                log(f"round {r + 1}: incremental sync, {tool}")
                results[("incremental", tool)].append(
                    self.one(tool, src, f"{PREFIX}/r{r}/{tool}", changed, self.tmp))
        return results, total


def table(results, total, load_before, load_after, elapsed):
    def med(xs):
        return statistics.median(xs) if xs else float("nan")

    rows = []
    for phase in ("first", "incremental"):
        for tool in CLIENTS:
            rs = results[(phase, tool)]
            ok = all(x.ok for x in rs)
            status = "ok" if ok else "; ".join(sorted({x.note for x in rs if not x.ok}))[:120]
            rows.append((phase, tool, med([x.wall for x in rs]), med([x.cpu for x in rs]),
                         med([x.requests for x in rs]), status))
    inc = {tool: med([x.wall for x in results[("incremental", tool)]]) for tool in CLIENTS}
    out = [
        START,
        "",
        "## Sync: 10,000 files, first and incremental" if FULL_RUN else
        f"## Sync: {NFILES} files, first and incremental (quick run)",
        "",
        "Written by `make bench` (tests/tools/bench_sync.py). A tree of "
        f"{NFILES} files of mixed sizes ({total / MIB:.0f} MiB: most 1–64 KiB, 2.7 % "
        "256 KiB–2 MiB, 0.3 % 8–16 MiB, in " f"{max(1, NFILES // 100)} folders of 100) synced to an empty folder (first), then "
        "again after 1 % of the files were changed, 1 % added and 1 % deleted (incremental, "
        "deletions included). Each row: the median of "
        f"{ROUNDS} rounds (a fresh tree each, clients one at a time in a rotating order); CPU = "
        "user+sys of the client process tree; requests = what the dev server answered during "
        "the run (its counters). Every run is checked: the remote folder then holds exactly "
        "the local tree.",
        "",
        "Commands: `cec sync -p --delete --no-progress SRC cells://…`; `rclone sync --update "
        "--use-server-modtime SRC X:io/…` (rclone's mode for servers that keep no modification "
        "time: its default mode keeps one in object metadata and corrects it with a "
        "server-side copy, which this gateway does not offer, so it fails here); `aws s3 sync "
        "--delete SRC s3://io/…`.",
        "",
        "| Phase | Client | Wall (s) | CPU user+sys (s) | Requests | Status |",
        "|---|---|---:|---:|---:|---|",
    ]
    for phase, tool, wall, cpu, reqs, status in rows:
        out.append(f"| {phase} | {tool} | {wall:.2f} | {cpu:.2f} | {reqs:.0f} | {status} |")
    r_rc = inc["rclone"] / inc["cec"]
    r_aws = inc["awscli"] / inc["cec"]
    mark = lambda ok: "✅" if ok else "❌"  # noqa: E731
    out += [
        "",
        "| Target (incremental sync, wall time) | Measured | Goal |",
        "|---|---:|---|",
        f"| rclone ÷ cec | {r_rc:.1f}× {mark(r_rc >= 2)} | ≥ 2× |",
        f"| awscli ÷ cec | {r_aws:.1f}× {mark(r_aws >= 5)} | ≥ 5× |",
        "",
        f"Load average (1 min) {load_before:.2f} before, {load_after:.2f} after (the machine "
        f"is shared with other builds); measured part took {elapsed:.0f} s. "
        + machine_line() + ".",
        "",
        END,
    ]
    return "\n".join(out) + "\n"


def machine_line():
    for ln in B.header("make bench").splitlines():
        if ln.startswith("- Machine:"):
            return ln[2:]
    return ""


def write(section):
    if FULL_RUN:
        dest = B.REPO / "bench" / "results.md"
        old = dest.read_text() if dest.exists() else "# Transfer benchmark\n"
        if START in old and END in old:
            head, rest = old.split(START, 1)
            tail = rest.split(END, 1)[1].lstrip("\n")
            text = head + section + ("\n" + tail if tail else "")
        else:
            text = old.rstrip("\n") + "\n\n" + section
    else:
        dest = B.REPO / "target" / "bench" / "results-sync.md"
        dest.parent.mkdir(parents=True, exist_ok=True)
        text = section
    dest.write_text(text)
    log(f"written to {dest}")


def main():
    B.install_tools()
    B.build()
    sb = SyncBench()
    load_before = os.getloadavg()[0]
    t0 = time.time()
    try:
        results, total = sb.run()
    finally:
        sb.stop()
    section = table(results, total, load_before, os.getloadavg()[0], time.time() - t0)
    print(section)
    write(section)


if __name__ == "__main__":
    main()
