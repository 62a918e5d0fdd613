"""Runs untrusted code (a reporter's proof of concept, a project's test suite) inside bubblewrap.

Plain Python, no Django: callers pass settings in as arguments (`Limits`, `UidPool`).

Each run gets
- its own user, mount, PID, network (only `lo`), IPC, UTS and cgroup namespaces (`bwrap --unshare-all`),
  no further user namespaces (`--disable-userns`), a new session, a seccomp filter that refuses the
  most exploited kernel interfaces (io_uring, bpf, perf events, userfaultfd, keyrings, …);
- a read-only system (`/usr` and the `/bin`, `/lib*` links, a handful of `/etc` files, synthetic
  `/etc/passwd`, `/etc/group`, `/etc/hosts`), a fresh `/proc` and `/dev`, size-limited tmpfs on `/tmp` and
  `/dev/shm`, the work dir read-write at `/work`, the `ro_paths` read-only at their own paths, and nothing
  else of the host (no data dir, `/root`, `/home`, `/work`, `/tmp`, `/var`, `/run`, `/sys`);
- when the caller is root, an unprivileged uid of its own (leased from a range, default 61000-61999), so
  the per-user process limit applies and runs cannot starve each other;
- rlimits (processes, address space, CPU seconds, file size, open files, no core dumps) and, from the
  parent, a wall-clock limit and an output cap.

Where that cannot be had, `check_available` and `run` raise `SandboxUnavailable`: untrusted code never runs
unsandboxed. See docs/sandbox.md for what this does and does not guarantee.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import grp
import os
import platform
import pwd
import re
import secrets
import select
import shutil
import signal
import stat
import struct
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "INSIDE_WORKDIR",
    "Limits",
    "Result",
    "SandboxBusy",
    "SandboxError",
    "SandboxUnavailable",
    "UidPool",
    "check_available",
    "make_venv",
    "run",
]

INSIDE_WORKDIR = "/work"
"""Where `run` binds its work dir inside the sandbox (read-write, and the initial working directory)."""
# The sandbox's own tmpfs mounts and paths (never the host's).
_TMP = "/tmp"  # noqa: S108
_VAR_TMP = "/var/tmp"  # noqa: S108
_SHM = "/dev/shm"  # noqa: S108

_TOOL_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"
_MIN_BWRAP = (0, 8, 0)  # --size for tmpfs, --disable-userns

# Files and directories of the host's /etc that programs commonly need; nothing with secrets or
# site configuration (pip.conf, npmrc, gitconfig, ssh, apt …). A missing one is skipped.
_ETC_PATHS = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/localtime",
    "/etc/timezone",
    "/etc/ssl/certs",
    "/etc/ssl/openssl.cnf",
    "/etc/ca-certificates",
    "/etc/mime.types",
    "/etc/services",
    "/etc/protocols",
    "/etc/os-release",
    "/etc/debian_version",
    "/etc/locale.alias",
)
# Whole-system directories bound read-only (or recreated as the same symlink on merged-/usr systems).
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Directories under /usr hidden behind an empty read-only tmpfs (site configuration such as npmrc).
_HIDDEN_DIRS = ("/usr/local/etc",)
# Inside paths a read-only bind may not take: they would hide or replace the sandbox's own mounts.
_RESERVED = ("/proc", "/dev", "/sys", INSIDE_WORKDIR)

_MEMORY_MARKERS = (
    b"MemoryError",
    b"Cannot allocate memory",
    b"out of memory",
    b"Out of memory",
    b"memory allocation of",
    b"std::bad_alloc",
)


class SandboxError(Exception):
    """The sandbox could not do what was asked (base class)."""


class SandboxUnavailable(SandboxError):
    """Sandboxing is not possible here (bubblewrap missing or too old, user namespaces disabled, …).

    The message says why. Nothing was run."""


class SandboxBusy(SandboxUnavailable):
    """Every uid of the pool is in use by another run: try again later."""


@dataclass(frozen=True)
class Limits:
    wall_seconds: float = 120
    cpu_seconds: int = 120  # per process (RLIMIT_CPU): SIGXCPU at the limit, SIGKILL one second later
    memory_bytes: int = 1024**3  # address space per process (RLIMIT_AS)
    processes: int = 64  # processes and threads of the run (RLIMIT_NPROC for its uid)
    output_bytes: int = 64 * 1024  # what is kept of stdout+stderr (the first 64 KiB)
    output_hard_bytes: int = 8 * 1024**2  # past this much output the run is killed
    file_bytes: int = 256 * 1024**2  # largest file a process may write (RLIMIT_FSIZE)
    tmp_bytes: int = 256 * 1024**2  # size of each of the tmpfs on /tmp and /dev/shm (they use RAM)
    open_files: int = 1024  # RLIMIT_NOFILE
    nice: int = 10  # CPU niceness (0-19) and lowest best-effort I/O priority, so the web server goes first

    def __post_init__(self) -> None:
        if self.wall_seconds <= 0:
            raise ValueError("wall_seconds must be positive")
        for name in ("cpu_seconds", "memory_bytes", "processes", "file_bytes", "tmp_bytes", "open_files"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.output_bytes < 0 or self.output_hard_bytes < self.output_bytes:
            raise ValueError("need 0 <= output_bytes <= output_hard_bytes")
        if not 0 <= self.nice <= 19:
            raise ValueError("nice must be within 0 … 19")


@dataclass(frozen=True)
class UidPool:
    """The uids a root caller runs sandboxes as: one per concurrent run, leased with a lock file in
    `lock_dir` (root-only). Uids that belong to an existing user or group are skipped."""

    first: int = 61000
    last: int = 61999
    lock_dir: Path = Path("/run/embargo-sandbox")

    def __post_init__(self) -> None:
        if not 1000 <= self.first <= self.last < 2**31 - 1:
            raise ValueError("the sandbox uid range must lie within 1000 … 2**31-2")


@dataclass(frozen=True)
class Result:
    exit_code: int | None  # None when killed (by the supervisor or a signal)
    output: bytes  # the first `output_bytes` of combined stdout/stderr
    output_truncated: bool
    duration: float  # seconds
    killed: str | None  # None, or "wall_time", "output", "cpu_time", "memory" (best effort), "file_size", "signal"
    signal_number: int | None = None  # the signal the program died of, when it did
    output_bytes_total: int = 0  # how much output the run produced before it ended or was stopped
    uid: int = -1  # the host uid the run ran as

    @property
    def ok(self) -> bool:
        return self.killed is None and self.exit_code == 0


@dataclass(frozen=True)
class _Bind:
    source: Path  # on the host, resolved
    dest: str  # inside the sandbox
    writable: bool


# --- availability ------------------------------------------------------------------------------------

_available_lock = threading.Lock()
_available: bool = False


@dataclass(frozen=True)
class _Tools:
    bwrap: str
    prlimit: str
    setpriv: str | None  # only when the caller is root
    nice: str | None
    ionice: str | None


def _tools() -> _Tools:
    if platform.system() != "Linux":
        raise SandboxUnavailable(f"the sandbox needs Linux (this is {platform.system()})")
    bwrap = shutil.which("bwrap", path=_TOOL_PATH)
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap is not installed (`bwrap` not found; Debian package: bubblewrap)")
    prlimit = shutil.which("prlimit", path=_TOOL_PATH)
    if prlimit is None:
        raise SandboxUnavailable("`prlimit` not found (Debian package: util-linux)")
    setpriv = None
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv", path=_TOOL_PATH)
        if setpriv is None:
            raise SandboxUnavailable("`setpriv` not found (Debian package: util-linux)")
    return _Tools(
        bwrap=bwrap,
        prlimit=prlimit,
        setpriv=setpriv,
        nice=shutil.which("nice", path=_TOOL_PATH),
        ionice=shutil.which("ionice", path=_TOOL_PATH),
    )


def _bwrap_version(bwrap: str) -> tuple[int, ...]:
    try:
        out = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [bwrap, "--version"], capture_output=True, timeout=10, check=False, env={"PATH": _TOOL_PATH}
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SandboxUnavailable(f"cannot run {bwrap}: {e}") from e
    m = re.search(rb"(\d+)\.(\d+)(?:\.(\d+))?", out.stdout)
    if out.returncode != 0 or m is None:
        raise SandboxUnavailable(f"cannot tell bubblewrap's version: {out.stdout!r} {out.stderr!r}")
    return tuple(int(g or 0) for g in m.groups())


def _userns_hints() -> str:
    hints = []
    for sysctl, bad, text in (
        ("/proc/sys/user/max_user_namespaces", "0", "user namespaces are disabled (user.max_user_namespaces = 0)"),
        (
            "/proc/sys/kernel/unprivileged_userns_clone",
            "0",
            "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)",
        ),
        (
            "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
            "1",
            "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1); "
            "give bwrap an AppArmor profile that allows userns",
        ),
    ):
        try:
            if Path(sysctl).read_text().strip() == bad:
                hints.append(text)
        except OSError:
            pass
    return "; ".join(hints)


def check_available(*, uids: UidPool | None = None) -> None:
    """Raises SandboxUnavailable(reason) unless a sandbox can be started here.

    Checks the tools, bubblewrap's version, and starts one empty sandbox exactly as `run` would. A success
    is remembered for the life of the process; a failure is checked again on the next call."""
    global _available
    if _available:
        return
    with _available_lock:
        if _available:
            return
        tools = _tools()
        version = _bwrap_version(tools.bwrap)
        if version < _MIN_BWRAP:
            raise SandboxUnavailable(
                f"bubblewrap {'.'.join(map(str, _MIN_BWRAP))} or newer is needed, found {'.'.join(map(str, version))}"
            )
        probe = _execute(
            ["true"],
            binds=[],
            chdir="/",
            env=None,
            limits=Limits(wall_seconds=30, cpu_seconds=10, processes=16),
            uids=uids or UidPool(),
            tools=tools,
        )
        if not probe.ok:
            reason = probe.output.decode("utf-8", "replace").strip() or f"exit code {probe.exit_code}"
            hints = _userns_hints()
            raise SandboxUnavailable(
                f"bubblewrap cannot start a sandbox here: {reason}" + (f" ({hints})" if hints else "")
            )
        _available = True


# --- public API --------------------------------------------------------------------------------------


def run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    workdir: Path,
    ro_paths: Sequence[Path] = (),
    env: Mapping[str, str] | None = None,
    limits: Limits = Limits(),
    uids: UidPool | None = None,
) -> Result:
    """Runs `argv` in a fresh sandbox and returns how it ended.

    `workdir` (a host directory) is bound read-write at /work, which is also the working directory;
    each of `ro_paths` is bound read-only at its own absolute path. The environment is PATH, HOME=/tmp,
    TMPDIR=/tmp, LANG=C.UTF-8, USER/LOGNAME=sandbox, MALLOC_ARENA_MAX=2, then `env`. Nothing is passed
    through a shell.

    When the caller is root the run uses a uid leased from `uids`; the work dir's tree is handed to that
    uid for the run and back to its previous owner afterwards (files with several hard links are left as
    they are, so read-only for the run). Every directory above `workdir` and the `ro_paths` must be
    traversable by other users (mode o+x), and `ro_paths` readable by them: the sandbox opens them as
    its own uid.

    Raises SandboxUnavailable (nothing ran) or ValueError (bad arguments)."""
    pool = uids or UidPool()
    check_available(uids=pool)
    binds = [_Bind(_existing_dir(workdir, "workdir"), INSIDE_WORKDIR, writable=True)]
    for p in ro_paths:
        source = Path(p)
        if not source.is_absolute():
            raise ValueError(f"ro_paths must be absolute: {source}")
        source = source.resolve(strict=True)
        dest = str(source)
        if dest in ("/", _TMP) or any(dest == r or dest.startswith(r + "/") for r in _RESERVED):
            raise ValueError(f"{source} cannot be bound read-only into the sandbox (reserved path)")
        binds.append(_Bind(source, dest, writable=False))
    return _execute([os.fspath(a) for a in argv], binds=binds, chdir=INSIDE_WORKDIR, env=env, limits=limits, uids=pool)


def make_venv(
    path: Path,
    *,
    python: str = "/usr/bin/python3",
    with_pip: bool = True,
    limits: Limits = Limits(wall_seconds=300),
    uids: UidPool | None = None,
) -> Path:
    """Builds a virtual environment at `path` (absent or empty) and returns its python.

    The venv is created inside a sandbox, by an unprivileged uid, with `python -m venv` (Debian's
    /usr/bin/python3 needs the python3-venv package for pip), then handed back to the owner of
    `path`'s parent, read-only for everyone else. It is meant to be bound read-only at the same path into
    later runs (`ro_paths=[path]`), or run directly by any uid that can traverse to it. Its console
    scripts carry `path` in their shebang lines; `python -m pip`, `python -m pytest` work anywhere.

    `python` must be runnable by an unprivileged uid inside the sandbox: Debian's interpreters under /usr
    are; another prefix is bound read-only for the build, and has to be passed in `ro_paths` of the runs
    too (the pyenv builds under /root are not usable). Raises SandboxUnavailable, or SandboxError with
    the output of a failed build."""
    path = Path(path)
    if not path.is_absolute():
        raise ValueError(f"the venv path must be absolute: {path}")
    if not python.startswith("/"):
        raise ValueError(f"the interpreter must be given by its absolute path: {python}")
    parent = path.parent.resolve(strict=True)
    path = parent / path.name
    if path.exists() and (not path.is_dir() or path.is_symlink() or any(path.iterdir())):
        raise ValueError(f"{path} exists and is not an empty directory")
    dest = str(path)
    if len(path.parts) < 3 or any(path.is_relative_to(d) for d in (*_NEVER_WRITABLE, *_RESERVED)):
        raise ValueError(f"{path} cannot hold a sandbox venv")
    pool = uids or UidPool()
    check_available(uids=pool)
    created = not path.exists()
    path.mkdir(mode=0o755, exist_ok=True)
    owner = parent.stat()
    os.chown(path, owner.st_uid, owner.st_gid)
    binds = [_Bind(path, dest, writable=True)]
    prefix = Path(python).resolve().parent.parent
    if not any(str(prefix) == d or str(prefix).startswith(d + "/") for d in ("/usr", "/bin", "/lib")):
        binds.append(_Bind(prefix, str(prefix), writable=False))
    argv = [python, "-m", "venv", *(() if with_pip else ("--without-pip",)), dest]
    try:
        result = _execute(argv, binds=binds, chdir=_TMP, env=None, limits=limits, uids=pool)
        if not result.ok:
            text = result.output.decode("utf-8", "replace")
            raise SandboxError(f"`{' '.join(argv)}` failed ({result.killed or result.exit_code}):\n{text}")
        venv_python = path / "bin" / "python"
        if not venv_python.exists():
            raise SandboxError(f"{venv_python} was not created")
    except BaseException:
        if created:
            shutil.rmtree(path, ignore_errors=True)
        else:
            for child in path.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
        raise
    # Nobody but the owner may change it: later runs share it read-only.
    for _root, dirs, files, dir_fd in os.fwalk(path):
        for name in [*dirs, *files]:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode):
                os.chmod(name, stat.S_IMODE(st.st_mode) & ~0o7022, dir_fd=dir_fd)
    os.chmod(path, 0o755)  # noqa: S103 - every sandbox uid runs it; nobody but its owner writes it
    return venv_python


# --- the run -----------------------------------------------------------------------------------------


_NEVER_WRITABLE = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/proc", "/sys",
                   "/dev", "/run")  # fmt: skip


def _existing_dir(path: Path, what: str) -> Path:
    """A directory the sandbox may write (and a root caller hands to the run's uid): not /, not a
    top-level directory such as /tmp or /home, not inside the system."""
    p = Path(path)
    if not p.is_absolute():
        raise ValueError(f"{what} must be absolute: {p}")
    p = p.resolve(strict=True)
    if not p.is_dir():
        raise ValueError(f"{what} is not a directory: {p}")
    if len(p.parts) < 3 or any(p.is_relative_to(d) for d in _NEVER_WRITABLE):
        raise ValueError(f"{p} cannot be a sandbox's writable {what}")
    return p


def _check_reachable(bind: _Bind, uid: int) -> None:
    """bwrap opens bind sources as the run's uid: every directory above must be traversable by it."""
    for d in reversed(bind.source.parents):
        st = os.stat(d)
        if not (st.st_mode & (stat.S_IXUSR if st.st_uid == uid else stat.S_IXOTH)):
            raise ValueError(
                f"{d} (mode {stat.S_IMODE(st.st_mode):04o}) is not traversable by the sandbox's uid, so "
                f"{bind.source} cannot be bound: keep sandbox directories under a directory other users "
                "can traverse (mode 0711 or 0755), not inside Embargo's data dir"
            )
    if not bind.writable:
        st = os.stat(bind.source)
        need = (stat.S_IROTH | stat.S_IXOTH) if stat.S_ISDIR(st.st_mode) else stat.S_IROTH
        if st.st_uid != uid and (st.st_mode & need) != need:
            raise ValueError(f"{bind.source} (mode {stat.S_IMODE(st.st_mode):04o}) is not readable by other users")


@contextlib.contextmanager
def _lease_uid(pool: UidPool) -> Iterator[int | None]:
    """Yields a uid of `pool` that no other run holds (None when the caller is not root)."""
    if os.geteuid() != 0:
        yield None
        return
    try:
        pool.lock_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.lstat(pool.lock_dir)
    except OSError as e:
        raise SandboxUnavailable(f"cannot use the uid lock dir {pool.lock_dir}: {e}") from e
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0 or st.st_mode & 0o022:
        raise SandboxUnavailable(f"the uid lock dir {pool.lock_dir} must be a directory owned by root, mode 0700")
    count = pool.last - pool.first + 1
    start = secrets.randbelow(count)
    for i in range(count):
        uid = pool.first + (start + i) % count
        if _id_taken(uid):
            continue
        fd = os.open(pool.lock_dir / str(uid), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            _kill_uid(uid)  # nothing should be left, but a run must start alone
            yield uid
        finally:
            os.close(fd)  # releases the lock
        return
    raise SandboxBusy(f"all {count} sandbox uids ({pool.first}-{pool.last}) are in use")


def _id_taken(uid: int) -> bool:
    for lookup in (pwd.getpwuid, grp.getgrgid):
        try:
            lookup(uid)
        except KeyError:
            continue
        return True
    return False


def _uid_pids(uid: int) -> list[int]:
    """The live processes whose real, effective, saved or filesystem uid is `uid`."""
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"State:") and line.split()[1:2] in ([b"Z"], [b"X"]):
                        break  # a zombie runs nothing; whoever adopted it reaps it
                    if line.startswith(b"Uid:"):
                        if str(uid).encode() in line.split()[1:]:
                            pids.append(int(entry.name))
                        break
        except OSError:
            continue
    return pids


def _kill_uid(uid: int) -> None:
    """SIGKILLs every process running as `uid` until none is left (root only; the uid is leased)."""
    for _ in range(100):
        pids = _uid_pids(uid)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.02)
    raise SandboxError(f"processes of sandbox uid {uid} survive SIGKILL")


_Owners = dict[tuple[int, int], tuple[int, int]]  # (st_dev, st_ino) -> (uid, gid) before the run


def _walk(top: Path) -> Iterator[tuple[str | Path, int | None, os.stat_result]]:
    """`top` and everything below it, without following symlinks or crossing into other file systems."""
    top_st = os.stat(top, follow_symlinks=False)
    yield top, None, top_st
    for _root, dirs, files, dir_fd in os.fwalk(top):
        for name in list(dirs):
            try:
                st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                dirs.remove(name)
                continue
            if st.st_dev != top_st.st_dev:
                dirs.remove(name)  # a mount point: not ours to hand over
                continue
            yield name, dir_fd, st
        for name in files:
            try:
                st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            yield name, dir_fd, st


def _hand_over(top: Path, uid: int, gid: int, before: _Owners) -> None:
    """Gives `top`'s tree to the run's uid, noting the previous owners in `before`. Files with several
    hard links are left alone (they may be shared with something outside the tree): the run can read
    them, and replace them, but not write into them."""
    for name, dir_fd, st in _walk(top):
        if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
            continue
        before[(st.st_dev, st.st_ino)] = (st.st_uid, st.st_gid)
        os.chown(name, uid, gid, dir_fd=dir_fd, follow_symlinks=False)


def _take_back(top: Path, run_uid: int, before: _Owners, default: tuple[int, int]) -> None:
    """Returns what the run's uid owns in `top`'s tree to its previous owner, or for what the run
    created to `default` (the owner of `top`), and strips set-id bits from it. Run with no process
    of the uid left, so nothing changes under the walk."""
    for name, dir_fd, st in _walk(top):
        if st.st_uid != run_uid:
            continue
        uid, gid = before.get((st.st_dev, st.st_ino), default)
        os.chown(name, uid, gid, dir_fd=dir_fd, follow_symlinks=False)
        setid = st.st_mode & (stat.S_ISUID | stat.S_ISGID)
        if setid and (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
            os.chmod(name, stat.S_IMODE(st.st_mode) & ~(stat.S_ISUID | stat.S_ISGID), dir_fd=dir_fd)


def _execute(
    argv: list[str],
    *,
    binds: list[_Bind],
    chdir: str,
    env: Mapping[str, str] | None,
    limits: Limits,
    uids: UidPool,
    tools: _Tools | None = None,
) -> Result:
    if not argv or any("\0" in a for a in argv):
        raise ValueError("argv must be a non-empty list of strings without NUL")
    tools = tools or _tools()
    with _lease_uid(uids) as leased:
        uid = os.getuid() if leased is None else leased
        gid = os.getgid() if leased is None else leased
        handed: list[tuple[Path, _Owners, tuple[int, int]]] = []
        try:
            if leased is not None:
                for b in binds:
                    if b.writable:
                        top = os.stat(b.source)
                        before: _Owners = {}
                        handed.append((b.source, before, (top.st_uid, top.st_gid)))
                        _hand_over(b.source, uid, gid, before)
                for b in binds:
                    _check_reachable(b, uid)
            return _supervise(_command(argv, binds, chdir, env, limits, tools, uid, gid), limits, uid)
        finally:
            if leased is not None:
                _kill_uid(leased)
                for source, before, default in handed:
                    _take_back(source, leased, before, default)


@dataclass
class _Command:
    argv: list[str]
    fds: list[int]

    def close(self) -> None:
        for fd in self.fds:
            with contextlib.suppress(OSError):
                os.close(fd)


def _data_fd(name: str, data: bytes) -> int:
    fd = os.memfd_create(name, os.MFD_CLOEXEC)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _command(
    argv: list[str],
    binds: list[_Bind],
    chdir: str,
    env: Mapping[str, str] | None,
    limits: Limits,
    tools: _Tools,
    uid: int,
    gid: int,
) -> _Command:
    fds: list[int] = []
    cmd: list[str] = []
    if limits.nice and tools.nice is not None:
        cmd += [tools.nice, "-n", str(limits.nice)]
    if limits.nice and tools.ionice is not None:
        cmd += [tools.ionice, "-t", "-c", "2", "-n", "7"]  # -t: go on where I/O priorities are not supported
    if tools.setpriv is not None and uid != os.getuid():
        cmd += [tools.setpriv, f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--no-new-privs"]
    cmd += [
        tools.prlimit,
        f"--nproc={limits.processes}",
        f"--as={limits.memory_bytes}",
        f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 1}",
        f"--fsize={limits.file_bytes}",
        f"--nofile={limits.open_files}",
        "--core=0",
    ]
    cmd += [
        tools.bwrap,
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--hostname",
        "sandbox",
    ]
    for d in _SYSTEM_DIRS:
        if os.path.islink(d):
            cmd += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            cmd += ["--ro-bind", d, d]
    for d in _HIDDEN_DIRS:
        if os.path.isdir(d) and not os.path.islink(d):
            cmd += ["--perms", "0555", "--tmpfs", d, "--remount-ro", d]
    for p in _ETC_PATHS:
        if os.path.islink(p):
            cmd += ["--symlink", os.readlink(p), p]
        elif os.path.exists(p):
            cmd += ["--ro-bind", p, p]
    for python_etc in sorted(Path("/etc").glob("python3*")):  # Debian's sitecustomize
        if python_etc.is_dir():
            cmd += ["--ro-bind", str(python_etc), str(python_etc)]
    for name, data in _etc_files(uid, gid).items():
        fd = _data_fd(name, data)
        fds.append(fd)
        cmd += ["--perms", "0444", "--ro-bind-data", str(fd), f"/etc/{name}"]
    cmd += ["--dev", "/dev", "--size", str(limits.tmp_bytes), "--tmpfs", _SHM, "--remount-ro", "/dev"]
    cmd += ["--proc", "/proc", "--size", str(limits.tmp_bytes), "--tmpfs", _TMP, "--symlink", "../tmp", _VAR_TMP]
    for b in binds:
        cmd += ["--bind" if b.writable else "--ro-bind", str(b.source), b.dest]
    cmd += ["--remount-ro", "/", "--chdir", chdir]
    filt = _seccomp_filter()
    if filt is not None:
        fd = _data_fd("seccomp", filt)
        fds.append(fd)
        cmd += ["--seccomp", str(fd)]
    full_env = {
        "PATH": _SANDBOX_PATH,
        "HOME": _TMP,
        "TMPDIR": _TMP,
        "LANG": "C.UTF-8",
        "USER": "sandbox",
        "LOGNAME": "sandbox",
        "MALLOC_ARENA_MAX": "2",
    }
    full_env.update(env or {})
    cmd.append("--clearenv")
    for key, value in full_env.items():
        if not key or "=" in key or "\0" in key or "\0" in value:
            raise ValueError(f"bad environment variable {key!r}")
        cmd += ["--setenv", key, value]
    cmd += ["--", *argv]
    return _Command(cmd, fds)


def _etc_files(uid: int, gid: int) -> dict[str, bytes]:
    return {
        "passwd": (
            "root:x:0:0:root:/root:/usr/sbin/nologin\n"
            f"sandbox:x:{uid}:{gid}:sandbox:/tmp:/usr/sbin/nologin\n"
            "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        ).encode(),
        "group": f"root:x:0:\nsandbox:x:{gid}:\nnogroup:x:65534:\n".encode(),
        "hosts": b"127.0.0.1\tlocalhost sandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n",
        "hostname": b"sandbox\n",
        "nsswitch.conf": (
            b"passwd: files\ngroup: files\nshadow: files\nhosts: files\nnetworks: files\n"
            b"protocols: files\nservices: files\nethers: files\nrpc: files\n"
        ),
        "resolv.conf": b"",
    }


def _supervise(command: _Command, limits: Limits, uid: int) -> Result:
    read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    started = time.monotonic()
    try:
        proc = subprocess.Popen(  # noqa: S603 - argv list, never a shell
            command.argv,
            stdin=subprocess.DEVNULL,
            stdout=write_fd,
            stderr=write_fd,
            pass_fds=command.fds,
            start_new_session=True,  # own session and process group, no controlling terminal
            env={"PATH": _TOOL_PATH, "LANG": "C.UTF-8"},
            umask=0o022,
        )
    except OSError as e:
        os.close(read_fd)
        raise SandboxUnavailable(f"cannot start {command.argv[0]}: {e}") from e
    finally:
        os.close(write_fd)
        command.close()

    deadline = started + limits.wall_seconds
    kept = bytearray()
    tail = b""
    total = 0
    killed: str | None = None
    status: int | None = None

    def kill() -> None:
        # bwrap's own child (the namespace's init) dies with it (--die-with-parent), and every process of
        # the PID namespace with that init; root also sweeps the leased uid afterwards.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    def consume(chunk: bytes) -> None:
        nonlocal total, tail
        if len(kept) < limits.output_bytes:
            kept.extend(chunk[: limits.output_bytes - len(kept)])
        total += len(chunk)
        tail = (tail + chunk)[-4096:]

    os.set_blocking(read_fd, False)
    poller = select.poll()
    poller.register(read_fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    eof = False
    try:
        while True:
            now = time.monotonic()
            if now >= deadline:
                killed = "wall_time"
                break
            if eof:
                pid, st = os.waitpid(proc.pid, os.WNOHANG)
                if pid:
                    status = st
                    break
                time.sleep(min(0.02, deadline - now))
                continue
            if not poller.poll(max(1, int(min(deadline - now, 0.5) * 1000))):
                continue
            try:
                chunk = os.read(read_fd, 65536)
            except BlockingIOError:
                continue
            if not chunk:
                eof = True
                continue
            consume(chunk)
            if total > limits.output_hard_bytes:
                killed = "output"
                break
        if status is None:
            kill()
            _, status = os.waitpid(proc.pid, 0)
        # What the pipe still holds (the writers are gone once bwrap's namespace is).
        drain_until = time.monotonic() + 2
        while not eof and time.monotonic() < drain_until and total <= limits.output_hard_bytes:
            if not poller.poll(100):
                continue
            try:
                chunk = os.read(read_fd, 65536)
            except BlockingIOError:
                continue
            if not chunk:
                break
            consume(chunk)
    finally:
        if status is None:  # an exception on the way: leave nothing running
            kill()
            with contextlib.suppress(ChildProcessError):
                os.waitpid(proc.pid, 0)
            proc.returncode = -signal.SIGKILL
        os.close(read_fd)
    duration = time.monotonic() - started

    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code  # reaped here, not by Popen
    exit_code: int | None = None
    signum: int | None = None
    if killed is None:
        if code < 0:  # bwrap itself died of a signal
            signum = -code
        elif code > 128 and (code - 128) in signal.valid_signals():  # bwrap reports a signal as 128 + n
            signum = code - 128
        else:
            exit_code = code
        if signum is not None:
            # SIGXCPU at the soft CPU limit; SIGKILL a second later if the program caught SIGXCPU.
            if signum == signal.SIGXCPU or (signum == signal.SIGKILL and duration >= limits.cpu_seconds):
                killed = "cpu_time"
            elif signum == signal.SIGXFSZ:
                killed = "file_size"
            elif any(m in tail for m in _MEMORY_MARKERS):
                killed = "memory"
            else:
                killed = "signal"
        elif exit_code != 0 and any(m in tail for m in _MEMORY_MARKERS):
            killed = "memory"  # the program gave up after an allocation failed (best effort)
        elif exit_code != 0 and b"File too large" in tail:
            killed = "file_size"  # EFBIG where SIGXFSZ is ignored (Python ignores it; best effort)
    return Result(
        exit_code=exit_code,
        output=bytes(kept),
        output_truncated=total > limits.output_bytes,
        duration=duration,
        killed=killed,
        signal_number=signum,
        output_bytes_total=total,
        uid=uid,
    )


# --- seccomp -----------------------------------------------------------------------------------------

_AUDIT_ARCH_X86_64 = 0xC000003E
_X32_BIT = 0x40000000
# Kernel interfaces a test suite does not need and kernel exploits often do.
_DENIED_X86_64 = {
    "syslog": 103,
    "uselib": 134,
    "_sysctl": 156,
    "init_module": 175,
    "delete_module": 176,
    "quotactl": 179,
    "lookup_dcookie": 212,
    "kexec_load": 246,
    "add_key": 248,
    "request_key": 249,
    "keyctl": 250,
    "perf_event_open": 298,
    "name_to_handle_at": 303,
    "open_by_handle_at": 304,
    "finit_module": 313,
    "kexec_file_load": 320,
    "bpf": 321,
    "userfaultfd": 323,
    "io_uring_setup": 425,
    "io_uring_enter": 426,
    "io_uring_register": 427,
}
_BPF_LD_W_ABS = 0x20
_BPF_JEQ_K = 0x15
_BPF_JGE_K = 0x35
_BPF_RET_K = 0x06
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_RET_KILL_PROCESS = 0x80000000


def _seccomp_filter() -> bytes | None:
    """A classic-BPF seccomp program: other architectures' and x32 system calls kill the process, the
    calls in _DENIED_X86_64 fail with EPERM, everything else is allowed. None off x86-64."""
    if platform.machine() != "x86_64":
        return None
    denied = sorted(set(_DENIED_X86_64.values()))
    n = len(denied)
    # layout: 0 ld arch | 1 jeq arch | 2 ld nr | 3 jge x32 | 4..4+n-1 jeq nr | 4+n allow | 5+n errno | 6+n kill
    errno_at, kill_at = 5 + n, 6 + n
    prog = [
        (_BPF_LD_W_ABS, 0, 0, 4),
        (_BPF_JEQ_K, 0, kill_at - 2, _AUDIT_ARCH_X86_64),
        (_BPF_LD_W_ABS, 0, 0, 0),
        (_BPF_JGE_K, kill_at - 4, 0, _X32_BIT),
    ]
    for i, nr in enumerate(denied):
        pc = 4 + i
        prog.append((_BPF_JEQ_K, errno_at - pc - 1, 0, nr))
    prog += [
        (_BPF_RET_K, 0, 0, _RET_ALLOW),
        (_BPF_RET_K, 0, 0, _RET_ERRNO | errno.EPERM),
        (_BPF_RET_K, 0, 0, _RET_KILL_PROCESS),
    ]
    return b"".join(struct.pack("=HBBI", *ins) for ins in prog)
