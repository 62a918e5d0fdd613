"""Git, run safely, for checking private fixes against a project's supported branches.

A project's repository is named by its owners, so everything here treats it as hostile input:

- Only two kinds of repository are accepted: an `https://` URL whose host has public addresses only, or a
  local path (or `file://` URL) inside one of the directories the operator allowed. Everything else — `ssh://`,
  `git://`, `http://`, scp-like `host:path`, remote helpers such as `ext::` — is refused before git starts.
- Git runs without a shell, with a time limit that kills its whole process group, with no configuration but
  ours (no system or global config, an empty HOME), no hooks, no credential helpers or prompts, no redirects,
  and only the `https` transport (plus `file` for allowed paths) enabled, so that even a URL that slipped past
  the checks could not run `ext::` commands or reach another transport.
- User text (a URL, a branch name) is only ever one argument of git's, after `--` where git allows it; branch
  names are checked with `git check-ref-format --branch` and may not look like options.

Plain Python, no Django: the worker and the tests call it directly.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

type IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MESSAGE_LIMIT = 2000  # characters of git's output kept in an error message


class GitError(Exception):
    """Git could not do what was asked. The message says why, in words an owner understands; `stderr` is git's
    own output (possibly empty) and `returncode` its exit status (None when git did not finish)."""

    def __init__(self, message: str, *, stderr: str = "", returncode: int | None = None):
        super().__init__(message)
        self.message, self.stderr, self.returncode = message, stderr, returncode


class RepositoryRefused(GitError):
    """The repository URL or path is not allowed: wrong scheme, a private address, a path outside the allowed
    directories, a remote helper such as `ext::`."""


class BranchRefused(GitError):
    """The branch name is not a plain branch name (looks like an option, has `..`, spaces, control characters…)."""


class GitTimeout(GitError):
    """Git took longer than its time limit and was stopped."""


# ---------------------------------------------------------------------------------------------------------------
# Repositories


@dataclass(frozen=True)
class _Remote:
    """A repository that passed the checks, as git should be given it."""

    git_url: str  # the https URL, or the file:// URL of the resolved local path
    local: bool


def check_repository(url: str, *, allowed_paths: Sequence[Path], allow_private: bool = False) -> None:
    """Raises RepositoryRefused unless `url` is an https URL whose host resolves to public addresses only (any
    address with `allow_private`), or an absolute path or file:// URL inside one of `allowed_paths` once
    symbolic links are resolved; raises GitError when the host cannot be found."""
    _check(url, allowed_paths=allowed_paths, allow_private=allow_private)


_REMOTE_HELPER = re.compile(r"[A-Za-z0-9][A-Za-z0-9+.-]*::")  # git's <transport>::<address> syntax (ext::, fd::…)
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_AUTHORITY = re.compile(rf"(?P<host>{_LABEL}(?:\.{_LABEL})*|\[(?P<ipv6>[0-9A-Fa-f:.]+)\])(?::(?P<port>[0-9]{{1,5}}))?")
_URL_CHARACTERS = re.compile(r"[!$&'()*+,\-./0-9:;=@A-Z\[\]_a-z~%]+")  # printable ASCII but space " < > \ ^ ` { | } ? #


def _check(url: str, *, allowed_paths: Sequence[Path], allow_private: bool) -> _Remote:
    if not isinstance(url, str) or not url.strip():
        raise RepositoryRefused("give the repository as an https:// URL or a local path")
    if _REMOTE_HELPER.match(url):
        raise RepositoryRefused(
            f"{_shown(url)} uses git's remote-helper syntax (such as ext::), which could run commands on this "
            "server; give an https:// URL"
        )
    if url[:8].lower() == "https://":
        _public_address_pin(url, allow_private=allow_private)
        return _Remote("https://" + url[8:], local=False)
    if url[:7].lower() == "file://" or url.startswith("/"):
        return _Remote(_allowed_path(url, allowed_paths).as_uri(), local=True)
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    reason = f"{scheme}:// is not allowed" if scheme else "this is neither a URL nor an absolute path"
    raise RepositoryRefused(
        f"{_shown(url)}: {reason}; give an https:// URL (or a local path the operator allowed in configuration)"
    )


def _allowed_path(url: str, allowed_paths: Sequence[Path]) -> Path:
    if url[:7].lower() == "file://":
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise RepositoryRefused(f"{_shown(url)}: a file:// URL must name a path on this server")
        if parts.query or parts.fragment:
            raise RepositoryRefused(f"{_shown(url)}: a file:// URL cannot have a query or fragment")
        raw = unquote(parts.path)
    else:
        raw = url
    if _has_control_characters(raw):
        raise RepositoryRefused("the repository path contains control characters")
    path = Path(raw)
    if not path.is_absolute():
        raise RepositoryRefused(f"{_shown(url)}: a local repository must be given as an absolute path")
    if not allowed_paths:
        raise RepositoryRefused("local repositories are not allowed on this server; give an https:// URL")
    # Symbolic links are resolved first, so a link inside an allowed directory cannot lead outside it; git is
    # then given the resolved path, not the link.
    resolved = path.resolve()
    for allowed in allowed_paths:
        root = Path(allowed).resolve()
        if resolved == root or resolved.is_relative_to(root):
            return resolved
    raise RepositoryRefused(f"{_shown(url)} is outside the directories the operator allowed for local repositories")


def _public_address_pin(url: str, *, allow_private: bool) -> str | None:
    """Checks an https URL and returns the `http.curloptResolve` entry (`host:port:address,…`) that makes curl
    connect to exactly the addresses checked here, or None when the host is an IP literal."""
    if not _URL_CHARACTERS.fullmatch(url):
        raise RepositoryRefused(
            f"{_shown(url)}: the URL has characters that are not allowed here (spaces, backslashes, "
            "'?', '#' or characters outside ASCII)"
        )
    rest = url[8:]
    authority = rest.split("/", 1)[0]
    if "@" in authority:
        raise RepositoryRefused(f"{_shown(url, hide_userinfo=True)}: put no user name or password in the URL")
    match = _AUTHORITY.fullmatch(authority)
    if not match:
        raise RepositoryRefused(f"{_shown(url)}: the host name is not valid")
    port = int(match["port"]) if match["port"] else 443
    if not 0 < port < 65536:
        raise RepositoryRefused(f"{_shown(url)}: the port must be between 1 and 65535")
    host = match["host"].lower()
    if match["ipv6"] is not None:
        try:
            addresses: list[IPAddress] = [ipaddress.IPv6Address(match["ipv6"])]
        except ValueError:
            raise RepositoryRefused(f"{_shown(url)}: {match['host']} is not a valid IPv6 address") from None
        literal = True
    elif _looks_numeric(host):
        # Written as an IPv4 address: only the usual four decimal numbers, since "2130706433", "0x7f.1" or
        # "127.1" are read differently by different parsers.
        try:
            addresses = [ipaddress.IPv4Address(host)]
        except ValueError:
            raise RepositoryRefused(f"{_shown(url)}: write an IPv4 address as four decimal numbers") from None
        literal = True
    else:
        addresses = _resolve(host, port)
        literal = False
    if not allow_private:
        for address in addresses:
            if not _is_public(address):
                raise RepositoryRefused(
                    f"{_shown(url)}: {host} is a private, local or reserved address ({address}); "
                    "only repositories on the public internet can be used"
                )
    if literal:
        return None
    listed = ",".join(f"[{a}]" if a.version == 6 else str(a) for a in addresses)
    return f"{host}:{port}:{listed}"


def _looks_numeric(host: str) -> bool:
    last = host.rstrip(".").rsplit(".", 1)[-1]
    return last.isdigit() or bool(re.fullmatch(r"0[xX][0-9A-Fa-f]*", last))


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as error:
        raise GitError(f"the host {host} could not be found ({error})") from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in answers:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise GitError(f"the host {host} has no address")
    return addresses


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv6 address may carry an IPv4 one that is where the packets really go.
        embedded: list[ipaddress.IPv4Address] = []
        if address.ipv4_mapped is not None:
            embedded.append(address.ipv4_mapped)
        if address.sixtofour is not None:
            embedded.append(address.sixtofour)
        if address.teredo is not None:
            embedded.extend(address.teredo)
        if address in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if any(not _is_public(inner) for inner in embedded):
            return False
        if address.is_site_local:
            return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _has_control_characters(text: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


def _shown(url: str, *, hide_userinfo: bool = False) -> str:
    """The URL as it may appear in a message: printable, short, without a password."""
    if hide_userinfo and "@" in url:
        scheme, _, rest = url.partition("://")
        url = f"{scheme}://…@{rest.split('@', 1)[1]}"
    text = "".join(c if c.isprintable() else "?" for c in url)
    return repr(text[:200] + ("…" if len(text) > 200 else ""))


# ---------------------------------------------------------------------------------------------------------------
# Branches


def check_branch(branch: str) -> None:
    """Raises BranchRefused unless `branch` is a plain branch name."""
    if not isinstance(branch, str) or not branch:
        raise BranchRefused("give a branch name")
    if branch.startswith("-"):
        raise BranchRefused(f"{_shown(branch)} looks like an option, not a branch name")
    if ".." in branch or "@{" in branch or _has_control_characters(branch) or any(c.isspace() for c in branch):
        raise BranchRefused(
            f"{_shown(branch)} is not a valid branch name (no '..', '@{{', spaces or control characters)"
        )
    try:
        normalized = run_git(["check-ref-format", "--branch", branch], timeout=10).strip()
    except GitError as error:
        if error.returncode is None:  # git did not finish (or is missing): that says nothing about the name
            raise
        raise BranchRefused(f"{_shown(branch)} is not a valid branch name") from None
    if normalized != branch:
        raise BranchRefused(f"{_shown(branch)} is not a valid branch name (git reads it as {normalized!r})")


def is_branch_name(branch: str) -> bool:
    """Whether `branch` is a plain branch name (see check_branch), for validating owners' settings."""
    try:
        check_branch(branch)
    except BranchRefused:
        return False
    return True


# ---------------------------------------------------------------------------------------------------------------
# Running git

# Configuration given on every run, on top of none at all (no system or global config is read).
_CONFIG = (
    # Transports: https only; `file` is added for allowed local paths. `never` for the rest means no ext::, fd::,
    # ssh, git:// or http:// even if such a URL reached git.
    "protocol.allow=never",
    "protocol.https.allow=always",
    "core.hooksPath=/dev/null",  # no hooks, neither a repository's nor a template's
    "credential.helper=",  # no stored credentials are offered to anyone
    "core.askPass=",
    "http.followRedirects=false",  # a redirect would send git to a host that was never checked
    "transfer.bundleURI=false",  # nor may a server point git at bundles elsewhere
    "promisor.acceptFromServer=none",
    "submodule.recurse=false",
    "core.fsmonitor=false",
    "safe.bareRepository=explicit",  # a bare repository hidden inside a checkout is not picked up
    "advice.detachedHead=false",
    "init.defaultBranch=main",
)

# What the environment passes on: a way to find git and the operator's proxy and certificate settings. Note that
# with a proxy, the proxy resolves the host name itself, so the address pinning below protects only direct
# connections.
_PASSED_ENVIRONMENT = (
    "PATH",
    "TMPDIR",
    "http_proxy",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "GIT_SSL_CAINFO",
    "GIT_SSL_CAPATH",
)


def run_git(
    args: list[str],
    *,
    cwd: Path | None = None,
    timeout: float = 60,
    allow_file: bool = False,
    allow_private: bool = False,
    input: bytes | None = None,
) -> str:
    """Runs `git ARGS` without a shell and returns its standard output; raises GitError when git fails and
    GitTimeout when it runs longer than `timeout` seconds (git and everything it started are killed).

    Any argument that is an https URL is checked again here, right before git connects, because a DNS answer can
    change between the owner saving the URL and the worker using it. The addresses found are then handed to
    curl (`http.curloptResolve`) so that git connects to exactly the addresses that were checked instead of
    asking DNS again. What remains of the DNS-rebinding window: with git older than 2.37, which ignores that
    setting, curl resolves the name again a few milliseconds after our check, and an attacker's DNS server
    answering with a zero TTL could give a private address then; with an HTTP proxy configured, the proxy
    resolves the name itself. Redirects are switched off, so a redirect cannot lead to an unchecked host."""
    config = list(_CONFIG)
    if allow_file:
        config.append("protocol.file.allow=always")
    for arg in args:
        if arg[:8].lower() == "https://":
            pin = _public_address_pin(arg, allow_private=allow_private)
            if pin is not None and _git_version() >= (2, 37):
                config.append(f"http.curloptResolve={pin}")
    command = ["git"]
    for entry in config:
        command += ["-c", entry]
    command += args
    with tempfile.TemporaryDirectory(prefix="embargo-git-") as home:
        environment = _environment(Path(home), allow_file=allow_file, contained=cwd is None)
        try:
            process = subprocess.Popen(  # noqa: S603 - a fixed executable and argument list, no shell
                command,
                cwd=cwd if cwd is not None else home,
                env=environment,
                stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group, so that a timeout stops its helpers too
            )
        except FileNotFoundError:
            raise GitError("git is not installed on this server") from None
        try:
            out, err = process.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(process)
            raise GitTimeout(
                f"git {_verb(args)} took longer than {timeout:g} seconds and was stopped", returncode=None
            ) from None
        except BaseException:
            _kill(process)
            raise
    stderr = err.decode("utf-8", "replace")
    if process.returncode != 0:
        raise GitError(
            f"git {_verb(args)} failed: {_summary(stderr) or f'exit status {process.returncode}'}",
            stderr=stderr,
            returncode=process.returncode,
        )
    return out.decode("utf-8", "replace")


def _environment(home: Path, *, allow_file: bool, contained: bool) -> dict[str, str]:
    environment = {name: os.environ[name] for name in _PASSED_ENVIRONMENT if name in os.environ}
    environment.setdefault("PATH", os.defpath)
    environment.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        GIT_ALLOW_PROTOCOL="https:file" if allow_file else "https",
        GIT_PROTOCOL_FROM_USER="0",
        LC_ALL="C",
        LANG="C",
    )
    if contained:
        # Run from the empty HOME, git must not find a repository (and its config) in a directory above it.
        environment["GIT_CEILING_DIRECTORIES"] = str(home.parent)
    return environment


def _kill(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    try:
        process.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        # Something outside the group still holds git's output open; leave it rather than wait for it.
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _verb(args: list[str]) -> str:
    return next((a for a in args if not a.startswith("-")), "")


_BOILERPLATE = {
    "fatal: Could not read from remote repository.",
    "Please make sure you have the correct access rights",
    "and the repository exists.",
}


def _summary(stderr: str) -> str:
    """Git's message, without its hints and boilerplate, on one line."""
    kept = []
    for line in stderr.splitlines():
        line = line.strip()
        if not line or line.startswith("hint:") or line in _BOILERPLATE:
            continue
        kept.append(re.sub(r"^(fatal|error): ", "", line))
    text = "; ".join(kept)
    return text[:MESSAGE_LIMIT] + ("…" if len(text) > MESSAGE_LIMIT else "")


@functools.cache
def _git_version() -> tuple[int, ...]:
    found = re.search(r"(\d+)\.(\d+)", run_git(["--version"], timeout=10))
    return (int(found[1]), int(found[2])) if found else (0, 0)


# ---------------------------------------------------------------------------------------------------------------
# What the worker does


def list_branches(
    url: str, *, allowed_paths: Sequence[Path], allow_private: bool = False, timeout: float = 60
) -> dict[str, str]:
    """The repository's branches and the commit each points at (`git ls-remote --heads`)."""
    remote = _check(url, allowed_paths=allowed_paths, allow_private=allow_private)
    out = _remote_git(
        f"could not read the branches of {_shown(url)}",
        ["ls-remote", "--heads", "--", remote.git_url],
        timeout=timeout,
        allow_file=remote.local,
        allow_private=allow_private,
    )
    branches: dict[str, str] = {}
    for line in out.splitlines():
        sha, _, ref = line.partition("\t")
        if ref.startswith("refs/heads/"):
            branches[ref.removeprefix("refs/heads/")] = sha
    return branches


def clone_branch(
    url: str,
    branch: str,
    dest: Path,
    *,
    allowed_paths: Sequence[Path],
    allow_private: bool = False,
    timeout: float = 120,
) -> str:
    """Clones the head of `branch` (shallow, that branch only, no tags or submodules) into `dest`, which must not
    exist or be empty, and returns the commit it checked out. As with `git clone --branch`, a tag may be named
    instead (a reproduction may run against a released version); the checkout is then detached."""
    remote = _check(url, allowed_paths=allowed_paths, allow_private=allow_private)
    check_branch(branch)
    _remote_git(
        f"could not clone branch {branch!r} of {_shown(url)}",
        [
            "clone",
            "--quiet",
            "--depth=1",
            "--single-branch",
            "--no-tags",
            "--no-recurse-submodules",
            f"--branch={branch}",
            "--",
            remote.git_url,
            str(Path(dest).absolute()),
        ],
        timeout=timeout,
        allow_file=remote.local,
        allow_private=allow_private,
    )
    return run_git(["rev-parse", "--verify", "HEAD"], cwd=dest, timeout=10).strip()


@dataclass(frozen=True)
class ApplyResult:
    """Whether a patch applies to a branch's head, and what it touches."""

    applies: bool
    head_sha: str  # the branch head the patch was checked against
    files: list[str]  # the files the patch touches (for a rename, the new name), in the patch's order
    diffstat: str  # `git apply --stat`
    insertions: int
    deletions: int
    message: str  # git's message when the patch does not apply, '' when it does


def check_patch(
    url: str,
    branch: str,
    patch: bytes,
    *,
    allowed_paths: Sequence[Path],
    allow_private: bool = False,
    timeout: float = 120,
) -> ApplyResult:
    """Clones the head of `branch` into a temporary directory and checks whether `patch` (a `git format-patch`
    mail, a series of them, or a plain unified diff) applies to it with `git apply --check`.

    Repository trouble (refused, missing, unreachable, too slow) raises GitError; a patch that does not apply, or
    that is not a patch at all, gives `applies=False` with git's message."""
    deadline = time.monotonic() + timeout

    def remaining() -> float:
        return max(deadline - time.monotonic(), 0.001)

    with tempfile.TemporaryDirectory(prefix="embargo-fix-") as tmp:
        checkout = Path(tmp) / "checkout"
        head = clone_branch(
            url, branch, checkout, allowed_paths=allowed_paths, allow_private=allow_private, timeout=timeout
        )
        try:
            numstat = run_git(["apply", "--numstat", "-z", "-"], cwd=checkout, input=patch, timeout=remaining())
            diffstat = run_git(["apply", "--stat", "-"], cwd=checkout, input=patch, timeout=remaining())
        except GitTimeout:
            raise
        except GitError as error:
            return ApplyResult(False, head, [], "", 0, 0, _message(error))
        files, insertions, deletions = _parse_numstat(numstat)
        try:
            run_git(["apply", "--check", "-"], cwd=checkout, input=patch, timeout=remaining())
        except GitTimeout:
            raise
        except GitError as error:
            return ApplyResult(False, head, files, diffstat, insertions, deletions, _message(error))
        return ApplyResult(True, head, files, diffstat, insertions, deletions, "")


def apply_patch(checkout: Path, patch: bytes, *, timeout: float = 60) -> None:
    """Applies `patch` to the working tree of `checkout` (for private CI or reproducing a report); raises GitError
    with git's message when it does not apply, leaving the checkout unchanged."""
    try:
        run_git(["apply", "--whitespace=nowarn", "-"], cwd=checkout, input=patch, timeout=timeout)
    except GitTimeout:
        raise
    except GitError as error:
        raise GitError(
            f"the patch does not apply: {_message(error)}", stderr=error.stderr, returncode=error.returncode
        ) from None


def _message(error: GitError) -> str:
    text = "\n".join(line.rstrip() for line in error.stderr.strip().splitlines() if not line.startswith("hint:"))
    text = text or error.message
    return text[:MESSAGE_LIMIT] + ("…" if len(text) > MESSAGE_LIMIT else "")


def _parse_numstat(out: str) -> tuple[list[str], int, int]:
    """`git apply --numstat -z`: "added<TAB>deleted<TAB>path<NUL>" per file ("-" for binary files)."""
    files: list[str] = []
    insertions = deletions = 0
    for record in out.split("\0"):
        added, deleted, path = [*record.split("\t", 2), "", ""][:3]
        if not path:
            continue
        insertions += int(added) if added.isdigit() else 0
        deletions += int(deleted) if deleted.isdigit() else 0
        if path not in files:
            files.append(path)
    return files, insertions, deletions


def _remote_git(what: str, args: list[str], **options: Any) -> str:
    """`run_git` against a remote, its failure worded as `what` went wrong (a refusal or a timeout as it is)."""
    try:
        return run_git(args, **options)
    except (GitTimeout, RepositoryRefused):
        raise
    except GitError as error:
        raise GitError(f"{what}: {_summary(error.stderr)}", stderr=error.stderr, returncode=error.returncode) from None
