"""The sandbox that runs reporters' proofs of concept and projects' test suites (embargo.fixes.sandbox).

"Sandbox escapes that must fail, each asserted": every test below runs a small hostile Python script
with Debian's /usr/bin/python3 inside the real sandbox (bubblewrap, and an unprivileged uid when the
tests run as root, as in CI), with small limits, and asserts both that the escape was contained and that
it was reported; afterwards no process of a sandbox uid may be left (the `_nothing_left` fixture).
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from embargo.fixes import sandbox
from embargo.fixes.sandbox import Limits, Result, SandboxUnavailable

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(
        shutil.which("bwrap", path="/usr/local/bin:/usr/bin:/bin") is None,
        reason="bubblewrap is not installed (Debian package `bubblewrap`; .ci/run installs it)",
    ),
]

PYTHON = "/usr/bin/python3"  # Debian's: an unprivileged uid can run it (the pyenv builds live under /root)
SMALL = Limits(
    wall_seconds=20,
    cpu_seconds=10,
    memory_bytes=512 * 1024**2,
    processes=32,
    output_bytes=16 * 1024,
    output_hard_bytes=1024**2,
    tmp_bytes=64 * 1024**2,
)
UIDS = sandbox.UidPool()
AS_ROOT = os.geteuid() == 0
# Paths inside the sandbox (its own tmpfs), or on the host where the test checks nothing arrived.
TMP, VAR_TMP, SHM = "/tmp", "/var/tmp", "/dev/shm"  # noqa: S108


def _sandbox_processes() -> dict[int, list[str]]:
    by_uid: dict[int, list[str]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry.name}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        uid = int(fields.get("Uid", "0").split()[0])
        if UIDS.first <= uid <= UIDS.last and fields.get("State", "").split()[:1] not in (["Z"], ["X"]):
            by_uid.setdefault(uid, []).append(f"{entry.name} uid={uid} {fields.get('Name', '').strip()}")
    return by_uid


def _leftover_sandbox_processes() -> list[str]:
    """Live processes of a sandbox uid that no run holds a lease on (other test sessions may be running
    sandboxes at the same time: theirs hold their uid's lock)."""
    leftovers = []
    for uid in _sandbox_processes():
        fd = os.open(UIDS.lock_dir / str(uid), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue  # a run in progress
        try:
            leftovers += _sandbox_processes().get(uid, [])  # looked at again, with no run holding the uid
        finally:
            os.close(fd)
    return leftovers


@pytest.fixture(autouse=True)
def _nothing_left() -> Iterator[None]:
    yield
    if AS_ROOT:
        assert _leftover_sandbox_processes() == []


@pytest.fixture
def area() -> Iterator[Path]:
    """Like a deployment's sandbox directory: traversable by every uid (0711), listable by none."""
    base = Path(tempfile.mkdtemp(prefix="embargo-sandbox-test-"))
    base.chmod(0o711)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def workdir(area: Path) -> Path:
    w = area / "work"
    w.mkdir(mode=0o700)
    return w


def run_script(workdir: Path, source: str, *args: str, python: str = PYTHON, **kwargs: object) -> Result:
    (workdir / "poc.py").write_text(source)
    kwargs.setdefault("limits", SMALL)
    return sandbox.run([python, "poc.py", *args], workdir=workdir, **kwargs)  # type: ignore[arg-type]


def lines(result: Result) -> dict[str, str]:
    """The script's `key: value` lines."""
    text = result.output.decode("utf-8", "replace")
    return dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)


# --- what must work ----------------------------------------------------------------------------------


def test_a_normal_script_reads_its_input_writes_its_workdir_and_reports_its_exit(area: Path, workdir: Path) -> None:
    inputs = area / "input"
    inputs.mkdir(mode=0o755)
    (inputs / "payload.txt").write_text("héllo\n")
    (inputs / "payload.txt").chmod(0o644)
    (workdir / "given.txt").write_text("from the caller\n")
    (area / "shared.txt").write_text("shared\n")
    os.link(area / "shared.txt", workdir / "linked.txt")  # e.g. git's hard-linked objects
    if AS_ROOT:
        (workdir / "theirs.txt").write_text("another user's\n")
        os.chown(workdir / "theirs.txt", 12345, 12345)
    result = run_script(
        workdir,
        """
import os, sys
print("uid:", os.getuid())
print("cwd:", os.getcwd())
print("home:", os.environ["HOME"])
print("extra:", os.environ.get("EXTRA"))
print("payload:", open(sys.argv[1], encoding="utf-8").read().strip())
print("given:", open("given.txt").read().strip())
try:
    open(os.path.join(os.path.dirname(sys.argv[1]), "new.txt"), "w")
    print("input writable: yes")
except OSError as e:
    print("input writable: no", e.strerror)
try:
    open("linked.txt", "a").write("changed")
    print("linked writable: yes")
except OSError as e:
    print("linked writable: no", e.strerror)
with open("result.txt", "w") as f:
    f.write("computed\\n")
os.makedirs("deep/er", exist_ok=True)
open("/tmp/scratch", "w").write("tmp works")
print("scratch:", open("/tmp/scratch").read())
sys.stderr.write("to stderr\\n")
sys.exit(3)
""",
        str(inputs / "payload.txt"),
        ro_paths=[inputs],
        env={"EXTRA": "value with spaces; $(not a shell)"},
    )
    assert result.exit_code == 3
    assert result.killed is None
    assert not result.output_truncated
    out = lines(result)
    assert out["cwd"] == "/work"
    assert out["home"] == TMP
    assert out["extra"] == "value with spaces; $(not a shell)"
    assert out["payload"] == "héllo"
    assert out["given"] == "from the caller"
    assert out["input writable"].startswith("no")
    assert out["scratch"] == "tmp works"
    assert b"to stderr\n" in result.output
    assert (workdir / "result.txt").read_text() == "computed\n"
    assert (workdir / "deep" / "er").is_dir()
    assert not (inputs / "new.txt").exists()
    if AS_ROOT:
        assert UIDS.first <= int(out["uid"]) <= UIDS.last
        assert result.uid == int(out["uid"])
        # A file linked from outside the work dir is not handed to the run.
        assert out["linked writable"].startswith("no")
        assert (area / "shared.txt").read_text() == "shared\n"
        # The work dir is handed back: every file to its previous owner, what the run made to the
        # owner of the work dir; nothing on the host stays owned by the run's uid.
        assert (workdir / "theirs.txt").stat().st_uid == 12345
        for path in [workdir, *workdir.rglob("*")]:
            if path.name != "theirs.txt":
                assert (path.lstat().st_uid, path.lstat().st_gid) == (0, 0), path
    assert result.duration < 10


def test_make_venv_builds_a_venv_that_runs_inside_the_sandbox(area: Path, workdir: Path) -> None:
    venv = area / "venv"
    python = sandbox.make_venv(venv)
    assert python == venv / "bin" / "python"
    if AS_ROOT:
        assert venv.stat().st_uid == 0
    writable_by_others = [p for p in [venv, *venv.rglob("*")] if not p.is_symlink() and p.stat().st_mode & 0o022]
    assert writable_by_others == []
    result = run_script(
        workdir,
        """
import os, sys, sysconfig
print("prefix:", sys.prefix)
print("base:", sys.base_prefix)
import pip
print("pip:", pip.__version__)
try:
    open(os.path.join(sysconfig.get_paths()["purelib"], "planted.py"), "w")
    print("venv writable: yes")
except OSError:
    print("venv writable: no")
""",
        python=str(python),
        ro_paths=[venv],
    )
    assert result.exit_code == 0, result.output
    out = lines(result)
    assert out["prefix"] == str(venv)
    assert out["base"] == "/usr"
    assert out["pip"]
    assert out["venv writable"] == "no"
    # `python -m` works in the venv inside the sandbox too.
    result = sandbox.run([str(python), "-m", "pip", "--version"], workdir=workdir, ro_paths=[venv], limits=SMALL)
    assert result.exit_code == 0, result.output
    assert str(venv).encode() in result.output


# --- escapes that must fail --------------------------------------------------------------------------


def test_cannot_read_the_data_dir_or_anything_else_of_the_host(area: Path, workdir: Path) -> None:
    # The worst case for a mount namespace: a data dir every uid could read, in a directory every uid
    # can traverse. Only the mount namespace stands between the script and the secret.
    marker = f"EMBARGO-SECRET-{secrets.token_hex(8)}"
    data_dir = area / "data"
    data_dir.mkdir(mode=0o755)
    (data_dir / "keys").write_text(marker)
    (data_dir / "keys").chmod(0o644)
    (workdir / "control.txt").write_text(marker)  # proves that the search below finds what it can see
    result = run_script(
        workdir,
        """
import os, stat, sys
data_dir = sys.argv[1]
for path in (data_dir, data_dir + "/keys", "/proc/1/root" + data_dir + "/keys", "/proc/self/root" + data_dir,
             "/root", "/home", "/etc/shadow", "/etc/pip.conf", "/var/lib", "/run", "/sys/kernel",
             "/usr/local/etc/npmrc", "/tmp" + data_dir[4:]):
    try:
        if os.path.isdir(path):
            print("visible:", path, os.listdir(path))
        else:
            print("visible:", path, open(path, "rb").read()[:40])
    except OSError as e:
        print("hidden:", path, e.strerror)
print("root:", sorted(os.listdir("/")))
print("tmp:", sorted(os.listdir("/tmp")))
# Search everything the sandbox can see (but /usr, the host's read-only system) for the secret.
prefix = b"EMBARGO-" + b"SECRET-"
for top in ("/etc", "/tmp", "/var", "/dev", "/work"):
    for dirpath, dirnames, filenames in os.walk(top):
        for name in filenames:
            path = os.path.join(dirpath, name)
            if path == "/work/poc.py":
                continue
            try:
                if not stat.S_ISREG(os.lstat(path).st_mode):
                    continue  # devices, links to our own pipes
                with open(path, "rb") as f:
                    if prefix in f.read(1 << 20):
                        print("FOUND:", path)
            except OSError:
                pass
""",
        str(data_dir),
    )
    assert result.exit_code == 0, result.output
    assert marker.encode() not in result.output
    assert [line for line in result.output.decode().splitlines() if "FOUND" in line] == ["FOUND: /work/control.txt"]
    assert b"visible:" not in result.output, result.output.decode()
    out = lines(result)
    assert eval(out["root"]) == ["bin", "dev", "etc", "lib", "lib64", "proc", "sbin", "tmp", "usr", "var", "work"]  # noqa: S307
    assert eval(out["tmp"]) == []  # noqa: S307


def test_cannot_write_outside_its_workdir_and_tmp(area: Path, workdir: Path) -> None:
    inputs = area / "input"
    inputs.mkdir(mode=0o755)
    host_file = area / "host-tmp-file"
    token = secrets.token_hex(6)
    result = run_script(
        workdir,
        """
import os, sys
token, host_file, inputs = sys.argv[1:4]
targets = ["/usr/" + token, "/usr/bin/" + token, "/etc/" + token, "/etc/passwd", "/" + token, "/bin/" + token,
           "/dev/" + token, "/proc/" + token, "/var/" + token, inputs + "/" + token, "/work/" + token,
           "/tmp/" + token, "/var/tmp/v" + token, "/dev/shm/" + token]
for path in targets:
    try:
        with open(path, "a") as f:
            f.write("x")
        print("wrote:", path)
    except OSError as e:
        print("refused:", path, e.strerror)
# The host's /tmp path of a file: the directories can be made, in the sandbox's own /tmp only.
os.makedirs(os.path.dirname(host_file), exist_ok=True)
with open(host_file, "w") as f:
    f.write("escaped")
print("host file inside:", open(host_file).read())
""",
        token,
        str(host_file),
        str(inputs),
        ro_paths=[inputs],
    )
    assert result.exit_code == 0, result.output
    text = result.output.decode()
    wrote = {line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("wrote: ")}
    assert wrote == {f"/work/{token}", f"{TMP}/{token}", f"{VAR_TMP}/v{token}", f"{SHM}/{token}"}
    assert text.count("refused: ") == 10
    assert (workdir / token).read_text() == "x"
    for outside in (Path("/usr") / token, Path("/etc") / token, Path("/") / token, Path(TMP) / token,
                    Path(VAR_TMP) / f"v{token}", Path(SHM) / token, inputs / token):  # fmt: skip
        assert not outside.exists(), outside
    assert not host_file.exists()
    assert "root:x:0:0" in Path("/etc/passwd").read_text()


def test_cannot_connect_to_a_server_on_the_hosts_loopback(workdir: Path) -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    port = server.getsockname()[1]
    abstract_name = f"\0embargo-test-{secrets.token_hex(6)}"
    unix_server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix_server.bind(abstract_name)
    unix_server.listen(8)
    unix_server.setblocking(False)
    try:
        result = run_script(
            workdir,
            """
import socket, sys
port, abstract_name = int(sys.argv[1]), "\\0" + sys.argv[2]
print("interfaces:", sorted(name for _, name in socket.if_nameindex()))
for family, address in ((socket.AF_INET, ("127.0.0.1", port)), (socket.AF_INET6, ("::1", port)),
                        (socket.AF_INET, ("10.0.2.2", port)), (socket.AF_UNIX, abstract_name)):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(address)
        print("connected:", address)
    except OSError as e:
        print("failed:", repr(address), e.strerror or e)
try:
    socket.getaddrinfo("example.org", 443)
    print("dns: resolved")
except OSError as e:
    print("dns: failed")
print("localhost:", socket.getaddrinfo("localhost", 80, socket.AF_INET)[0][4][0])
""",
            str(port),
            abstract_name[1:],
        )
        assert result.exit_code == 0, result.output
        text = result.output.decode()
        assert "connected:" not in text
        assert text.count("failed: ") == 4
        out = lines(result)
        assert out["interfaces"] == "['lo']"
        assert out["dns"] == "failed"
        assert out["localhost"] == "127.0.0.1"
        for listening in (server, unix_server):
            with pytest.raises(BlockingIOError):
                listening.accept()  # nothing ever arrived
    finally:
        server.close()
        unix_server.close()


def test_a_fork_bomb_is_stopped_by_the_process_limit(workdir: Path) -> None:
    limits = Limits(wall_seconds=3, cpu_seconds=10, processes=24, output_bytes=4096, output_hard_bytes=65536)
    started = time.monotonic()
    result = run_script(
        workdir,
        """
import os
while True:
    try:
        if os.fork() > 0:
            os.write(1, b"+")
    except OSError:
        pass
""",
        limits=limits,
    )
    assert result.killed == "wall_time"
    assert result.exit_code is None
    forks = result.output.count(b"+")
    assert 0 < forks < limits.processes  # the namespace's init and the script count too
    assert time.monotonic() - started < limits.wall_seconds + 5
    # The host is fine: it can start processes, and the next run works.
    assert subprocess.run(["true"], check=False).returncode == 0
    assert run_script(workdir, "print('still here')").output == b"still here\n"


def test_a_memory_hog_hits_the_memory_limit(workdir: Path) -> None:
    limits = Limits(wall_seconds=20, cpu_seconds=10, memory_bytes=256 * 1024**2)
    result = run_script(
        workdir,
        """chunks = []
try:
    while True:
        chunks.append(bytearray(8 * 1024 * 1024))
except MemoryError:
    got = len(chunks) * 8
    chunks.clear()
    print("got MiB:", got, flush=True)
    raise
""",
        limits=limits,
    )
    assert result.killed == "memory"
    assert result.exit_code == 1
    assert b"MemoryError" in result.output
    assert int(lines(result)["got MiB"]) < 256
    assert result.duration < 10


def test_an_endless_loop_is_killed_at_the_cpu_limit(workdir: Path) -> None:
    limits = Limits(wall_seconds=20, cpu_seconds=1)
    result = run_script(workdir, "while True:\n    pass\n", limits=limits)
    assert result.killed == "cpu_time"
    assert result.exit_code is None
    assert 0.9 < result.duration < 6


def test_a_sleeping_run_and_its_daemon_are_killed_at_the_wall_limit(workdir: Path) -> None:
    limits = Limits(wall_seconds=1.5, cpu_seconds=10)
    result = run_script(
        workdir,
        """
import os, sys, time
print("started", flush=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:  # a daemon, detached, without our output pipe
        os.close(0); os.close(1); os.close(2)
        while True:
            time.sleep(1)
    os._exit(0)
time.sleep(3600)
""",
        limits=limits,
    )
    assert result.killed == "wall_time"
    assert result.exit_code is None
    assert result.output == b"started\n"
    assert 1.5 <= result.duration < 5
    # (and `_nothing_left` checks that the daemon is gone)


def test_printing_100_mib_is_cut_at_the_hard_cap(workdir: Path) -> None:
    limits = Limits(wall_seconds=30)  # the default caps: 64 KiB kept, killed past 8 MiB
    result = run_script(
        workdir,
        """import sys
block = bytes(range(256)) * 4096  # 1 MiB
for i in range(100):
    sys.stdout.buffer.write(block)
sys.stdout.flush()
print("not reached", file=sys.stderr)
""",
        limits=limits,
    )
    assert result.killed == "output"
    assert result.exit_code is None
    assert result.output_truncated
    assert len(result.output) == limits.output_bytes == 64 * 1024
    assert result.output == (bytes(range(256)) * 4096)[: limits.output_bytes]
    assert limits.output_hard_bytes < result.output_bytes_total < 100 * 1024**2
    assert result.duration < 10


def test_filling_tmp_fails_and_a_huge_file_is_stopped(workdir: Path) -> None:
    limits = Limits(wall_seconds=20, tmp_bytes=4 * 1024**2, file_bytes=6 * 1024**2)
    result = run_script(
        workdir,
        """
import os
for place in ("/tmp", "/dev/shm"):
    try:
        with open(place + "/fill", "wb") as f:
            for _ in range(64):
                f.write(b"x" * 1024 * 1024)
                f.flush()
        print(place + ":", "filled")
    except OSError as e:
        print(place + ":", e.strerror)
    os.unlink(place + "/fill")
print("now a big file", flush=True)
with open("big", "wb") as f:
    for _ in range(64):
        f.write(b"x" * 1024 * 1024)
        f.flush()
print("not reached")
""",
        limits=limits,
    )
    out = lines(result)
    assert out[TMP] == out[SHM] == "No space left on device"
    assert result.killed == "file_size"
    assert result.exit_code == 1  # Python ignores SIGXFSZ: the write fails with EFBIG
    assert b"File too large" in result.output
    assert b"not reached" not in result.output
    assert (workdir / "big").stat().st_size <= limits.file_bytes


def test_the_kernel_attack_surface_is_narrowed(workdir: Path) -> None:
    result = run_script(
        workdir,
        """
import ctypes, os, subprocess
libc = ctypes.CDLL(None, use_errno=True)
for name, nr in (("io_uring_setup", 425), ("bpf", 321), ("keyctl", 250), ("userfaultfd", 323),
                 ("perf_event_open", 298)):
    ctypes.set_errno(0)
    rc = libc.syscall(nr, 0, 0, 0, 0, 0)
    print(name + ":", rc, os.strerror(ctypes.get_errno()))
userns = subprocess.run(["unshare", "--user", "true"], capture_output=True)
print("userns:", userns.returncode)
status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines())
print("caps:", status["CapEff"].strip(), status["CapBnd"].strip())
print("nnp:", status["NoNewPrivs"].strip())
print("seccomp:", status["Seccomp"].strip())
print("uid:", os.getuid())
print("nice:", os.nice(0))
""",
    )
    assert result.exit_code == 0, result.output
    out = lines(result)
    if os.uname().machine == "x86_64":
        for name in ("io_uring_setup", "bpf", "keyctl", "userfaultfd", "perf_event_open"):
            assert out[name] == "-1 Operation not permitted", name
        assert out["seccomp"] == "2"
    assert out["userns"] != "0"
    assert out["caps"] == "0000000000000000 0000000000000000"
    assert out["nnp"] == "1"
    assert out["uid"] != "0"
    assert out["nice"] == "10"  # the web server and the worker go first


# --- refusing rather than running unsandboxed --------------------------------------------------------


def test_without_bubblewrap_it_refuses_and_runs_nothing(
    workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setattr(sandbox, "_TOOL_PATH", str(empty))
    monkeypatch.setattr(sandbox, "_available", False)
    with pytest.raises(SandboxUnavailable, match="bubblewrap is not installed"):
        sandbox.check_available()
    with pytest.raises(SandboxUnavailable, match="bubblewrap"):
        run_script(workdir, "open('ran', 'w').write('yes')")
    assert not (workdir / "ran").exists()


def test_where_bubblewrap_cannot_create_namespaces_it_refuses_and_runs_nothing(
    area: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in for bwrap on a kernel without unprivileged user namespaces: it says so and exits 1.
    tools = area / "bin"
    tools.mkdir(mode=0o755)
    fake = tools / "bwrap"
    fake.write_text(
        "#!/usr/bin/python3\nimport sys\n"
        "if sys.argv[1:] == ['--version']:\n    print('bubblewrap 0.8.0')\n    sys.exit(0)\n"
        "print('bwrap: No permissions to create new namespace', file=sys.stderr)\nsys.exit(1)\n"
    )
    fake.chmod(0o755)
    for name in ("prlimit", "setpriv", "nice", "ionice"):
        real = shutil.which(name)
        if real:
            (tools / name).symlink_to(real)
    monkeypatch.setattr(sandbox, "_TOOL_PATH", str(tools))
    monkeypatch.setattr(sandbox, "_available", False)
    with pytest.raises(SandboxUnavailable, match="cannot start a sandbox here: bwrap: No permissions"):
        sandbox.check_available()
    with pytest.raises(SandboxUnavailable):
        run_script(workdir, "open('ran', 'w').write('yes')")
    assert not (workdir / "ran").exists()


@pytest.mark.skipif(not AS_ROOT, reason="only a root caller hands directories to another uid")
def test_a_workdir_the_sandbox_uid_cannot_reach_is_refused(tmp_path: Path) -> None:
    hidden = tmp_path / "private"  # pytest's tmp_path lives under a 0700 directory
    hidden.mkdir()
    with pytest.raises(ValueError, match="not traversable by the sandbox's uid"):
        sandbox.run([PYTHON, "-c", "pass"], workdir=hidden, limits=SMALL)
    assert hidden.stat().st_uid == 0


@pytest.mark.skipif(not AS_ROOT, reason="only a root caller leases uids")
def test_concurrent_runs_get_uids_of_their_own(area: Path) -> None:
    workdirs = [area / f"w{i}" for i in range(4)]
    for w in workdirs:
        w.mkdir()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda w: run_script(w, "import time; time.sleep(0.5)"), workdirs))
    assert all(r.exit_code == 0 for r in results)
    assert len({r.uid for r in results}) == 4


@pytest.mark.parametrize("where", ["/", TMP, "/usr/lib", "/etc"])
def test_system_directories_cannot_be_a_workdir(where: str) -> None:
    before = os.stat(where)
    with pytest.raises(ValueError, match="cannot be a sandbox's writable workdir"):
        sandbox.run([PYTHON, "-c", "pass"], workdir=Path(where), limits=SMALL)
    assert os.stat(where).st_uid == before.st_uid


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError, match="output_bytes"):
        Limits(output_bytes=10, output_hard_bytes=5)
    with pytest.raises(ValueError, match="wall_seconds"):
        Limits(wall_seconds=0)
