"""Hosted mode (PLANNER_HOSTED=1): a shared public instance must not become a proxy into its own network.

Refuses loopback, private, link-local, shared, reserved and cloud-metadata addresses: first by resolving
the host name (all addresses), then again on the socket actually connected (defeats DNS rebinding).
Redirects are never followed by the probe, so no hop can lead elsewhere. Caps load and duration.
OWASP SSRF Prevention Cheat Sheet; AWS/GCP/Azure metadata at 169.254.169.254 and fd00:ec2::254.
"""
from __future__ import annotations

import ipaddress
import os
import socket
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data", "metadata.azure.com"}


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


def hosted() -> bool:
    return os.environ.get("PLANNER_HOSTED", "").strip().lower() in ("1", "true", "yes", "on")


def limits() -> HostedLimits | None:
    """The caps in force, or None when the planner runs locally for its owner."""
    return HostedLimits() if hosted() else None


def blocked_reason(ip: str) -> str | None:
    addr = ipaddress.ip_address(ip.split("%")[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    for name in ("is_loopback", "is_private", "is_link_local", "is_multicast", "is_reserved", "is_unspecified"):
        if getattr(addr, name):
            return f"{addr} is {name.removeprefix('is_').replace('_', '-')}"
    if addr in ipaddress.ip_network("100.64.0.0/10") or addr in ipaddress.ip_network("fd00:ec2::/32"):
        return f"{addr} is a shared or cloud-internal address"
    return None


def check_url(url: str) -> None:
    """Raise PolicyError when hosted mode forbids this URL (after resolving its host)."""
    if not hosted():
        return
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    if not host or host in METADATA_HOSTS or host.endswith((".internal", ".local", ".localhost")) or host == "localhost":
        raise PolicyError(f"hosted mode refuses host {host or '(none)'!r}")
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80), proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise PolicyError(f"cannot resolve {host!r}: {exc}") from None
    for info in infos:
        if reason := blocked_reason(info[4][0]):
            raise PolicyError(f"hosted mode refuses {host!r}: {reason}")


def _check_peer(conn) -> None:
    if hosted() and conn.sock is not None:
        if reason := blocked_reason(conn.sock.getpeername()[0]):
            conn.sock.close()
            raise PolicyError(f"hosted mode refuses the connected address: {reason}")


class _GuardedHTTP(HTTPConnection):
    def connect(self):
        super().connect()
        _check_peer(self)


class _GuardedHTTPS(HTTPSConnection):
    def connect(self):
        super().connect()
        _check_peer(self)


class _Pool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTP


class _PoolS(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPS


class GuardedAdapter(HTTPAdapter):
    """Checks the address each new connection actually reached (DNS may answer differently later)."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _PoolS}


def session() -> requests.Session:
    """A requests session that never reads proxy/netrc settings and guards every connection."""
    s = requests.Session()
    s.trust_env = False  # no ~/.netrc credentials or proxy settings sent along with the probe
    s.mount("http://", GuardedAdapter())
    s.mount("https://", GuardedAdapter())
    return s
