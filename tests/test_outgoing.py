"""The one check for outgoing service URLs: https to public addresses only, unless the operator allows the private
network; no credentials, query or fragment in the URL; a path is kept (a service may live under one)."""

from __future__ import annotations

import socket

import pytest

from embargo import outgoing
from embargo.outgoing import OutgoingHostNotFound, OutgoingURLRefused, check_outgoing_url

WHAT = "The translation service URL"


def fake_dns(monkeypatch: pytest.MonkeyPatch, address: str) -> list[str]:
    asked: list[str] = []

    def getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(outgoing.socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://93.184.215.14", "must start with https://"),
        ("ftp://93.184.215.14", "must start with https://"),
        ("https://127.0.0.1:5000", "private, local or reserved address (127.0.0.1)"),
        ("https://10.0.0.5/translate", "private, local or reserved address"),
        ("https://[::1]", "private, local or reserved address"),
        ("https://169.254.169.254", "private, local or reserved address"),
        ("https://[::ffff:192.168.1.1]", "private, local or reserved address"),
        ("https://user:pass@93.184.215.14", "must not carry a user name or password"),
        ("https://key@93.184.215.14", "must not carry a user name or password"),
        ("https://93.184.215.14/?api_key=1", "must not have a query"),
        ("https://93.184.215.14/?", "must not have a query"),
        ("https://93.184.215.14/#top", "must not have a query (?…) or a fragment"),
        ("https://93.184.215.14/a b", "contains spaces or control characters"),
        ("https://93.184.215.14\n.evil", "contains spaces or control characters"),
        ("https://93.184.215.14\\@10.0.0.1", "contains a backslash"),
        ("https://93.184.215.14:99999", "has an invalid port"),
        ("https://[::1", "is not a valid URL"),
        ("https:///translate", "has no host"),
        ("", "is empty"),
    ],
)
def test_refused_urls_say_why_and_name_the_setting(url: str, reason: str) -> None:
    with pytest.raises(OutgoingURLRefused) as refused:
        check_outgoing_url(url, allow_private=False, what=WHAT)
    assert refused.value.message.startswith(WHAT)
    assert reason in refused.value.message
    assert isinstance(refused.value, ValueError)


def test_a_host_name_that_resolves_to_a_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = fake_dns(monkeypatch, "10.1.2.3")
    with pytest.raises(OutgoingURLRefused, match=r"private, local or reserved address \(10\.1\.2\.3\)"):
        check_outgoing_url("https://translate.example.org", allow_private=False, what=WHAT)
    assert asked == ["translate.example.org"]


def test_a_host_name_that_resolves_to_a_public_address_is_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, "93.184.215.14")
    got = check_outgoing_url("https://Translate.Example.org/libre/", allow_private=False, what=WHAT)
    assert got == "https://translate.example.org/libre"


def test_a_host_that_cannot_be_found_is_told_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    def getaddrinfo(*args: object, **kwargs: object) -> list[tuple[object, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(outgoing.socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(OutgoingHostNotFound) as error:
        check_outgoing_url("https://translate.example.org", allow_private=False, what=WHAT)
    assert error.value.host == "translate.example.org"
    assert "could not be found" in error.value.message


def test_the_url_is_normalised_and_keeps_its_path() -> None:
    assert check_outgoing_url("https://93.184.215.14/", allow_private=False, what=WHAT) == "https://93.184.215.14"
    assert check_outgoing_url("HTTPS://93.184.215.14:8443/api/v2//", allow_private=False, what=WHAT) == (
        "https://93.184.215.14:8443/api/v2"
    )


def test_the_operator_may_allow_http_and_the_private_network(monkeypatch: pytest.MonkeyPatch) -> None:
    assert check_outgoing_url("http://127.0.0.1:5000/", allow_private=True, what=WHAT) == "http://127.0.0.1:5000"
    asked = fake_dns(monkeypatch, "10.1.2.3")
    assert (
        check_outgoing_url("http://libretranslate:5000", allow_private=True, what=WHAT) == "http://libretranslate:5000"
    )
    assert asked == []  # nothing to check, so nothing looked up
    with pytest.raises(OutgoingURLRefused, match="must not carry a user name"):
        check_outgoing_url("http://user:pw@127.0.0.1", allow_private=True, what=WHAT)
    with pytest.raises(OutgoingURLRefused, match="must start with https://"):
        check_outgoing_url("file:///etc/passwd", allow_private=True, what=WHAT)
