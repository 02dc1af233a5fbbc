"""Where the exchange may send a request a customer told it to send: judged by the address
the URL leads to, in every form an address can be written."""

from __future__ import annotations

import ipaddress
import re

import pytest

from giftcash.service import errors, outbound
from giftcash.service.outbound import OutboundPolicy, OutboundRefused

STRICT = OutboundPolicy()
DEMO = OutboundPolicy.of(allow_loopback=True)


@pytest.mark.parametrize(
    "address, reason",
    [
        ("127.0.0.1", "loopback"),
        ("127.1.2.3", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "reserved"),  # carrier-grade NAT: not global
        ("169.254.169.254", "link-local"),  # a cloud's metadata service
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("::ffff:127.0.0.1", "IPv6 form of a loopback"),
        ("::ffff:10.0.0.1", "IPv6 form of a private"),
        ("64:ff9b::7f00:1", "IPv6 form of a loopback"),  # NAT64 of 127.0.0.1
        ("2002:7f00:1::", "IPv6 form of a loopback"),  # 6to4 of 127.0.0.1
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
    ],
)
def test_addresses_inside_or_special_are_refused(address, reason):
    assert reason in (outbound.refusal(ipaddress.ip_address(address), STRICT) or "")


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert outbound.refusal(ipaddress.ip_address(address), STRICT) is None


def test_loopback_is_allowed_only_when_the_policy_says_so_and_never_private():
    assert outbound.refusal(ipaddress.ip_address("127.0.0.1"), DEMO) is None
    assert outbound.refusal(ipaddress.ip_address("::ffff:127.0.0.1"), DEMO) is None
    assert "private" in outbound.refusal(ipaddress.ip_address("10.0.0.1"), DEMO)


def test_the_operators_own_addresses_are_refused():
    policy = OutboundPolicy.of(denied=["203.0.114.0/24", "2001:4860::/32"])
    assert "operator" in outbound.refusal(ipaddress.ip_address("203.0.114.9"), policy)
    assert "operator" in outbound.refusal(ipaddress.ip_address("2001:4860::8888"), policy)


class Names:
    def __init__(self, table):
        self.table = table

    def resolve(self, host, port):
        if host not in self.table:
            raise LookupError(host)
        return self.table[host]


def test_a_name_with_any_inside_address_is_refused_whole():
    names = Names({"mixed.example": ["93.184.215.14", "10.0.0.5"]})
    with pytest.raises(OutboundRefused, match="private"):
        outbound.target("https://mixed.example/hook", names, STRICT)


def test_a_name_that_does_not_resolve_is_not_called():
    with pytest.raises(OutboundRefused, match="does not resolve"):
        outbound.target("https://nowhere.example/hook", Names({}), STRICT)


def test_the_connection_goes_to_the_checked_address():
    names = Names({"hooks.example": ["93.184.215.14"]})
    to = outbound.target("https://hooks.example:8443/h", names, STRICT)
    assert (to.host, to.port, to.address) == ("hooks.example", 8443, "93.184.215.14")


@pytest.mark.parametrize(
    "url, message",
    [
        ("ftp://hooks.example/h", "http(s)"),
        ("http://hooks.example/h", "https"),
        ("https://user:secret@hooks.example/h", "user name or password"),
        ("https:///nohost", "http(s)"),
    ],
)
def test_urls_of_the_wrong_shape_are_refused(url, message):
    with pytest.raises(errors.InvalidInput, match=re.escape(message)):
        outbound.split_url(url, STRICT)
