"""`embargo backup PATH` and `embargo restore PATH`: one encrypted archive holds a whole instance.

The archive (format 1) is a tar stream encrypted as a whole:

    header   b"EMBARGO-BACKUP\\0" (15 bytes), version (1 byte, 1), KDF (1 byte, 1 = scrypt), log2(n) (1 byte),
             r (4 bytes), p (4 bytes), salt (16 bytes), chunk size (4 bytes)          -- big-endian
    chunks   length (4 bytes) + AES-256-GCM(ciphertext + tag), one per CHUNK bytes of the tar stream

The key is scrypt(passphrase, salt). Chunk i is sealed with the nonce i (11 bytes) + a last-chunk flag (1 byte)
and the header as associated data, so that chunks cannot be reordered, dropped, or the stream cut short
without the restore noticing. Memory stays at one chunk whatever the size of the instance.

The tar stream holds, in this order:
    manifest.json               format, engine, creation moment, counts
    database/embargo.sqlite3    SQLite: a consistent copy made with SQLite's online backup API
    database/embargo.pgdump     PostgreSQL: `pg_dump --format=custom`
    keys/kek                    the key ring (every KEK a data key of the copy uses), wherever it is kept
    data/…                      every other file of the data dir: the sealed files (files/…, ciphertext as
                                stored), Django's signing key (keys/django-secret: sessions and private links
                                keep working), the mail spool; not the database's own files, nor lock files,
                                nor the collected static files (static/, rebuilt by `embargo collectstatic`)

With EMBARGO_FILE_STORAGE=s3 the sealed files live in a bucket, not in the data dir: the archive does not hold
them, its manifest names the bucket ("external_files"), and `embargo backup` says so. The bucket is backed up on
its own (versioning, replication); its objects are ciphertext whose data keys are in the database of the archive.

Restoring checks the whole archive (every chunk authenticated, the tar readable, only expected names) before it
writes anything, and refuses a data dir or database that already holds an instance.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import shutil
import sqlite3
import struct
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from glob import glob
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.conf import settings
from django.db import connection

from embargo import clock
from embargo.vault import files, keys
from embargo.vault.progress import Progress

MAGIC = b"EMBARGO-BACKUP\0"
VERSION = 1
KDF_SCRYPT = 1
# scrypt with n = 2**17, r = 8: 128 MiB of memory and a fraction of a second per try.
SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P = 17, 8, 1
CHUNK = 1024 * 1024
_HEADER = struct.Struct(">15sBBBII16sI")
_LENGTH = struct.Struct(">I")
MIN_PASSPHRASE = 12
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/embargo.sqlite3"
PGDUMP_MEMBER = "database/embargo.pgdump"
_ALLOWED = re.compile(r"^(manifest\.json|database/embargo\.(sqlite3|pgdump)|keys/kek|data/.+)$")


class BackupError(Exception):
    pass


# --- encryption --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)  # a restore reads the archive twice (check, then write): one KDF run
def _derive(passphrase: str, salt: bytes, log_n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=2**log_n, r=r, p=p).derive(passphrase.encode())


def _nonce(index: int, last: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class EncryptingWriter(io.RawIOBase):
    """A write-only stream that seals what it is given, chunk by chunk, into `out`."""

    def __init__(self, out: IO[bytes], passphrase: str) -> None:
        super().__init__()
        salt = os.urandom(16)
        self.header = _HEADER.pack(MAGIC, VERSION, KDF_SCRYPT, SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P, salt, CHUNK)
        self.aead = AESGCM(_derive(passphrase, salt, SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P))
        self.out = out
        self.buffer = bytearray()
        self.index = 0
        out.write(self.header)

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.buffer += data
        while len(self.buffer) > CHUNK:  # keep at least one byte back: the last chunk is sealed on close
            self._seal(bytes(self.buffer[:CHUNK]), last=False)
            del self.buffer[:CHUNK]
        return len(data)

    def _seal(self, plain: bytes, last: bool) -> None:
        sealed = self.aead.encrypt(_nonce(self.index, last), plain, self.header)
        self.out.write(_LENGTH.pack(len(sealed)) + sealed)
        self.index += 1

    def close(self) -> None:
        if not self.closed:
            self._seal(bytes(self.buffer), last=True)
            self.buffer.clear()
        super().close()


class DecryptingReader(io.RawIOBase):
    """A read-only stream of the tar inside an archive; raises BackupError on a wrong passphrase or damage."""

    def __init__(self, source: IO[bytes], passphrase: str, progress: Callable[[int], None] | None = None) -> None:
        super().__init__()
        header = source.read(_HEADER.size)
        if len(header) < _HEADER.size or not header.startswith(MAGIC):
            raise BackupError("this is not an Embargo backup archive")
        _, version, kdf, log_n, r, p, salt, chunk = _HEADER.unpack(header)
        if version != VERSION or kdf != KDF_SCRYPT:
            raise BackupError(f"this archive has format {version}.{kdf}, which this version of Embargo cannot read")
        # Bounds, so that a crafted header cannot make the KDF or a chunk take unbounded memory.
        if not (10 <= log_n <= 22 and 1 <= r <= 32 and 1 <= p <= 16 and 1 <= chunk <= 64 * CHUNK):
            raise BackupError("the archive's header is damaged")
        self.header, self.chunk, self.source, self.progress = header, chunk, source, progress
        if progress:
            progress(len(header))
        self.aead = AESGCM(_derive(passphrase, salt, log_n, r, p))
        self.index = 0
        self.buffer = b""
        self.finished = False

    def readable(self) -> bool:
        return True

    def _next(self) -> None:
        length_bytes = self.source.read(_LENGTH.size)
        if len(length_bytes) < _LENGTH.size:
            raise BackupError("the archive is cut short (its last part is missing)")
        (length,) = _LENGTH.unpack(length_bytes)
        if length > self.chunk + 16:
            raise BackupError("the archive is damaged")
        sealed = self.source.read(length)
        if self.progress:
            self.progress(_LENGTH.size + len(sealed))
        for last in (False, True):
            try:
                self.buffer = self.aead.decrypt(_nonce(self.index, last), sealed, self.header)
            except InvalidTag:
                continue
            self.finished = last
            self.index += 1
            return
        if self.index == 0:
            raise BackupError("wrong passphrase (or the archive is damaged)")
        raise BackupError(f"the archive is damaged (part {self.index + 1} does not open)")

    def readinto(self, target: Any) -> int:
        while not self.buffer and not self.finished:
            self._next()
        n = min(len(target), len(self.buffer))
        target[:n] = self.buffer[:n]
        self.buffer = self.buffer[n:]
        if not n and self.finished and self.source.read(1):
            raise BackupError("the archive has data after its last part")
        return n


# --- the database ------------------------------------------------------------------------------------


def engine() -> str:
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {vendor}")
    return vendor


def _sqlite_path() -> Path:
    return Path(settings.DATABASES["default"]["NAME"])


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = glob(f"/usr/lib/postgresql/*/bin/{name}")
    if not candidates:
        raise BackupError(f"{name} is neither on PATH nor under /usr/lib/postgresql/*/bin (install postgresql-client)")

    def major(path: str) -> int:
        match = re.search(r"/postgresql/(\d+)/", path)
        return int(match.group(1)) if match else 0

    return max(candidates, key=major)


def _pg_env() -> dict[str, str]:
    """The connection in libpq's environment variables: the password never appears on a command line."""
    s = settings.DATABASES["default"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for var, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD")):
        if s.get(key):
            env[var] = str(s[key])
    env["PGDATABASE"] = str(s["NAME"])
    return env


def _run(argv: list[str]) -> None:
    result = subprocess.run(argv, env=_pg_env(), capture_output=True, text=True, check=False)  # noqa: S603 - fixed argv
    if result.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} failed: {result.stderr.strip()[-2000:]}")


def _copy_database(folder: Path) -> tuple[str, Path]:
    if engine() == "sqlite":
        if not _sqlite_path().is_file():
            raise BackupError(f"there is no database at {_sqlite_path()} to back up")
        copy = folder / "embargo.sqlite3"
        source = sqlite3.connect(f"file:{_sqlite_path()}?mode=ro", uri=True)
        target = sqlite3.connect(copy)
        try:
            # One consistent snapshot, even while the server writes (SQLite's online backup API).
            source.backup(target)
        finally:
            target.close()
            source.close()
        return SQLITE_MEMBER, copy
    dump = folder / "embargo.pgdump"
    _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--file", str(dump)])
    return PGDUMP_MEMBER, dump


def database_is_empty() -> bool:
    if engine() == "sqlite":
        path = _sqlite_path()
        return not path.exists() or path.stat().st_size == 0
    with connection.cursor() as cursor:
        return not connection.introspection.table_names(cursor)


# --- backup ------------------------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: str
    engine: str
    files: int
    bytes: int
    # Where the sealed files are when the archive does not hold them (an S3 bucket), else None.
    external_files: str | None = None


def _add(tar: tarfile.TarFile, name: str, path: Path, progress: Progress) -> None:
    info = tarfile.TarInfo(name)
    info.size = path.stat().st_size
    info.mode = 0o600
    info.mtime = int(path.stat().st_mtime)
    with path.open("rb") as f:
        tar.addfile(info, _Counting(f, progress))
    progress.advance(0)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(clock.now().timestamp())
    tar.addfile(info, io.BytesIO(data))


class _Counting(io.RawIOBase):
    def __init__(self, f: IO[bytes], progress: Progress) -> None:
        super().__init__()
        self.f, self.progress = f, progress

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        data = self.f.read(len(target))
        target[: len(data)] = data
        self.progress.advance(len(data))
        return len(data)


def _stored_files(data_dir: Path, skip: set[Path]) -> list[tuple[str, Path]]:
    """The data dir's files but the database's own, the key ring (added on its own), locks and our temporaries."""
    skip = {p.resolve() for p in skip}
    if engine() == "sqlite":
        db = _sqlite_path().resolve()
        skip |= {db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"), db.with_name(db.name + "-journal")}
    kek = keys.key_file().resolve()
    skip |= {kek, kek.with_name(kek.name + ".lock")}
    static_root = Path(settings.EMBARGO_STATIC_ROOT).resolve()
    stored = []
    for p in sorted(data_dir.rglob("*")):
        relative = p.relative_to(data_dir)
        if not p.is_file() or p.resolve() in skip or relative.parts[0].startswith((".backup-", ".restore-")):
            continue
        if p.resolve().is_relative_to(static_root):  # copies of the installed package's files, rebuilt at start
            continue
        stored.append((f"data/{relative.as_posix()}", p))
    return stored


def backup(path: Path, passphrase: str, *, show_progress: bool = True) -> BackupResult:
    if len(passphrase) < MIN_PASSPHRASE:
        raise BackupError(f"the passphrase is shorter than {MIN_PASSPHRASE} characters")
    if path.exists():
        raise BackupError(f"{path} exists already; choose a new name")
    data_dir = Path(settings.EMBARGO_DATA_DIR)
    ring_before = keys.ring()
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        out = open(partial, "xb")  # noqa: SIM115 - closed below, after the encrypting writer
    except OSError as e:
        raise BackupError(f"cannot write {path}: {e.strerror}") from None
    os.chmod(partial, 0o600)
    progress = Progress("backup", total=0, scale_bytes=True, enabled=show_progress)
    try:
        with tempfile.TemporaryDirectory(dir=data_dir, prefix=".backup-") as tmp, out:
            member, copy = _copy_database(Path(tmp))
            # Both rings, before and after the copy: a rotation running meanwhile may have re-wrapped some data
            # keys of the copy with a newer KEK, or retired an older one that the copy still uses.
            after = keys.ring()
            ring = keys.KeyRing(current_id=after.current_id, keys={**ring_before.keys, **after.keys})
            used = _kek_ids_of_copy(copy) if member == SQLITE_MEMBER else None
            missing = sorted((used or set()) - set(ring.keys))
            if missing:
                raise BackupError(f"the key ring lacks the key-encryption keys {missing} that the database uses")
            stored = _stored_files(data_dir, {path, partial})
            progress.set_total(copy.stat().st_size + sum(p.stat().st_size for _, p in stored))
            manifest = {
                "format": VERSION,
                "engine": engine(),
                "database": member,
                "created_at": clock.now().isoformat(),
                "files": len(stored),
                "kek_ids": sorted(ring.keys),
                "external_files": files.external_location(),
            }
            writer = EncryptingWriter(out, passphrase)
            with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())
                _add(tar, member, copy, progress)
                _add_bytes(tar, "keys/kek", keys.serialize(ring).encode())
                for name, file in stored:
                    _add(tar, name, file, progress)
            writer.close()
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        progress.close()
    return BackupResult(
        path=str(path),
        engine=str(manifest["engine"]),
        files=len(stored),
        bytes=path.stat().st_size,
        external_files=files.external_location(),
    )


def _kek_ids_of_copy(copy: Path) -> set[str]:
    db = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    try:
        return {row[0] for row in db.execute("SELECT DISTINCT kek_id FROM vault_datakey")}
    except sqlite3.OperationalError:  # a database that was never migrated
        return set()
    finally:
        db.close()


# --- restore -----------------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    engine: str
    files: int
    created_at: str
    # The bucket that held the sealed files when the backup was made (not in the archive), else None.
    external_files: str | None = None


def _occupied(data_dir: Path) -> list[str]:
    """What makes the data dir not empty. Django's signing key is made by every start of Embargo (this command's
    too), and the restore replaces it; empty folders and the key ring's lock file do not count either."""
    ignored = {"keys/django-secret", "keys/kek.lock"}
    static_root = Path(settings.EMBARGO_STATIC_ROOT).resolve()
    found = []
    for p in sorted(data_dir.rglob("*")):
        name = p.relative_to(data_dir).as_posix()
        if p.is_file() and name not in ignored and not p.resolve().is_relative_to(static_root):
            found.append(name)
    kek = keys.key_file()
    if kek.exists() and not kek.is_relative_to(data_dir):
        found.append(str(kek))
    return found


@contextmanager
def _open_archive(path: Path, passphrase: str, progress: Progress | None) -> Iterator[tarfile.TarFile]:
    try:
        source = path.open("rb")
    except OSError as e:
        raise BackupError(f"cannot read {path}: {e.strerror}") from None
    with source:
        reader = DecryptingReader(source, passphrase, progress.advance if progress else None)
        try:
            with tarfile.open(fileobj=reader, mode="r|") as tar:
                yield tar
        except tarfile.TarError as e:
            raise BackupError(f"the archive's content is damaged: {e}") from None


def _check(path: Path, passphrase: str, progress: Progress) -> dict[str, Any]:
    """Reads the whole archive once without writing anything: the passphrase, every chunk and every name."""
    manifest: dict[str, Any] | None = None
    with _open_archive(path, passphrase, progress) as tar:
        for member in tar:
            parts = member.name.split("/")
            if not member.isfile() or not _ALLOWED.match(member.name) or any(p in ("", ".", "..") for p in parts):
                raise BackupError(f"the archive holds an unexpected entry {member.name!r}")
            f = tar.extractfile(member)
            if f is None:
                raise BackupError(f"the archive's entry {member.name!r} does not read")
            if member.name == MANIFEST:
                manifest = json.loads(f.read())
            else:
                while f.read(CHUNK):
                    pass
    if manifest is None or manifest.get("format") != VERSION:
        raise BackupError("the archive has no manifest of a format this version of Embargo reads")
    return manifest


def restore(path: Path, passphrase: str, *, show_progress: bool = True) -> RestoreResult:
    data_dir = Path(settings.EMBARGO_DATA_DIR)
    occupied = _occupied(data_dir)
    if occupied:
        listed = ", ".join(occupied[:5]) + (" …" if len(occupied) > 5 else "")
        raise BackupError(f"the data dir {data_dir} is not empty ({listed}); restore into an empty one")
    if not database_is_empty():
        raise BackupError("the database already holds tables; restore into an empty database")
    size = path.stat().st_size if path.exists() else 0
    checking = Progress("checking the archive", total=size, scale_bytes=True, enabled=show_progress)
    try:
        manifest = _check(path, passphrase, checking)
    finally:
        checking.close()
    if manifest.get("engine") != engine():
        raise BackupError(
            f"the archive holds a {manifest.get('engine')} database and this instance is configured for {engine()}"
        )
    written: list[Path] = []
    restoring = Progress("restore", total=size, scale_bytes=True, enabled=show_progress)
    try:
        with tempfile.TemporaryDirectory(dir=data_dir, prefix=".restore-") as tmp:
            count = 0
            with _open_archive(path, passphrase, restoring) as tar:
                for member in tar:
                    f = tar.extractfile(member)
                    if f is None or member.name == MANIFEST:
                        continue
                    if member.name == SQLITE_MEMBER:
                        target = _sqlite_path()
                    elif member.name == PGDUMP_MEMBER:
                        target = Path(tmp) / "embargo.pgdump"
                    elif member.name == "keys/kek":
                        target = keys.key_file()
                    else:
                        target = data_dir / member.name.removeprefix("data/")
                        if not target.resolve().is_relative_to(data_dir.resolve()):  # checked above; twice is cheap
                            raise BackupError(f"the archive's entry {member.name!r} points outside the data dir")
                        count += 1
                    _write_file(target, f, written)
            if manifest["engine"] == "postgresql":
                _run([
                    _pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                    "--dbname", str(settings.DATABASES["default"]["NAME"]), str(Path(tmp) / "embargo.pgdump"),
                ])  # fmt: skip
    except BaseException:
        for p in written:
            p.unlink(missing_ok=True)
        raise
    finally:
        restoring.close()
        keys.forget()
        files._storage.cache_clear()
    return RestoreResult(
        engine=str(manifest["engine"]),
        files=count,
        created_at=str(manifest.get("created_at")),
        external_files=manifest.get("external_files"),
    )


def _write_file(target: Path, f: IO[bytes], written: list[Path]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.restoring")
    written.append(tmp)
    with open(tmp, "xb") as out:
        os.chmod(tmp, 0o600)
        while block := f.read(CHUNK):
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, target)
    written.append(target)
