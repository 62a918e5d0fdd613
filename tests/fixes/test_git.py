"""The git layer of "Private fixes on every supported branch", against real repositories built here.

The upstream project has `main` and a maintained `2.31.x` whose code differs, so that a fix written for main
does not apply to the older branch and needs a backport. Local repositories are used through the operator's
allowed-paths rule; the only network is loopback.
"""

from __future__ import annotations

import difflib
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from embargo.fixes import git as gitlayer
from embargo.fixes.git import (
    ApplyResult,
    BranchRefused,
    GitError,
    GitTimeout,
    RepositoryRefused,
    apply_patch,
    check_patch,
    check_repository,
    clone_branch,
    list_branches,
    run_git,
)

AUTH_2_31 = """\
import os


def check_token(given, expected):
    if given == expected:
        return True
    return False


def token_from_env():
    return os.environ.get("TOKEN", "")
"""

AUTH_MAIN = """\
import os


def check_token(given: str, expected: str) -> bool:
    return given == expected


def token_from_env() -> str:
    return os.environ.get("TOKEN", "")
"""

AUTH_MAIN_FIXED = AUTH_MAIN.replace("import os\n", "import hmac\nimport os\n").replace(
    "return given == expected", "return hmac.compare_digest(given, expected)"
)

AUTH_2_31_FIXED = AUTH_2_31.replace("import os\n", "import hmac\nimport os\n").replace(
    "    if given == expected:\n        return True\n    return False\n",
    "    return hmac.compare_digest(given, expected)\n",
)

TEST_AUTH = """\
from requests.auth import check_token


def test_tokens_are_compared_in_constant_time():
    assert check_token("a", "a") and not check_token("a", "b")
"""


def git(cwd: Path, *args: str) -> str:
    """Git as a maintainer runs it, with a fixed identity and no personal configuration."""
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    identity = ["-c", "user.name=Maintainer", "-c", "user.email=maintainer@example.org", "-c", "commit.gpgsign=false"]
    done = subprocess.run(["git", *identity, *args], cwd=cwd, env=env, check=True, capture_output=True, text=True)
    return done.stdout


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@dataclass(frozen=True)
class Upstream:
    allowed: Path  # the directory the operator allowed for local repositories
    path: Path  # the project's repository, with a working tree
    bare: Path  # the same, as a bare mirror
    heads: dict[str, str]
    main_mail: bytes  # `git format-patch` of the fix for main
    main_diff: bytes  # `git diff` of the same fix
    main_plain: bytes  # the same fix as a plain `diff -u`, without git's headers
    backport_mail: bytes  # the fix rewritten for 2.31.x


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Upstream:
    allowed = tmp_path_factory.mktemp("allowed")
    path = allowed / "requests"
    path.mkdir()
    git(path, "init", "--quiet", "--initial-branch=main")
    write(path / "src/requests/auth.py", AUTH_2_31)
    write(path / "VERSION", "2.31.0\n")
    git(path, "add", ".")
    git(path, "commit", "--quiet", "-m", "Release 2.31.0")
    git(path, "branch", "2.31.x")
    write(path / "src/requests/auth.py", AUTH_MAIN)
    write(path / "VERSION", "2.32.0.dev0\n")
    git(path, "commit", "--quiet", "-am", "Type hints for auth")
    git(path, "checkout", "--quiet", "2.31.x")
    write(path / "VERSION", "2.31.1\n")
    git(path, "commit", "--quiet", "-am", "Release 2.31.1")
    git(path, "checkout", "--quiet", "main")
    heads = {"main": git(path, "rev-parse", "main").strip(), "2.31.x": git(path, "rev-parse", "2.31.x").strip()}
    bare = allowed / "requests.git"
    git(allowed, "clone", "--quiet", "--bare", str(path), str(bare))

    # The maintainers write the fix privately in a clone of their own.
    work = tmp_path_factory.mktemp("work") / "requests"
    git(work.parent, "clone", "--quiet", str(path), str(work))
    git(work, "checkout", "--quiet", "-b", "fix", "origin/main")
    write(work / "src/requests/auth.py", AUTH_MAIN_FIXED)
    write(work / "tests/test_auth.py", TEST_AUTH)
    git(work, "add", ".")
    git(work, "commit", "--quiet", "-m", "Compare tokens in constant time")
    main_mail = git(work, "format-patch", "-1", "--stdout").encode()
    main_diff = git(work, "diff", "HEAD~1", "HEAD").encode()
    git(work, "checkout", "--quiet", "-b", "backport", "origin/2.31.x")
    write(work / "src/requests/auth.py", AUTH_2_31_FIXED)
    git(work, "commit", "--quiet", "-am", "Compare tokens in constant time (2.31.x)")
    backport_mail = git(work, "format-patch", "-1", "--stdout").encode()

    plain = "".join(
        difflib.unified_diff(
            AUTH_MAIN.splitlines(keepends=True),
            AUTH_MAIN_FIXED.splitlines(keepends=True),
            "a/src/requests/auth.py",
            "b/src/requests/auth.py",
        )
    )
    assert not plain.startswith("diff --git")
    return Upstream(allowed, path, bare, heads, main_mail, main_diff, plain.encode(), backport_mail)


@pytest.fixture
def no_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails the test if git is started at all: refusals happen before any process or connection."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"git was started: {args}")

    monkeypatch.setattr(gitlayer.subprocess, "Popen", refuse)


def fake_dns(monkeypatch: pytest.MonkeyPatch, *answers: str, port: int = 443) -> list[str]:
    """Makes host names resolve to `answers`, one answer per lookup (the last one repeats); returns the names
    looked up."""
    asked: list[str] = []
    remaining = list(answers)

    def getaddrinfo(host: str, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
        asked.append(host)
        address = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(gitlayer.socket, "getaddrinfo", getaddrinfo)
    return asked


# ---------------------------------------------------------------------------------------------------------------
# The cases


def test_a_patch_for_each_supported_branch_applies(upstream: Upstream) -> None:
    on_main = check_patch(str(upstream.path), "main", upstream.main_mail, allowed_paths=[upstream.allowed])
    assert on_main.applies, on_main.message
    assert on_main.head_sha == upstream.heads["main"]
    assert on_main.message == ""

    on_2_31 = check_patch(str(upstream.path), "2.31.x", upstream.backport_mail, allowed_paths=[upstream.allowed])
    assert on_2_31.applies, on_2_31.message
    assert on_2_31.head_sha == upstream.heads["2.31.x"]
    assert (on_2_31.files, on_2_31.insertions, on_2_31.deletions) == (["src/requests/auth.py"], 2, 3)


def test_a_patch_for_main_does_not_apply_to_the_older_branch_and_git_says_why(upstream: Upstream) -> None:
    result = check_patch(str(upstream.path), "2.31.x", upstream.main_mail, allowed_paths=[upstream.allowed])

    assert not result.applies
    assert result.head_sha == upstream.heads["2.31.x"]
    assert "patch failed: src/requests/auth.py" in result.message
    assert "src/requests/auth.py: patch does not apply" in result.message
    # What the patch touches is known even when it does not apply.
    assert result.files == ["src/requests/auth.py", "tests/test_auth.py"]


def test_a_repository_that_does_not_exist_is_an_error_not_a_result(upstream: Upstream) -> None:
    missing = str(upstream.allowed / "no-such-project")
    with pytest.raises(GitError, match="does not appear to be a git repository") as error:
        check_patch(missing, "main", upstream.main_mail, allowed_paths=[upstream.allowed])
    assert not isinstance(error.value, RepositoryRefused)
    with pytest.raises(GitError, match=r"could not read the branches of .*no-such-project"):
        list_branches(missing, allowed_paths=[upstream.allowed])


@pytest.mark.usefixtures("no_git")
def test_an_ext_url_is_refused_before_git_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    url = f"ext::sh -c touch% {marker}"
    with pytest.raises(RepositoryRefused, match="remote-helper"):
        check_repository(url, allowed_paths=[tmp_path])
    with pytest.raises(RepositoryRefused):
        list_branches(url, allowed_paths=[tmp_path])
    assert not marker.exists()


def test_git_itself_refuses_ext_and_other_transports_even_if_a_url_slipped_through(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    with pytest.raises(GitError, match="transport 'ext' not allowed"):
        run_git(["ls-remote", f"ext::sh -c touch% {marker}"], timeout=10)
    assert not marker.exists()
    with pytest.raises(GitError, match="transport 'file' not allowed"):
        run_git(["ls-remote", tmp_path.as_uri()], timeout=10)


# ---------------------------------------------------------------------------------------------------------------
# Patches


@pytest.mark.parametrize("form", ["main_mail", "main_diff", "main_plain"])
def test_a_format_patch_mail_a_git_diff_and_a_plain_diff_all_work(upstream: Upstream, form: str) -> None:
    patch = getattr(upstream, form)
    result = check_patch(f"file://{upstream.path}", "main", patch, allowed_paths=[upstream.allowed])
    assert result.applies, result.message
    assert "src/requests/auth.py" in result.files


def test_the_files_and_the_diffstat_are_those_of_the_patch(upstream: Upstream) -> None:
    result = check_patch(str(upstream.path), "main", upstream.main_mail, allowed_paths=[upstream.allowed])
    assert result == ApplyResult(
        applies=True,
        head_sha=upstream.heads["main"],
        files=["src/requests/auth.py", "tests/test_auth.py"],
        diffstat=result.diffstat,
        insertions=7,
        deletions=1,
        message="",
    )
    assert [line.split("|")[0].strip() for line in result.diffstat.splitlines()[:2]] == result.files
    assert result.diffstat.splitlines()[-1].strip() == "2 files changed, 7 insertions(+), 1 deletion(-)"


def test_a_series_of_patch_mails_is_checked_as_a_whole(upstream: Upstream, tmp_path: Path) -> None:
    work = tmp_path / "work"
    git(tmp_path, "clone", "--quiet", str(upstream.path), str(work))
    write(work / "src/requests/auth.py", AUTH_MAIN_FIXED)
    git(work, "commit", "--quiet", "-am", "Compare tokens in constant time")
    write(
        work / "src/requests/auth.py",
        AUTH_MAIN_FIXED.replace("(given, expected)", "(given.encode(), expected.encode())"),
    )
    git(work, "commit", "--quiet", "-am", "Compare bytes")
    series = git(work, "format-patch", "-2", "--stdout").encode()

    result = check_patch(str(upstream.path), "main", series, allowed_paths=[upstream.allowed])
    assert result.applies, result.message
    assert result.files == ["src/requests/auth.py"]


def test_something_that_is_not_a_patch_does_not_apply(upstream: Upstream) -> None:
    result = check_patch(str(upstream.path), "main", b"please fix it\n", allowed_paths=[upstream.allowed])
    assert not result.applies
    assert "No valid patches in input" in result.message
    assert result.head_sha == upstream.heads["main"]


def test_a_patch_may_not_write_outside_the_checkout(upstream: Upstream) -> None:
    escape = b"--- a/../../evil.txt\n+++ b/../../evil.txt\n@@ -0,0 +1 @@\n+gotcha\n"
    result = check_patch(str(upstream.path), "main", escape, allowed_paths=[upstream.allowed])
    assert not result.applies
    assert result.message


def test_apply_patch_applies_to_a_checkout_for_reproduction(upstream: Upstream, tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    head = clone_branch(str(upstream.path), "main", checkout, allowed_paths=[upstream.allowed])
    assert head == upstream.heads["main"]
    assert (checkout / "src/requests/auth.py").read_text() == AUTH_MAIN

    apply_patch(checkout, upstream.main_mail)
    assert (checkout / "src/requests/auth.py").read_text() == AUTH_MAIN_FIXED
    assert (checkout / "tests/test_auth.py").read_text() == TEST_AUTH

    older = tmp_path / "older"
    clone_branch(str(upstream.path), "2.31.x", older, allowed_paths=[upstream.allowed])
    with pytest.raises(GitError, match="the patch does not apply"):
        apply_patch(older, upstream.main_mail)
    assert (older / "src/requests/auth.py").read_text() == AUTH_2_31


# ---------------------------------------------------------------------------------------------------------------
# Branches and local repositories


def test_the_branches_of_a_repository_and_their_heads(upstream: Upstream) -> None:
    assert list_branches(str(upstream.path), allowed_paths=[upstream.allowed]) == upstream.heads
    assert list_branches(upstream.bare.as_uri(), allowed_paths=[upstream.allowed]) == upstream.heads


def test_a_bare_mirror_can_be_cloned(upstream: Upstream, tmp_path: Path) -> None:
    head = clone_branch(str(upstream.bare), "2.31.x", tmp_path / "c", allowed_paths=[upstream.allowed])
    assert head == upstream.heads["2.31.x"]
    assert (tmp_path / "c/VERSION").read_text() == "2.31.1\n"
    assert git(tmp_path / "c", "rev-list", "--count", "HEAD").strip() == "1"  # shallow


def test_a_released_version_can_be_cloned_by_its_tag(upstream: Upstream, tmp_path: Path) -> None:
    git(upstream.path, "tag", "v2.31.1", "2.31.x")
    try:
        head = clone_branch(str(upstream.path), "v2.31.1", tmp_path / "c", allowed_paths=[upstream.allowed])
    finally:
        git(upstream.path, "tag", "--delete", "v2.31.1")
    assert head == upstream.heads["2.31.x"]


def test_branch_names_for_the_owners_settings() -> None:
    assert gitlayer.is_branch_name("main")
    assert gitlayer.is_branch_name("2.31.x")
    assert gitlayer.is_branch_name("release/3.0")
    for name in ("-f", "a..b", "a b", "x.lock", "", "@{-1}", "a\tb"):
        assert not gitlayer.is_branch_name(name), name


def test_a_branch_that_does_not_exist_is_an_error(upstream: Upstream, tmp_path: Path) -> None:
    with pytest.raises(GitError, match=r"could not clone branch '9\.9\.x'.*not found"):
        clone_branch(str(upstream.path), "9.9.x", tmp_path / "c", allowed_paths=[upstream.allowed])


@pytest.mark.usefixtures("no_git")
@pytest.mark.parametrize(
    "branch", ["-u", "--upload-pack=touch /tmp/x", "main..2.31.x", "main branch", "ma\nin", "@{-1}"]
)
def test_option_looking_and_malformed_branch_names_are_refused(upstream: Upstream, branch: str, tmp_path: Path) -> None:
    with pytest.raises(BranchRefused):
        clone_branch(str(upstream.path), branch, tmp_path / "c", allowed_paths=[upstream.allowed])


@pytest.mark.parametrize("branch", ["main.lock", "a~1", "a:b", "HEAD", "refs/heads/x/"])
def test_names_git_rejects_are_refused(upstream: Upstream, branch: str, tmp_path: Path) -> None:
    with pytest.raises(BranchRefused):
        check_patch(str(upstream.path), branch, upstream.main_mail, allowed_paths=[upstream.allowed])


@pytest.mark.usefixtures("no_git")
def test_a_local_path_outside_the_allowed_directories_is_refused(upstream: Upstream, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    for url in (str(elsewhere), elsewhere.as_uri(), f"{upstream.allowed}/../{tmp_path.name}", "/etc"):
        with pytest.raises(RepositoryRefused, match="outside the directories"):
            check_repository(url, allowed_paths=[upstream.allowed])
    with pytest.raises(RepositoryRefused, match="not allowed on this server"):
        check_repository(str(upstream.path), allowed_paths=[])
    with pytest.raises(RepositoryRefused, match="absolute path"):
        check_repository("file://", allowed_paths=[upstream.allowed])
    with pytest.raises(RepositoryRefused, match="path on this server"):
        check_repository(f"file://elsewhere.example{upstream.path}", allowed_paths=[upstream.allowed])


@pytest.mark.usefixtures("no_git")
def test_a_symbolic_link_pointing_outside_is_refused(upstream: Upstream, tmp_path: Path) -> None:
    outside = tmp_path / "secret-repo"
    outside.mkdir()
    link = upstream.allowed / f"link-to-{tmp_path.name}"
    link.symlink_to(outside)
    try:
        with pytest.raises(RepositoryRefused, match="outside the directories"):
            check_repository(str(link), allowed_paths=[upstream.allowed])
        with pytest.raises(RepositoryRefused):
            list_branches(link.as_uri(), allowed_paths=[upstream.allowed])
    finally:
        link.unlink()


def test_a_symbolic_link_inside_the_allowed_directories_is_followed(upstream: Upstream, tmp_path: Path) -> None:
    allowed_link = tmp_path / "repos"
    allowed_link.symlink_to(upstream.allowed)
    assert list_branches(str(allowed_link / "requests"), allowed_paths=[allowed_link]) == upstream.heads


def test_the_operators_own_git_configuration_is_not_used(
    upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A rewrite rule in a personal config would send git somewhere else than the checked URL.
    (tmp_path / ".gitconfig").write_text('[url "file:///nonexistent/"]\n\tinsteadOf = file://\n')
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / ".gitconfig"))
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "not-a-repo"))
    assert list_branches(str(upstream.path), allowed_paths=[upstream.allowed]) == upstream.heads


# ---------------------------------------------------------------------------------------------------------------
# Remote URLs


@pytest.mark.usefixtures("no_git")
@pytest.mark.parametrize(
    "url",
    [
        "http://github.com/psf/requests.git",
        "ssh://git@github.com/psf/requests.git",
        "git://github.com/psf/requests.git",
        "git@github.com:psf/requests.git",
        "ftp://example.org/requests.git",
        "fd::17",
        "requests",
        "-uhttps://github.com/psf/requests",
        "https://user:token@github.com/psf/requests.git",
        "https://github.com\\@127.0.0.1/x",
        "https://github.com /psf/requests",
        "https://github.com/psf/requests?x=1",
        "",
    ],
)
def test_other_kinds_of_url_are_refused(url: str) -> None:
    with pytest.raises(RepositoryRefused):
        check_repository(url, allowed_paths=[])
    with pytest.raises(RepositoryRefused):
        list_branches(url, allowed_paths=[])


@pytest.mark.usefixtures("no_git")
@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/x",
        "https://10.1.2.3/x",
        "https://[::1]/x",
        "https://localhost/x",
        "https://0.0.0.0/x",
        "https://169.254.169.254/latest/meta-data",
        "https://192.168.1.1/x",
        "https://172.16.0.1/x",
        "https://100.64.0.1/x",
        "https://224.0.0.1/x",
        "https://240.0.0.1/x",
        "https://[fe80::1]/x",
        "https://[fc00::1]/x",
        "https://[fec0::1]/x",
        "https://[ff02::1]/x",
        "https://[::]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://[64:ff9b::a01:203]/x",
        "https://[2002:a01:203::]/x",
        "https://2130706433/x",
        "https://0x7f.1/x",
        "https://127.1/x",
    ],
)
def test_private_and_local_addresses_are_refused_without_connecting(url: str) -> None:
    with pytest.raises(RepositoryRefused):
        check_repository(url, allowed_paths=[])
    with pytest.raises(RepositoryRefused):
        check_patch(url, "main", b"", allowed_paths=[])


def test_a_refused_address_is_never_contacted() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(0.2)
        port = server.getsockname()[1]
        with pytest.raises(RepositoryRefused):
            list_branches(f"https://127.0.0.1:{port}/requests.git", allowed_paths=[])
        with pytest.raises(TimeoutError):
            server.accept()


@pytest.mark.usefixtures("no_git")
def test_a_host_name_that_resolves_to_a_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = fake_dns(monkeypatch, "93.184.215.14", "10.0.0.7")
    check_repository("https://git.example.org/requests.git", allowed_paths=[])
    with pytest.raises(RepositoryRefused, match=r"git\.example\.org is a private.*10\.0\.0\.7"):
        check_repository("https://git.example.org/requests.git", allowed_paths=[])
    assert asked == ["git.example.org", "git.example.org"]


@pytest.mark.usefixtures("no_git")
def test_the_address_is_checked_again_right_before_git_connects(monkeypatch: pytest.MonkeyPatch) -> None:
    # DNS rebinding: public when the URL is checked, private a moment later when git would connect.
    asked = fake_dns(monkeypatch, "93.184.215.14", "127.0.0.1")
    with pytest.raises(RepositoryRefused, match=r"127\.0\.0\.1"):
        list_branches("https://git.example.org/requests.git", allowed_paths=[])
    assert len(asked) == 2


def test_a_host_that_cannot_be_found_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def getaddrinfo(*args: object, **kwargs: object) -> list[tuple[object, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(gitlayer.socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(GitError, match=r"git\.example\.org could not be found") as error:
        check_repository("https://git.example.org/requests.git", allowed_paths=[])
    assert not isinstance(error.value, RepositoryRefused)


def test_private_addresses_are_accepted_when_the_operator_allows_them(monkeypatch: pytest.MonkeyPatch) -> None:
    check_repository("https://127.0.0.1/x", allowed_paths=[], allow_private=True)
    fake_dns(monkeypatch, "10.0.0.7")
    check_repository("https://git.internal.example/x", allowed_paths=[], allow_private=True)


@dataclass
class Listener:
    port: int
    connections: list[socket.socket]


@pytest.fixture
def silent_server() -> Iterator[Listener]:
    """A loopback server that accepts connections and never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)
    listener = Listener(server.getsockname()[1], [])
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            listener.connections.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener
    stop.set()
    thread.join(5)
    server.close()
    for connection in listener.connections:
        connection.close()


@pytest.mark.skipif(gitlayer._git_version() < (2, 37), reason="http.curloptResolve needs git 2.37")
def test_git_connects_to_the_address_that_was_checked(monkeypatch: pytest.MonkeyPatch, silent_server: Listener) -> None:
    # `git.example.test` has no address in real DNS; git reaches the server only through the pinned address.
    asked = fake_dns(monkeypatch, "127.0.0.1", port=silent_server.port)
    url = f"https://git.example.test:{silent_server.port}/requests.git"
    with pytest.raises(GitTimeout):
        list_branches(url, allowed_paths=[], allow_private=True, timeout=1)
    assert asked == ["git.example.test", "git.example.test"]
    assert len(silent_server.connections) == 1


def test_a_server_that_never_answers_is_given_up_on_and_gits_helpers_are_stopped(silent_server: Listener) -> None:
    started = time.monotonic()
    with pytest.raises(GitTimeout, match="took longer than 1 seconds"):
        list_branches(f"https://127.0.0.1:{silent_server.port}/x", allowed_paths=[], allow_private=True, timeout=1)
    assert time.monotonic() - started < 5
    (connection,) = silent_server.connections
    connection.settimeout(5)
    while connection.recv(4096):  # the TLS greeting, then the end of the connection: git-remote-https is dead
        pass


def test_a_timeout_is_enforced(upstream: Upstream, tmp_path: Path) -> None:
    with pytest.raises(GitTimeout, match=r"git clone took longer than 0\.001 seconds"):
        clone_branch(str(upstream.path), "main", tmp_path / "c", allowed_paths=[upstream.allowed], timeout=0.001)
    with pytest.raises(GitError):
        check_patch(str(upstream.path), "main", upstream.main_mail, allowed_paths=[upstream.allowed], timeout=0.001)
