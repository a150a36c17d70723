"""Hosted mode (PLANNER_HOSTED=1): a shared public instance must not become a proxy into its own network.

Refuses loopback, private, link-local, shared, reserved and cloud-metadata addresses, also when an IPv6
address embeds one (IPv4-mapped, IPv4-compatible, 6to4, Teredo, NAT64): first by resolving the host name
(all addresses), then again on the socket actually connected (defeats DNS rebinding). The probe never
follows redirects; the hub fetch follows them only to its own hosts, each hop checked. Caps load and time.
OWASP SSRF Prevention Cheat Sheet; RFC 3056 (6to4), 4380 (Teredo), 6052 and 8215 (NAT64); AWS/GCP/Azure
metadata at 169.254.169.254 and fd00:ec2::254.
"""
from __future__ import annotations

import ipaddress
import os
import re
import socket
from urllib.parse import urljoin, urlsplit

import requests
from pydantic import BaseModel
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data", "metadata.azure.com"}
_EXTRA_BLOCKED = [ipaddress.ip_network(n) for n in (
    "100.64.0.0/10",       # carrier-grade NAT (RFC 6598)
    "fd00:ec2::/32",       # AWS IMDS over IPv6
    "64:ff9b:1::/48",      # local-use NAT64 (RFC 8215): the embedded IPv4 may sit anywhere in it
)]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")          # well-known NAT64 prefix (RFC 6052)
_V4_COMPATIBLE = ipaddress.ip_network("::/96")        # deprecated IPv4-compatible (RFC 4291 2.5.5.1)
# query parameters that carry a secret (api_key=, key=, token=, access_token=, sig=, password= ...)
_SECRET_PARAM = re.compile(r"(?:^|&)[^=&]*(?:key|token|secret|password|passwd|sig|auth)[^=&]*=", re.IGNORECASE)


class PolicyError(ValueError):
    """The target is not allowed in hosted mode."""


class HostedLimits(BaseModel):
    """Caps of a shared public instance; shown in the UI."""
    max_concurrency: int = 16
    max_requests_per_level: int = 32
    max_levels: int = 4
    max_input_len: int = 4096
    max_output_len: int = 512
    max_duration_s: float = 120.0
    max_request_timeout_s: float = 60.0
    max_response_bytes: int = 4 * 2**20


def hosted() -> bool:
    return os.environ.get("PLANNER_HOSTED", "").strip().lower() in ("1", "true", "yes", "on")


def limits() -> HostedLimits | None:
    """The caps in force, or None when the planner runs locally for its owner."""
    return HostedLimits() if hosted() else None


def check_endpoint_url(v: str) -> str:
    """An http(s) base URL without credentials or secrets in it (they would be saved and shown in links)."""
    v = v.strip().rstrip("/")
    if not v.startswith(("http://", "https://")):
        raise ValueError("url must start with http:// or https://")
    if "@" in v.split("://", 1)[1].split("/", 1)[0]:
        raise ValueError("url must not carry credentials; give the key as an API key")
    if _SECRET_PARAM.search(v.partition("?")[2]):
        raise ValueError("url must not carry a key or token in its query string (it would be saved with the "
                         "results and shown in links); give it as the API key")
    return v


def _embedded_v4(addr: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries: mapped, compatible, 6to4, Teredo server and client, NAT64."""
    out = [a for a in (addr.ipv4_mapped, addr.sixtofour) if a is not None]
    if addr.teredo:
        out += list(addr.teredo)
    if addr in _NAT64 or addr in _V4_COMPATIBLE:
        out.append(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
    return out


def blocked_reason(ip: str) -> str | None:
    """Why hosted mode refuses this address, or None for a public one."""
    addr = ipaddress.ip_address(ip.split("%")[0])
    if isinstance(addr, ipaddress.IPv6Address):
        for v4 in _embedded_v4(addr):
            if reason := blocked_reason(str(v4)):
                return f"{addr} embeds {reason}"
    for name in ("is_loopback", "is_private", "is_link_local", "is_multicast", "is_reserved", "is_unspecified"):
        if getattr(addr, name):
            return f"{addr} is {name.removeprefix('is_').replace('_', '-')}"
    if any(addr.version == n.version and addr in n for n in _EXTRA_BLOCKED) or not addr.is_global:
        return f"{addr} is a shared, cloud-internal or non-global address"
    return None


def check_url(url: str) -> None:
    """Raise PolicyError when hosted mode forbids this URL (after resolving its host)."""
    if not hosted():
        return
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    if not host or host in METADATA_HOSTS or host.endswith((".internal", ".local", ".localhost")) or host == "localhost":
        raise PolicyError(f"hosted mode refuses host {host or '(none)'!r}")
    for ip in resolve(host, parts.port or (443 if parts.scheme == "https" else 80)):
        if reason := blocked_reason(ip):
            raise PolicyError(f"hosted mode refuses {host!r}: {reason}")


def resolve(host: str, port: int) -> list[str]:
    """Every address of host (PolicyError when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise PolicyError(f"cannot resolve {host!r}: {exc}") from None
    return [info[4][0] for info in infos]


def check_peer(ip: str) -> None:
    """Raise PolicyError in hosted mode when a connected socket reached a refused address."""
    if hosted() and (reason := blocked_reason(ip)):
        raise PolicyError(f"hosted mode refuses the connected address: {reason}")


def _allowed_host(host: str, allowed: tuple[str, ...]) -> bool:
    return any(host == a or host.endswith("." + a) for a in allowed)


def next_hop(url: str, location: str | None, allowed_hosts: tuple[str, ...]) -> str:
    """The absolute URL a redirect points to; PolicyError in hosted mode for a host outside allowed_hosts."""
    if not location:
        raise PolicyError("redirect without a Location header")
    target = urljoin(url, location)
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https"):
        raise PolicyError(f"redirect to a {parts.scheme or 'relative'} URL refused")
    host = (parts.hostname or "").lower()
    if hosted() and not _allowed_host(host, allowed_hosts):
        raise PolicyError(f"hosted mode refuses a redirect to {host!r} (allowed: {', '.join(allowed_hosts)})")
    check_url(target)
    return target


def _check_conn(conn) -> None:
    if conn.sock is not None:
        try:
            check_peer(conn.sock.getpeername()[0])
        except PolicyError:
            conn.sock.close()
            raise


class _GuardedHTTP(HTTPConnection):
    def connect(self):
        super().connect()
        _check_conn(self)


class _GuardedHTTPS(HTTPSConnection):
    def connect(self):
        super().connect()
        _check_conn(self)


class _Pool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTP


class _PoolS(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPS


class GuardedAdapter(HTTPAdapter):
    """Checks the address each new connection actually reached (DNS may answer differently later)."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _PoolS}


def session(trust_env: bool = False) -> requests.Session:
    """A requests session that guards every connection; by default it reads no proxy/netrc settings."""
    s = requests.Session()
    s.trust_env = trust_env  # False: no ~/.netrc credentials or proxy settings sent along
    s.mount("http://", GuardedAdapter())
    s.mount("https://", GuardedAdapter())
    return s
