#!/usr/bin/env python3
"""Transfer benchmark (`make bench`): cec scp side by side with awscli, rclone and curl.

Starts the dev server (release build) on loopback, once over plain HTTP and once over HTTPS
(`--tls`, a self-signed CA that every client is told to trust: cec through SSL_CERT_FILE,
awscli through AWS_CA_BUNDLE, rclone through --ca-cert with AWS_CA_BUNDLE unset, curl through
--cacert), gets a PAT for admin, and points every client at the same S3 endpoint (<url>/io,
bucket io, access key = the token, secret `gatewaysecret`, region us-east-1, path-style).
Then, for each transport, in rounds where the clients take turns:

  * one big file (1 GiB) uploaded and downloaded by cec, awscli, rclone, and curl (one SigV4
    PUT / GET: the single-stream limit): wall throughput, client CPU (user+sys of the client
    process tree, from GNU time), client peak RSS, and the CPU the dev server spent;
  * a tree of 2,000 files of 1-64 KiB (deterministic sizes and content), uploaded and
    downloaded by cec, awscli (`s3 cp --recursive`) and rclone (`copy`): files per second.

Every download is compared with its source (outside the timing). Each row is the median of
the rounds. After the rounds, one more cec upload and download of the big file per transport
run under `perf record` (a build of the same code with its symbols kept, the `profiling`
Cargo profile) to split cec's CPU per GiB into TLS, hashing, copies and system calls.

Writes Markdown tables with the numbers, the ratios against the targets (issue 16 for HTTPS,
issue 5 and "no regression" for HTTP) and the load average of the machine during the runs to
bench/results.md (only for a full-size run; smaller runs write target/bench/results.md).

Environment:
  BENCH_SIZE_MIB     size of the big file in MiB (default 1024)
  BENCH_FILES        number of files in the tree (default 2000)
  BENCH_REPEAT       rounds (default 3): each row is the median of the rounds
  BENCH_TRANSPORTS   http,https (default both)
  BENCH_CLIENTS      subset of cec,awscli,rclone,curl (default all)
  BENCH_KINDS        subset of big-up,big-down,tree-up,tree-down (default all)
  BENCH_BASELINE     another cec binary, measured as the client `cec-base` in the same rounds,
                     back to back with cec as A B B A, then B A A B (the "no regression" check
                     on plain HTTP; cec's rows then have two runs per round, and a note
                     gives cec ÷ cec-base round by round beside the spread of the runs)
  BENCH_PROFILE=0    skip the perf breakdown
  BENCH_RESULTS      where to write the Markdown (default: see above)
  BENCH_NO_BUILD=1   do not run cargo build (binaries must exist)
  BENCH_NO_INSTALL=1 do not install missing tools (apt rclone/time/curl/linux-perf, pip awscli)
  BENCH_KEEP=1       keep the temporary directory (printed) instead of removing it
  BENCH_TMPDIR       parent of the temporary directory (default $TMPDIR or /tmp)
  BENCH_HEADROOM_GIB memory left to the page cache and the processes while the rest is held
                     (default 4; 0 = hold nothing): see "Memory" below

Memory: on a virtual machine whose host takes back the guest's free pages (this one, and
Firecracker or any balloon with free page reporting), the first write to a page the host took
back costs a fault in the host: writing 1 GiB into the page cache then costs several times the
CPU it costs on memory the machine already uses (measured here with dd: about 3 s of kernel
CPU against 0.4 s). That cost falls on whichever process allocates, the dev server when it
receives, the client when it downloads, and it swamped the differences between the clients.
A long-running machine has its memory full of page cache and recycles it, so the bench holds
all but BENCH_HEADROOM_GIB of the available memory (an anonymous mapping, touched once), fills
the headroom with a scratch file, and measures the cost of writing 1 GiB before and after: the
report gives both. A deleted download frees its page cache: before each run the scratch files
are read back until less than 512 MiB is free, so that the run recycles pages again.

Deleted files: ext4 without a journal (this machine's file system) does not reuse an inode
freed in the last 60 s (6 min while its inode table block is dirty), and every file created
then walks past each such inode, reading its inode table block: after a 2,000-file tree was
deleted, creating 2,000 files cost about 1 s more of kernel CPU (measured with perf:
`recently_deleted`, and the directory lock spinning behind it) and doubled the run, for
whichever client came next. The bench therefore deletes no tree before the end of the run: a
downloaded tree is moved aside, and a server's files are kept but for the large ones when its
transport is done.

The clients get their credentials through the environment or stdin, never argv.
"""

import datetime
import hashlib
import mmap
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / ".tools"
CEC = REPO / "target" / "release" / "cec"
CEC_PROFILING = REPO / "target" / "profiling" / "cec"
DEVSERVER = REPO / "tests" / "devserver" / "target" / "release" / "cells-devserver"
GNU_TIME = "/usr/bin/time"
SECRET = "gatewaysecret"
REGION = "us-east-1"
PREFIX = "common-files/bench"  # <workspace slug>/<path>: the S3 key prefix of every upload

MIB = 1024 * 1024
GIB = 1024 * MIB

SIZE_MIB = int(os.environ.get("BENCH_SIZE_MIB", "1024"))
NFILES = int(os.environ.get("BENCH_FILES", "2000"))
REPEAT = max(1, int(os.environ.get("BENCH_REPEAT", "3")))
TRANSPORTS = [t for t in os.environ.get("BENCH_TRANSPORTS", "http,https").split(",") if t]
KINDS = [k for k in os.environ.get("BENCH_KINDS", "big-up,big-down,tree-up,tree-down").split(",")
         if k]
BASELINE = os.environ.get("BENCH_BASELINE", "")
ALL_CLIENTS = ["cec"] + (["cec-base"] if BASELINE else []) + ["awscli", "rclone", "curl"]
WANTED = os.environ.get("BENCH_CLIENTS", "cec,awscli,rclone,curl").split(",")
CLIENTS = [c for c in ALL_CLIENTS if c == "cec-base" or c in WANTED]
PROFILE = os.environ.get("BENCH_PROFILE", "1") != "0"
HEADROOM_GIB = float(os.environ.get("BENCH_HEADROOM_GIB", "4"))
FULL_RUN = (SIZE_MIB == 1024 and NFILES == 2000 and set(TRANSPORTS) == {"http", "https"}
            and len(KINDS) == 4 and {"cec", "awscli", "rclone", "curl"} <= set(CLIENTS))

# The folder of each client's uploads in a round (`specs`, `warm`).
TOOL_DIR = {"cec": "cec", "cec#2": "cec2", "cec-base": "cec-base", "cec-base#2": "cec-base2",
            "awscli": "aws", "rclone": "rclone", "curl": "curl"}

# Issue 16's targets (HTTPS) and issue 5's (plain HTTP).
RSS_LIMIT_MIB = 16


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def die(msg):
    log(f"error: {msg}")
    sys.exit(1)


# ---------------------------------------------------------------------------------------------
# Tools


def as_root(cmd):
    if os.geteuid() != 0:
        if shutil.which("sudo") is None:
            die(f"need root to run: {' '.join(cmd)}")
        cmd = ["sudo", "-n"] + cmd
    subprocess.run(cmd, check=True, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def aws_bin():
    for cand in (TOOLS / "py" / "bin" / "aws", TOOLS / "venv" / "bin" / "aws"):
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    return None


def install_tools():
    missing = []
    for tool, package in (("rclone", "rclone"), ("curl", "curl"), ("perf", "linux-perf")):
        if shutil.which(tool) is None and (tool != "perf" or PROFILE):
            missing.append(package)
    if not os.access(GNU_TIME, os.X_OK):
        missing.append("time")
    if missing:
        if os.environ.get("BENCH_NO_INSTALL"):
            die(f"missing {' '.join(missing)} (BENCH_NO_INSTALL is set)")
        log(f"apt-get install {' '.join(missing)}")
        as_root(["apt-get", "update", "-qq"])
        as_root(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing)
    if aws_bin() is None:
        if os.environ.get("BENCH_NO_INSTALL"):
            die("missing awscli in .tools/py (BENCH_NO_INSTALL is set)")
        # The pinned awscli venv shared with the tests (.tools/py).
        log("installing awscli into .tools/py")
        subprocess.run([str(REPO / "tests" / "tools" / "install-deps.sh"), "py"], check=True)
    if aws_bin() is None:
        die("awscli not found after install")


def build():
    if os.environ.get("BENCH_NO_BUILD"):
        return
    log("cargo build --release (cec and the dev server)")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=REPO, check=True)
    if PROFILE:
        log("cargo build --profile profiling (cec with its symbols, for perf)")
        subprocess.run(["cargo", "build", "--profile", "profiling", "--quiet"], cwd=REPO,
                       check=True)
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "--manifest-path",
         str(REPO / "tests" / "devserver" / "Cargo.toml")],
        cwd=REPO, check=True)


def first_line(cmd, env=None):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=30)
        text = (out.stdout or out.stderr).strip()
        return text.splitlines()[0] if text else "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


# ---------------------------------------------------------------------------------------------
# Data


def make_big_file(path, size):
    """Writes `size` pseudo-random bytes; returns their SHA-256 (hex)."""
    rng = random.Random(20240501)
    sha = hashlib.sha256()
    chunk = 8 * MIB
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(chunk, left)
            b = rng.randbytes(n)
            sha.update(b)
            f.write(b)
            left -= n
    return sha.hexdigest()


def make_tree(root, nfiles):
    """nfiles files of 1-64 KiB in a nested layout (~100 files per folder), deterministic."""
    rng = random.Random(4242)
    total = 0
    per_dir = 100
    for i in range(nfiles):
        d = i // per_dir
        folder = root / f"d{d // 10:02d}" / f"s{d % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        size = rng.randint(1024, 64 * 1024)
        (folder / f"file-{i:05d}.bin").write_bytes(rng.randbytes(size))
        total += size
    return total


def tree_listing(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def same_file(a, b):
    if not b.is_file() or a.stat().st_size != b.stat().st_size:
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x = fa.read(4 * MIB)
            y = fb.read(4 * MIB)
            if x != y:
                return False
            if not x:
                return True


def same_tree(a, b):
    la = tree_listing(a)
    if not b.is_dir() or la != tree_listing(b):
        return False
    return all(same_file(a / rel, b / rel) for rel in la)


# ---------------------------------------------------------------------------------------------
# Measuring


class Run:
    """One measured command."""

    def __init__(self, ok, wall, user, sys_, rss_kib, note=""):
        self.ok = ok
        self.wall = wall
        self.cpu = user + sys_
        self.rss_mib = rss_kib / 1024.0
        self.note = note
        self.server_cpu = None  # CPU seconds the dev server spent meanwhile
        self.load = None  # 1-minute load average before the run
        self.busy = None  # CPU seconds the whole machine spent meanwhile (all CPUs)
        self.round = None  # the round it ran in


class Row:
    """The runs of one (transport, kind, client): medians, the largest RSS."""

    def __init__(self):
        self.runs = []

    def add(self, run):
        self.runs.append(run)

    def good(self):
        return [r for r in self.runs if r.ok]

    @property
    def ok(self):
        return bool(self.good())

    @property
    def note(self):
        bad = [r for r in self.runs if not r.ok]
        return bad[-1].note if bad else ""

    def median(self, attr):
        vals = [getattr(r, attr) for r in self.good() if getattr(r, attr) is not None]
        return statistics.median(vals) if vals else None

    def spread(self, attr):
        vals = [getattr(r, attr) for r in self.good() if getattr(r, attr) is not None]
        return (min(vals), max(vals)) if vals else None

    @property
    def wall(self):
        return self.median("wall")

    @property
    def cpu(self):
        return self.median("cpu")

    @property
    def server_cpu(self):
        return self.median("server_cpu")

    @property
    def busy(self):
        return self.median("busy")

    @property
    def rss_mib(self):
        vals = [r.rss_mib for r in self.good()]
        return max(vals) if vals else None


def machine_busy():
    """CPU seconds the machine has spent on anything but idling (all CPUs, /proc/stat), or
    None."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def measure(cmd, env, work, stdin_text=None, timeout=1800, wrap=None):
    """Runs cmd under GNU time: wall (perf_counter), user+sys and peak RSS of the client."""
    tfile = work / "time.out"
    errfile = work / "client.err"
    full = [GNU_TIME, "-f", "%e %U %S %M", "-o", str(tfile), "--"] + (wrap or []) + cmd
    # Every run starts with nothing waiting to be written back, so that no run pays for
    # flushing the gigabytes the runs before it wrote.
    os.sync()
    with open(errfile, "wb") as err:
        busy0 = machine_busy()
        t0 = time.perf_counter()
        try:
            p = subprocess.run(full, env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=err,
                               input=stdin_text.encode() if stdin_text is not None else None,
                               stdin=None if stdin_text is not None else subprocess.DEVNULL,
                               timeout=timeout)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
        wall = time.perf_counter() - t0
        busy1 = machine_busy()
    user = sys_ = rss = 0.0
    try:
        fields = tfile.read_text().strip().splitlines()[-1].split()
        _, user, sys_, rss = float(fields[0]), float(fields[1]), float(fields[2]), float(fields[3])
    except (OSError, IndexError, ValueError):
        pass
    note = ""
    if rc != 0:
        lines = [ln.strip() for ln in errfile.read_text(errors="replace").splitlines() if ln.strip()]
        # the most telling line: an error one if any, else the last
        errs = [ln for ln in lines if "error" in ln.lower() or "fail" in ln.lower()]
        note = f"exit {rc}: " + ((errs or lines or ["no output"])[-1])[:160]
    run = Run(rc == 0, wall, user, sys_, rss, note)
    if busy0 is not None and busy1 is not None:
        run.busy = busy1 - busy0
    return run


# ---------------------------------------------------------------------------------------------
# Where cec's CPU goes (perf record -e cpu-clock, attributed by symbol and kernel call chain)

# (category, test on the leaf symbol of a user-space sample)
USER_CATEGORIES = [
    ("TLS (AES-GCM, records, rustls)",
     re.compile(r"aes|gcm|ghash|chacha|poly1305|rustls|ring::aead|ring_core|s3::tls")),
    ("hashing (MD5 blocks, SHA-256)", re.compile(r"md5|sha2|sha256|cells_hash|compress8|Md5|Sha256")),
    ("memory copies (user)", re.compile(r"memmove|memcpy|memset|__memcpy|_erms")),
]
# (category, test on the kernel part of the call chain, leaf first)
KERNEL_CATEGORIES = [
    ("kernel: fsync and writeback", re.compile(r"ext4_sync_file|vfs_fsync|file_write_and_wait|writepages")),
    ("kernel: network receive", re.compile(r"tcp_recvmsg|sock_recvmsg|sys_recvfrom|sys_recvmsg|splice_read|tcp_read")),
    ("kernel: network send", re.compile(r"tcp_sendmsg|sock_sendmsg|sys_sendto|sys_sendmsg|sys_writev.*sock|sendfile|tcp_sendpage")),
    ("kernel: file writes", re.compile(r"ext4_buffered_write|ext4_file_write|generic_perform_write|iter_file_splice_write|ext4_dio_write|sys_pwrite|sys_write")),
    ("kernel: file reads", re.compile(r"filemap_read|ext4_file_read|sys_pread|sys_read")),
    ("kernel: network (softirq, loopback peer)", re.compile(r"net_rx_action|napi|softirq|__dev_queue_xmit")),
]
OTHER_USER = "other cec code"
OTHER_KERNEL = "kernel: other (scheduling, page faults, ...)"
CATEGORY_ORDER = ([c for c, _ in USER_CATEGORIES] + [OTHER_USER]
                  + [c for c, _ in KERNEL_CATEGORIES] + [OTHER_KERNEL])


def classify(frames):
    """frames: [(symbol, dso)], leaf first. Returns the category of the sample."""
    if not frames:
        return OTHER_USER
    sym, dso = frames[0]
    if "kernel" not in dso:
        for name, rx in USER_CATEGORIES:
            if rx.search(sym):
                return name
        return OTHER_USER
    chain = " ".join(s for s, d in frames if "kernel" in d)
    for name, rx in KERNEL_CATEGORIES:
        if rx.search(chain):
            return name
    return OTHER_KERNEL


def perf_breakdown(data_file):
    """Fractions of the samples per category, or an error string."""
    out = subprocess.run(["perf", "script", "-i", str(data_file), "-F", "ip,sym,dso"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return f"perf script failed: {out.stderr.strip()[:200]}"
    counts = {}
    total = 0
    for block in out.stdout.split("\n\n"):
        frames = []
        for ln in block.splitlines():
            m = re.match(r"\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$", ln)
            if m:
                frames.append((m.group(1), m.group(2)))
        if not frames:
            continue
        cat = classify(frames)
        counts[cat] = counts.get(cat, 0) + 1
        total += 1
    if total == 0:
        return "perf recorded no samples"
    return {c: n / total for c, n in counts.items()}


# ---------------------------------------------------------------------------------------------
# The run


def meminfo(field):
    """A /proc/meminfo field in bytes (0 when absent)."""
    for ln in Path("/proc/meminfo").read_text().splitlines():
        if ln.startswith(field + ":"):
            return int(ln.split()[1]) * 1024
    return 0


def mem_available():
    return meminfo("MemAvailable")


def write_cost(path):
    """CPU seconds (user+sys, GNU time) of writing 1 GiB of zeros into the page cache at path
    (the file is kept: it becomes clean page cache after the next sync)."""
    res = measure(["dd", "if=/dev/zero", f"of={path}", "bs=1M", "count=1024", "status=none"],
                  None, path.parent)
    return res.cpu if res.ok else None


class MemoryHold:
    """Keeps the machine's memory full, as on a long-running machine (see "Memory" in the
    module docs): holds all but the headroom, then fills the headroom with scratch files."""

    # Free memory above this after a run is taken back into the page cache (see `absorb`).
    FREE_MAX = 512 * MIB

    def __init__(self, tmp):
        self.map = None
        self.held = 0
        self.before = self.after = None
        self.scratch = []
        if HEADROOM_GIB <= 0:
            return
        # Three GiB in a row: the first ones may still land on pages freed a moment ago.
        self.before = [write_cost(tmp / f"scratch-before-{i}") for i in range(3)]
        n = (mem_available() - int(HEADROOM_GIB * GIB)) // MIB * MIB
        if n > 0:
            log(f"holding {n / GIB:.1f} GiB of memory, leaving {HEADROOM_GIB:g} GiB")
            self.map = mmap.mmap(-1, n, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
            one = b"\1" * MIB
            for off in range(0, n, MIB):
                self.map[off:off + MIB] = one
            self.held = n
        for i in range(max(1, int(HEADROOM_GIB))):
            write_cost(tmp / f"scratch-{i}")
        self.after = write_cost(tmp / "scratch-after")
        self.scratch = sorted(tmp.glob("scratch-*"))
        log(f"writing 1 GiB into the page cache: {self.before_text()} s of CPU before, "
            f"{fmt(self.after)} s with the memory held")

    def absorb(self):
        """Deleting a run's download frees its page cache, and the next run would write into
        those free pages, which the host may have taken back meanwhile (see "Memory" in the
        module docs): the scratch files are read back (from the disk where evicted) until
        little is free again, so that every run recycles cached pages."""
        if HEADROOM_GIB <= 0:
            return
        for path in self.scratch:
            if meminfo("MemFree") <= self.FREE_MAX:
                return
            warm(path)

    def before_text(self):
        return ", ".join(fmt(c) for c in self.before or [])

    def release(self):
        if self.map is not None:
            self.map.close()
            self.map = None

    def note(self):
        if HEADROOM_GIB <= 0:
            return ("Memory: not held (BENCH_HEADROOM_GIB=0): the cost of writing into pages "
                    "the host took back falls on whichever process allocates.")
        return (f"Memory: {self.held / GIB:.1f} GiB held for the whole run, "
                f"{HEADROOM_GIB:g} GiB left to the page cache and the processes and filled "
                "with scratch files first, so that the page cache recycles pages, as on a "
                "long-running machine. Writing 1 GiB into the page cache (dd) cost "
                f"{self.before_text()} s of CPU for three GiB in a row before the hold, and "
                f"{fmt(self.after)} s with it: on this virtual machine, a page the host took "
                "back costs a fault in the host at its first write, whichever process makes "
                "it, and the hold keeps every run on recycled pages.")


class Server:
    """The dev server of one transport."""

    def __init__(self, tmp, transport):
        self.transport = transport
        self.root = tmp / f"root-{transport}"
        self.root.mkdir()
        self.log = open(tmp / f"server-{transport}.log", "wb")
        args = [str(DEVSERVER), "serve", "--root", str(self.root), "--listen", "127.0.0.1:0"]
        if transport == "https":
            args.append("--tls")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("listening on "):
            die(f"dev server did not start: {line!r} (log {self.log.name})")
        self.url = line.split()[-1]
        self.ca = str(self.root / "ca.pem") if transport == "https" else None
        self.token = subprocess.run(
            [str(DEVSERVER), "token", "--root", str(self.root), "-u", "admin"],
            capture_output=True, text=True, check=True).stdout.strip()
        log(f"dev server at {self.url} (root {self.root})")

    def cpu(self):
        """user+sys seconds of the dev server process so far (Linux /proc), or None."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError, AttributeError):
            return None

    def settle(self, timeout=10.0):
        """Wait until the dev server is idle: its CPU time unchanged over 0.2 s (its
        clock ticks every 10 ms), so that the work a request left behind is counted."""
        deadline = time.time() + timeout
        last, still = self.cpu(), 0
        while last is not None and still < 2 and time.time() < deadline:
            time.sleep(0.1)
            now = self.cpu()
            still = still + 1 if now == last else 0
            last = now

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Bench:
    def __init__(self):
        base = os.environ.get("BENCH_TMPDIR") or os.environ.get("TMPDIR") or "/tmp"
        self.tmp = Path(tempfile.mkdtemp(prefix="cec-bench-", dir=base))
        self.servers = []
        self.memory = None

    def stop(self):
        if self.memory is not None:
            self.memory.release()
        for s in self.servers:
            s.stop()
        self.servers = []
        if os.environ.get("BENCH_KEEP"):
            log(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- client environments ------------------------------------------------------------------
    def base_env(self):
        env = {}
        for k, v in os.environ.items():
            ku = k.upper()
            if (ku.startswith(("AWS_", "RCLONE_", "CEC_", "CELLS_")) or ku.endswith("_PROXY")
                    or ku in ("SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE")):
                continue
            env[k] = v
        home = self.tmp / "home"
        home.mkdir(exist_ok=True)
        env["HOME"] = str(home)
        env["XDG_CONFIG_HOME"] = str(home / ".config")
        env["CEC_STATE_DIR"] = str(home / "state")
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        return env

    def cec_env(self, srv):
        env = self.base_env()
        env.update(CEC_URL=srv.url, CEC_TOKEN=srv.token, CEC_SKIP_KEYRING="true")
        if srv.ca:
            env["SSL_CERT_FILE"] = srv.ca
        return env

    def aws_env(self, srv):
        env = self.base_env()
        cfg = self.tmp / "aws-config"
        cfg.write_text(
            "[default]\n"
            f"region = {REGION}\n"
            "s3 =\n"
            "    addressing_style = path\n"
            "request_checksum_calculation = when_required\n"
            "response_checksum_validation = when_required\n")
        env.update(AWS_CONFIG_FILE=str(cfg), AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                   AWS_ACCESS_KEY_ID=srv.token, AWS_SECRET_ACCESS_KEY=SECRET,
                   AWS_EC2_METADATA_DISABLED="true", AWS_DEFAULT_REGION=REGION)
        if srv.ca:
            env["AWS_CA_BUNDLE"] = srv.ca
        return env

    def rclone_env(self, srv):
        env = self.base_env()  # no AWS_CA_BUNDLE: rclone refuses it with its own transport
        env.update(RCLONE_CONFIG=os.devnull,
                   RCLONE_CONFIG_X_TYPE="s3", RCLONE_CONFIG_X_PROVIDER="Other",
                   RCLONE_CONFIG_X_ENDPOINT=srv.url, RCLONE_CONFIG_X_REGION=REGION,
                   RCLONE_CONFIG_X_ACCESS_KEY_ID=srv.token,
                   RCLONE_CONFIG_X_SECRET_ACCESS_KEY=SECRET,
                   RCLONE_CONFIG_X_FORCE_PATH_STYLE="true",
                   RCLONE_CONFIG_X_NO_CHECK_BUCKET="true")
        return env

    @staticmethod
    def curl_auth(srv):
        return f'user = "{srv.token}:{SECRET}"\n'

    @staticmethod
    def curl_cmd(srv, *args, payload_sha256="UNSIGNED-PAYLOAD"):
        # curl 7.x does not add x-amz-content-sha256 itself: over plain HTTP the PUT gets the
        # file's SHA-256 (computed beforehand, outside the timing) so the server checks the same
        # signed payload as for cec and awscli; over HTTPS it is UNSIGNED-PAYLOAD, as cec and
        # awscli send there. (A removed header such as `-H Expect:` would still be signed by
        # curl 7.88: 403.)
        ca = ["--cacert", srv.ca] if srv.ca else []
        return (["curl", "-sS", "--fail", "-K", "-"] + ca
                + ["--aws-sigv4", f"aws:amz:{REGION}:s3",
                   "-H", f"x-amz-content-sha256: {payload_sha256}"] + list(args))

    def gateway_lists(self, srv):
        """Does the gateway implement ListObjectsV2? (awscli --recursive and rclone need it.)"""
        cmd = self.curl_cmd(srv, "-o", os.devnull, "-w", "%{http_code}",
                            f"{srv.url}/io?list-type=2&max-keys=1&prefix=common-files%2F")
        cmd.remove("--fail")
        out = subprocess.run(cmd, input=self.curl_auth(srv), capture_output=True, text=True,
                             env=self.base_env())
        return out.stdout.strip() == "200"

    def cec_mkdir(self, srv, path):
        subprocess.run([str(CEC), "mkdir", "-p", path], env=self.cec_env(srv), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    # -- the benchmark ------------------------------------------------------------------------
    def prepare(self):
        self.big = self.tmp / "big.bin"
        self.size = SIZE_MIB * MIB
        log(f"writing the {SIZE_MIB} MiB file")
        self.big_sha = make_big_file(self.big, self.size)
        self.tree = self.tmp / "tree"
        self.tree.mkdir()
        log(f"writing the tree of {NFILES} files")
        self.tree_bytes = make_tree(self.tree, NFILES)
        self.listing = self.tmp / "tree.list"
        self.listing.write_text("\n".join(tree_listing(self.tree)) + "\n")
        self.dl = self.tmp / "dl"

    def specs(self, srv, lists, r):
        """What each client runs, per kind, in round r: (argv, env, stdin, argv prefix)."""
        big, dl, tree, listing = self.big, self.dl, self.tree, self.listing
        aws = aws_bin()
        cenv, aenv, renv, benv = (self.cec_env(srv), self.aws_env(srv), self.rclone_env(srv),
                                  self.base_env())
        ep = ["--endpoint-url", srv.url]
        rclone = ["rclone"] + (["--ca-cert", srv.ca] if srv.ca else [])
        up_extra = [] if lists else ["--no-traverse"]
        down_extra = [] if lists else ["--files-from", str(listing), "--no-traverse"]
        pre = f"{PREFIX}/r{r}"
        s3 = lambda tool, rest: f"s3://io/{pre}/{tool}/{rest}"  # noqa: E731
        rc = lambda tool, rest: f"x:io/{pre}/{tool}/{rest}"  # noqa: E731
        curl_url = f"{srv.url}/io/{pre}/curl/big.bin"
        auth = self.curl_auth(srv)
        put_sha = self.big_sha if srv.transport == "http" else "UNSIGNED-PAYLOAD"

        def cec(binary, tool):
            c = [str(binary), "scp", "--no-progress"]
            return {
                "big-up": (c + [str(big), f"cells://{pre}/{tool}/"], cenv, None),
                "big-down": (c + [f"cells://{pre}/{tool}/big.bin", str(dl) + "/"], cenv, None),
                "tree-up": (c + [str(tree), f"cells://{pre}/{tool}/"], cenv, None),
                "tree-down": (c + [f"cells://{pre}/{tool}/tree", str(dl) + "/"], cenv, None),
            }

        out = {
            "cec": cec(CEC, "cec"),
            "awscli": {
                "big-up": ([aws] + ep + ["s3", "cp", "--only-show-errors", str(big), s3("aws", "big.bin")], aenv, None),
                "big-down": ([aws] + ep + ["s3", "cp", "--only-show-errors", s3("aws", "big.bin"), str(dl / "big.bin")], aenv, None),
                "tree-up": ([aws] + ep + ["s3", "cp", "--recursive", "--only-show-errors", str(tree), s3("aws", "tree/")], aenv, None),
                "tree-down": ([aws] + ep + ["s3", "cp", "--recursive", "--only-show-errors", s3("aws", "tree/"), str(dl / "tree")], aenv, None),
            },
            "rclone": {
                "big-up": (rclone + ["copyto", str(big), rc("rclone", "big.bin")], renv, None),
                "big-down": (rclone + ["copyto", rc("rclone", "big.bin"), str(dl / "big.bin")], renv, None),
                "tree-up": (rclone + ["copy"] + up_extra + [str(tree), rc("rclone", "tree")], renv, None),
                "tree-down": (rclone + ["copy"] + down_extra + [rc("rclone", "tree"), str(dl / "tree")], renv, None),
            },
            "curl": {
                "big-up": (self.curl_cmd(srv, "-o", os.devnull, "-T", str(big), curl_url,
                                         payload_sha256=put_sha), benv, auth),
                "big-down": (self.curl_cmd(srv, "-o", str(dl / "big.bin"), curl_url), benv, auth),
            },
        }
        if BASELINE:
            # The pair runs A B B A or B A A B in each round (see `order`): a second run of each.
            for name, binary in (("cec-base", BASELINE), ("cec#2", CEC),
                                 ("cec-base#2", BASELINE)):
                out[name] = cec(binary, TOOL_DIR[name])
        return out

    def check(self, kind):
        if kind == "big-down":
            return same_file(self.big, self.dl / "big.bin")
        if kind == "tree-down":
            return same_tree(self.tree, self.dl / "tree")
        return True

    def go(self, srv, r, kind, name, spec, rows):
        cmd, env, stdin_text = spec
        shutil.rmtree(self.dl, ignore_errors=True)
        self.dl.mkdir()
        tag = f"{srv.transport} round {r + 1}/{REPEAT} {kind}: {name}"
        log(f"{tag} ...")
        self.memory.absorb()
        if kind.endswith("-down"):
            warm(srv.root / "data" / "common" / PREFIX.split("/", 1)[1] / f"r{r}" / TOOL_DIR[name])
        else:
            warm(self.big if kind == "big-up" else self.tree)
        load = os.getloadavg()[0]
        before = srv.cpu()
        res = measure(cmd, env, self.tmp, stdin_text)
        if kind.startswith("big-"):
            srv.settle()  # the server indexes what it received after its reply
        after = srv.cpu()
        res.load = load
        res.round = r
        if before is not None and after is not None:
            res.server_cpu = after - before
        if res.ok and not self.check(kind):
            res.ok, res.note = False, "downloaded content differs from the source"
        self.put_aside(self.dl)
        status = "ok" if res.ok else f"FAILED ({res.note})"
        log(f"{tag}: {res.wall:.2f} s, cpu {res.cpu:.2f} s, rss {res.rss_mib:.1f} MiB, "
            f"load {load:.2f}, {status}")
        rows.setdefault((kind, name.split("#")[0]), Row()).add(res)

    def put_aside(self, path):
        """Deleted now when it is one file (the 1 GiB download); moved aside until the end of
        the run when it holds many (see "Deleted files" in the module docs)."""
        if not path.exists():
            return
        files = sum(1 for _ in path.rglob("*"))
        if files <= 16:
            shutil.rmtree(path, ignore_errors=True)
            return
        aside = self.tmp / "aside"
        aside.mkdir(exist_ok=True)
        path.rename(aside / f"{len(list(aside.iterdir()))}")

    def profile(self, srv, lists):
        """One cec upload and download of the big file under perf: category → fraction."""
        if not PROFILE or not CEC_PROFILING.is_file():
            return {k: "not measured (BENCH_PROFILE=0 or no profiling build)"
                    for k in ("big-up", "big-down")}
        out = {}
        specs = self.specs(srv, lists, "p")
        specs_prof = {k: ([str(CEC_PROFILING)] + v[0][1:], v[1], v[2])
                      for k, v in specs["cec"].items()}
        self.cec_mkdir(srv, f"{PREFIX}/rp/cec")
        for kind in ("big-up", "big-down"):
            if kind not in KINDS:
                continue
            data = self.tmp / f"perf-{srv.transport}-{kind}.data"
            cmd, env, _ = specs_prof[kind]
            shutil.rmtree(self.dl, ignore_errors=True)
            self.dl.mkdir()
            log(f"{srv.transport} perf record: {kind}")
            self.memory.absorb()
            wrap = ["perf", "record", "-q", "-e", "cpu-clock", "-F", "1999", "-g",
                    "-o", str(data), "--"]
            res = measure(cmd, env, self.tmp, None, wrap=wrap)
            shutil.rmtree(self.dl, ignore_errors=True)
            if not res.ok:
                out[kind] = f"not measured ({res.note})"
                continue
            out[kind] = perf_breakdown(data)
        return out

    def run(self):
        self.prepare()
        self.memory = MemoryHold(self.tmp)
        report = []
        for transport in TRANSPORTS:
            srv = Server(self.tmp, transport)
            self.servers.append(srv)
            for r in range(REPEAT):
                for tool in TOOL_DIR.values():
                    self.cec_mkdir(srv, f"{PREFIX}/r{r}/{tool}")
            lists = self.gateway_lists(srv)
            rows = {}
            t_start = time.time()
            for r in range(REPEAT):
                by_client = self.specs(srv, lists, r)
                for kind in KINDS:
                    for name in order(r):
                        spec = by_client.get(name, {}).get(kind)
                        if spec is None:
                            continue
                        if kind == "tree-down" and name == "awscli" and not lists:
                            rows.setdefault((kind, name), Row()).add(
                                Run(False, 0, 0, 0, 0, "n/a: no ListObjectsV2"))
                            continue
                        self.go(srv, r, kind, name, spec, rows)
            elapsed = time.time() - t_start
            breakdown = self.profile(srv, lists)
            srv.stop()
            self.servers.remove(srv)
            if not os.environ.get("BENCH_KEEP"):
                # 20+ GiB of uploads per transport: the large files are gone before the next
                # one starts, the trees stay until the end ("Deleted files" in the module docs).
                remove_large_files(srv.root)
                self.put_aside(srv.root)
            report.append(Report(transport, rows, breakdown, self.size, self.tree_bytes, lists,
                                 elapsed).render())
        return "\n".join(report)


def remove_large_files(root):
    """Delete the files of 1 MiB or more under root (the 1 GiB uploads and their parts)."""
    for p in root.rglob("*"):
        try:
            if p.is_file() and not p.is_symlink() and p.stat().st_size >= MIB:
                p.unlink()
        except OSError:
            pass


def warm(path):
    """Read the file at path, or every file under it, so that a run is served from the page
    cache: a download from the server's copy, an upload from its source, whoever ran before
    it (the page cache holds a few GiB, less than a round's transfers)."""
    files = [path] if path.is_file() else [p for p in sorted(path.rglob("*")) if p.is_file()]
    if not files:
        die(f"nothing stored under {path} to read")
    for p in files:
        with open(p, "rb") as f:
            while f.read(8 * MIB):
                pass


def order(r):
    """The clients of round r, in turn. Each round starts with the next client: the first
    run of a kind meets the machine as the previous kind left it (1-4 GiB just written, cold
    page cache), which cost the first downloader up to 2.5x (measured). With a baseline, cec
    and cec-base run back to back as A B B A, and B A A B in the next round, so that neither
    gets the better place and a drift during the pair cancels out (the "no regression" check
    compares them). Without the memory hold, the first download after another client's cost
    2-2.5x, whichever cec binary ran it (2.7-3.4 s against 1.34-1.41 s after rclone's): it
    met the pages the host had taken back (see "Memory")."""
    units = [c for c in CLIENTS if c != "cec-base"]
    turn = r % len(units)
    out = []
    for name in units[turn:] + units[:turn]:
        if name == "cec" and BASELINE:
            pair = ["cec", "cec-base", "cec-base#2", "cec#2"]
            out += pair if r % 2 == 0 else [pair[1], pair[0], pair[3], pair[2]]
        else:
            out.append(name)
    return out


# ---------------------------------------------------------------------------------------------
# Report


def fmt(x, nd=2):
    return "—" if x is None else f"{x:.{nd}f}"


def ratio(a, b):
    return a / b if a is not None and b else None


class Report:
    def __init__(self, transport, rows, breakdown, size, tree_bytes, lists, elapsed):
        self.t = transport
        self.rows = rows
        self.breakdown = breakdown
        self.size = size
        self.tree_bytes = tree_bytes
        self.lists = lists
        self.elapsed = elapsed
        self.out = []
        self.verdicts = []

    def row(self, kind, name):
        r = self.rows.get((kind, name))
        return r if r is not None and r.ok else None

    def rate(self, kind, name):
        r = self.row(kind, name)
        return self.size / MIB / r.wall if r and r.wall else None

    def cpu_per_gib(self, kind, name):
        r = self.row(kind, name)
        return r.cpu / (self.size / GIB) if r else None

    def fps(self, kind, name):
        r = self.row(kind, name)
        return NFILES / r.wall if r and r.wall else None

    def size_label(self):
        return f"{SIZE_MIB / 1024:g} GiB" if SIZE_MIB % 1024 == 0 else f"{SIZE_MIB} MiB"

    def big_table(self):
        o = self.out
        o.append(f"#### One file of {self.size_label()}\n")
        o.append("| Transfer | Client | Wall (s), median (min–max) | Throughput (MiB/s) "
                 "| CPU user+sys (s) | CPU s/GiB | Peak RSS (MiB) | Server CPU (s) | Status |")
        o.append("|---|---|---:|---:|---:|---:|---:|---:|---|")
        for kind, label in (("big-up", "upload"), ("big-down", "download")):
            for name in CLIENTS:
                r = self.rows.get((kind, name))
                if r is None:
                    continue
                sp = r.spread("wall")
                wall = f"{fmt(r.wall)} ({fmt(sp[0])}–{fmt(sp[1])})" if r.ok else "—"
                o.append(f"| {label} | {name} | {wall} | {fmt(self.rate(kind, name), 1)} "
                         f"| {fmt(r.cpu if r.ok else None)} | {fmt(self.cpu_per_gib(kind, name))} "
                         f"| {fmt(r.rss_mib, 1)} | {fmt(r.server_cpu)} "
                         f"| {'ok' if r.ok and not r.note else r.note} |")
        o.append("")

    def tree_table(self):
        o = self.out
        o.append(f"#### Tree of {NFILES} files of 1–64 KiB ({self.tree_bytes / MIB:.1f} MiB)\n")
        o.append("| Transfer | Client | Wall (s), median (min–max) | Files/s | MiB/s "
                 "| CPU user+sys (s) | Peak RSS (MiB) | Server CPU (s) | Status |")
        o.append("|---|---|---:|---:|---:|---:|---:|---:|---|")
        for kind, label in (("tree-up", "upload"), ("tree-down", "download")):
            for name in CLIENTS:
                r = self.rows.get((kind, name))
                if r is None:
                    continue
                sp = r.spread("wall")
                wall = f"{fmt(r.wall)} ({fmt(sp[0])}–{fmt(sp[1])})" if r.ok else "—"
                mibs = self.tree_bytes / MIB / r.wall if r.ok and r.wall else None
                o.append(f"| {label} | {name} | {wall} | {fmt(self.fps(kind, name), 0)} "
                         f"| {fmt(mibs, 1)} | {fmt(r.cpu if r.ok else None)} "
                         f"| {fmt(r.rss_mib, 1)} | {fmt(r.server_cpu)} "
                         f"| {'ok' if r.ok and not r.note else r.note} |")
        o.append("")

    def target(self, label, goal_txt, value_fn, ok_fn):
        cells = []
        for k in ("up", "down"):
            v = value_fn(k)
            if v is None:
                cells.append("n/a")
                self.verdicts.append((f"{label} ({k}load)", None))
            else:
                good = ok_fn(v)
                cells.append(f"{v:.2f} {'✅' if good else '❌'}")
                self.verdicts.append((f"{label} ({k}load)", good))
        self.out.append(f"| {label} | {cells[0]} | {cells[1]} | {goal_txt} |")

    def targets(self):
        o = self.out
        sl = self.size_label()
        o.append(f"#### cec against the targets ({self.t.upper()})\n")
        o.append("| Target | Upload | Download | Goal |")
        o.append("|---|---:|---:|---|")
        big_rate = lambda other: lambda k: ratio(self.rate(f"big-{k}", "cec"),  # noqa: E731
                                                 self.rate(f"big-{k}", other))
        big_cpu = lambda other: lambda k: ratio(self.cpu_per_gib(f"big-{k}", "cec"),  # noqa: E731
                                                self.cpu_per_gib(f"big-{k}", other))
        tree_fps = lambda other: lambda k: ratio(self.fps(f"tree-{k}", "cec"),  # noqa: E731
                                                 self.fps(f"tree-{k}", other))
        if self.t == "https":
            self.target(f"{sl} throughput ÷ awscli", "≥ 1.5×", big_rate("awscli"), lambda v: v >= 1.5)
            self.target(f"{sl} throughput ÷ rclone", "≥ 1.25×", big_rate("rclone"), lambda v: v >= 1.25)
            self.target("CPU per GiB ÷ awscli", "≤ 0.4×", big_cpu("awscli"), lambda v: v <= 0.4)
            self.target("CPU per GiB ÷ rclone", "≤ 1×", big_cpu("rclone"), lambda v: v <= 1.0)
            self.target("Tree files/s ÷ rclone", "≥ 1.5×", tree_fps("rclone"), lambda v: v >= 1.5)
        else:
            self.target(f"{sl} throughput ÷ awscli", "≥ 1.5×", big_rate("awscli"), lambda v: v >= 1.5)
            self.target(f"{sl} throughput ÷ rclone", "≥ 2×", big_rate("rclone"), lambda v: v >= 2.0)
            self.target(f"{sl} throughput ÷ curl", "≥ 0.8×", big_rate("curl"), lambda v: v >= 0.8)
            self.target("CPU per GiB ÷ awscli", "≤ 0.5×", big_cpu("awscli"), lambda v: v <= 0.5)
            self.target("Tree files/s ÷ awscli", "≥ 1×", tree_fps("awscli"), lambda v: v >= 1.0)
            if BASELINE:
                # No regression: within 5 % of the baseline binary measured in the same rounds.
                self.target(f"{sl} throughput ÷ cec-base", "≥ 0.95× (no regression)",
                            big_rate("cec-base"), lambda v: v >= 0.95)
                self.target("CPU per GiB ÷ cec-base", "≤ 1.05× (no regression)",
                            big_cpu("cec-base"), lambda v: v <= 1.05)
                self.target("Tree files/s ÷ cec-base", "≥ 0.95× (no regression)",
                            tree_fps("cec-base"), lambda v: v >= 0.95)

        def rss(k):
            vals = [r.rss_mib for kind in (f"big-{k}", f"tree-{k}")
                    if (r := self.row(kind, "cec")) is not None]
            return max(vals) if vals else None
        self.target("Peak RSS, 1 GiB and tree (MiB)", f"≤ {RSS_LIMIT_MIB} MiB", rss,
                    lambda v: v <= RSS_LIMIT_MIB)
        o.append("")
        met = sum(1 for _, g in self.verdicts if g)
        missed = [n for n, g in self.verdicts if g is False]
        unknown = [n for n, g in self.verdicts if g is None]
        o.append(f"Targets met: {met}/{len(self.verdicts)}"
                 + (f"; missed: {', '.join(missed)}" if missed else "")
                 + (f"; not measurable: {', '.join(unknown)}" if unknown else "") + ".")
        o.append("")

    def cpu_table(self):
        o = self.out
        o.append(f"#### Where cec's CPU goes ({self.t.upper()}, s per GiB)\n")
        o.append("From one more cec run of each direction under `perf record -e cpu-clock` (the "
                 "same code built with its symbols: the `profiling` Cargo profile): each "
                 "category's share of the samples times cec's median CPU per GiB above. The "
                 "dev server's CPU per GiB (same rounds) is the last line.\n")
        o.append("| Category | Upload | Download |")
        o.append("|---|---:|---:|")
        totals = {k: self.cpu_per_gib(k, "cec") for k in ("big-up", "big-down")}
        shares = {k: self.breakdown.get(k) for k in ("big-up", "big-down")}
        for cat in CATEGORY_ORDER:
            cells = []
            for k in ("big-up", "big-down"):
                s, t = shares[k], totals[k]
                cells.append(fmt(s.get(cat, 0.0) * t) if isinstance(s, dict) and t else "—")
            o.append(f"| {cat} | {cells[0]} | {cells[1]} |")
        o.append(f"| **cec, total** | {fmt(totals['big-up'])} | {fmt(totals['big-down'])} |")
        srv = []
        for k in ("big-up", "big-down"):
            r = self.row(k, "cec")
            srv.append(fmt(r.server_cpu / (self.size / GIB)) if r and r.server_cpu else "—")
        o.append(f"| dev server, while serving cec | {srv[0]} | {srv[1]} |")
        for k in ("big-up", "big-down"):
            if isinstance(shares[k], str):
                o.append(f"\n{k}: {shares[k]}")
        o.append("")

    def notes(self):
        notes = []
        if not self.lists:
            notes.append("The gateway does not implement ListObjectsV2 (501): awscli cannot "
                         "download a tree (`s3 cp --recursive` lists), rclone runs with "
                         "`--no-traverse` (upload) and `--files-from <list> --no-traverse` "
                         "(download) instead of listing.")
        notes.append(
            "Default settings everywhere: cec 50 MiB parts × 3 in parallel above 100 MiB; awscli "
            "8 MiB parts × 10; rclone 5 MiB parts × 4 above 200 MiB, and 4 parallel ranged GETs "
            "for downloads above 250 MiB (multi_thread_streams); curl one stream each way (over "
            "plain HTTP its PUT signs the file's SHA-256, computed before the timing, so the "
            "server verifies the same signed payload as for cec and awscli; over HTTPS it sends "
            "UNSIGNED-PAYLOAD like them).")
        # The upload ceiling the server's CPU sets on this machine.
        up_c, up_a = self.row("big-up", "cec"), self.row("big-up", "awscli")
        if up_c and up_a and up_c.server_cpu:
            srv = up_c.server_cpu / (self.size / GIB)
            aws = up_a.cpu / (self.size / GIB)
            aws_srv = (up_a.server_cpu or 0) / (self.size / GIB)
            cec = up_c.cpu / (self.size / GIB)
            cores = os.cpu_count() or 1
            notes.append(
                f"Client and dev server share the machine's {cores} CPUs. Per GiB uploaded, the "
                f"server spent {srv:.1f} s of CPU for cec and {aws_srv:.1f} s for awscli "
                f"(receiving, {'TLS, ' if self.t == 'https' else ''}checking the payload hash "
                f"when signed, the MD5 ETags, writing the parts, joining them (a rename when they are even), indexing); cec "
                f"itself {cec:.1f} s, awscli {aws:.1f} s. With both CPUs busy, one GiB costs at "
                f"least (client + server) / {cores} s of wall time: "
                f"{(cec + srv) / cores:.2f} s for cec, {(aws + aws_srv) / cores:.2f} s for "
                f"awscli — a ceiling of {((aws + aws_srv) / (cec + srv)):.2f}× awscli's "
                f"throughput for cec on this machine, whatever the client does.")
        # The download floor the machine's CPUs set: what client, server and kernel spent.
        down_c, down_r = self.row("big-down", "cec"), self.row("big-down", "rclone")
        if down_c and down_r and down_c.busy and down_c.server_cpu:
            cores = os.cpu_count() or 1
            gib = self.size / GIB
            busy, wall = down_c.busy / gib, down_c.wall / gib
            floor = busy / cores
            notes.append(
                f"Per GiB downloaded by cec, the machine's {cores} CPUs were busy "
                f"{busy:.2f} s in all (cec {down_c.cpu / gib:.2f} s, the dev server "
                f"{down_c.server_cpu / gib:.2f} s, the rest kernel work for both, such as the "
                f"loopback network), {100 * busy / (cores * wall):.0f} % of the "
                f"{cores} × {wall:.2f} s the download took. With every CPU busy it cannot take "
                f"less than {floor:.2f} s: against rclone's {down_r.wall / gib:.2f} s, a ceiling "
                f"of {down_r.wall / down_c.busy * cores:.2f}× rclone's throughput for cec on "
                f"this machine, unless the client or the server spends less CPU per byte.")
        pairs = self.pair_note()
        if pairs:
            notes.append(pairs)
        if self.t == "http" and ((self.rate("big-down", "rclone") or 0)
                                 > (self.rate("big-down", "curl") or float("inf"))):
            notes.append("rclone's download beats the single-stream curl limit here, so "
                         "\"≥ 2× rclone\" asks for more than 2× that limit.")
        loads = [r.load for row in self.rows.values() for r in row.runs if r.load is not None]
        if loads:
            notes.append(f"Load average (1 min) before each run: median {statistics.median(loads):.2f}, "
                         f"min {min(loads):.2f}, max {max(loads):.2f} (the machine is shared: the "
                         f"clients' own load counts too); the {REPEAT} rounds took "
                         f"{self.elapsed:.0f} s.")
        for n in notes:
            self.out.append(f"Note: {n}")
            self.out.append("")

    def pair_note(self):
        """cec against cec-base round by round: each round's four runs are back to back, so
        a round's ratio is free of the drift between rounds that the medians carry."""
        if not BASELINE:
            return None
        parts = []
        for kind, label in (("big-up", f"{self.size_label()} upload"),
                            ("big-down", f"{self.size_label()} download"),
                            ("tree-up", "tree upload"), ("tree-down", "tree download")):
            a, b = self.row(kind, "cec"), self.row(kind, "cec-base")
            if not a or not b:
                continue
            ratios = []
            for r in range(REPEAT):
                wa = [x.wall for x in a.good() if x.round == r]
                wb = [x.wall for x in b.good() if x.round == r]
                if wa and wb:
                    ratios.append(statistics.mean(wb) / statistics.mean(wa))
            spread = max((hi - lo) / row.wall for row in (a, b)
                         for lo, hi in [row.spread("wall")])
            parts.append(f"{label} {', '.join(f'{v:.2f}' for v in ratios)} "
                         f"(either binary's runs spread over {100 * spread:.0f} % of its median)")
        if not parts:
            return None
        return ("cec ÷ cec-base (throughput), round by round, each round's four runs back to "
                "back: " + "; ".join(parts) + ". A difference smaller than that spread is within "
                "these rounds' noise; `BENCH_REPEAT` sets their number.")

    def render(self):
        scheme = "HTTPS (dev server `--tls`)" if self.t == "https" else "plain HTTP"
        self.out.append(f"### {scheme}\n")
        if any(k.startswith("big-") for k in KINDS):
            self.big_table()
        if any(k.startswith("tree-") for k in KINDS):
            self.tree_table()
        self.targets()
        if any(k.startswith("big-") for k in KINDS):
            self.cpu_table()
        self.notes()
        return "\n".join(self.out)


def cec_version(binary=CEC):
    try:
        out = subprocess.run([str(binary), "version"], capture_output=True, text=True, timeout=30)
        version = commit = "?"
        for ln in out.stdout.splitlines():
            if ln.strip().startswith("Version:"):
                version = ln.split(":", 1)[1].strip()
            if ln.strip().startswith("Git commit:"):
                commit = ln.split(":", 1)[1].strip()[:7]
        return f"{version} (git {commit})"
    except (OSError, subprocess.SubprocessError):
        return "?"


def header(cmdline, memory=None):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cpu = "?"
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = int(Path("/proc/meminfo").read_text().split()[1]) // (1024 * 1024)
    except (OSError, ValueError, IndexError):
        mem = "?"
    rev = first_line(["git", "-C", str(REPO), "describe", "--always", "--dirty"])
    versions = [f"cec {cec_version()} (worktree {rev})"]
    if BASELINE:
        versions.append(f"cec-base {cec_version(BASELINE)}")
    versions += [
        first_line([aws_bin() or "aws", "--version"]),
        first_line(["rclone", "version"]),
        " ".join(first_line(["curl", "--version"]).split()[:2]),
    ]
    lines = [
        "# Transfer benchmark",
        "",
        "Written by `make bench` (tests/tools/bench.py): cec against awscli, rclone and curl on the "
        "dev server's S3 gateway (loopback, plain HTTP and HTTPS, default client settings). Wall "
        "time → throughput; CPU = user+sys of the client process tree (GNU time); peak RSS = "
        "maximum resident set of the client (GNU time %M); server CPU from /proc. Each row is "
        f"the median of {REPEAT} rounds in which the clients take turns, each round starting "
        "with the next client (the largest RSS); every run starts after a `sync`, so that no "
        "client pays for writing back what the runs before it wrote, and every download "
        "after the server's copy was read once, so that every client is served from the "
        "page cache"
        + ("; cec and cec-base run back to back, A B B A and B A A B in turn, two runs each per "
           "round." if BASELINE else "."),
        "",
        f"- Date: {now}",
        f"- Machine: {os.cpu_count()} CPUs (nproc), {cpu}, {mem} GiB RAM, "
        f"{platform.system()} {platform.release()}",
        f"- Command: `{cmdline}`",
        f"- Versions: {'; '.join(versions)}",
        f"- {memory.note() if memory else 'Memory: not held.'}",
        "",
    ]
    return "\n".join(lines)


def main():
    install_tools()
    build()
    for p in (CEC, DEVSERVER):
        if not p.is_file():
            die(f"{p} is missing (build it first)")
    overrides = " ".join(f"{k}={os.environ[k]}" for k in
                         ("BENCH_SIZE_MIB", "BENCH_FILES", "BENCH_REPEAT", "BENCH_TRANSPORTS",
                          "BENCH_CLIENTS", "BENCH_KINDS", "BENCH_BASELINE")
                         if k in os.environ)
    cmdline = (overrides + " " if overrides else "") + "make bench"
    bench = Bench()

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        table = bench.run()
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
    finally:
        bench.stop()
    text = header(cmdline, bench.memory) + "\n" + table + "\n"
    print()
    print(text)
    dest = os.environ.get("BENCH_RESULTS")
    if dest:
        dest = Path(dest)
    elif FULL_RUN:
        dest = REPO / "bench" / "results.md"
    else:
        dest = REPO / "target" / "bench" / "results.md"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text)
    log(f"results written to {dest.relative_to(REPO) if dest.is_relative_to(REPO) else dest}")


if __name__ == "__main__":
    main()
