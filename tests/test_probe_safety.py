"""Hosted mode (PLANNER_HOSTED=1): internal addresses are refused before and after DNS, caps apply."""
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from planner.importers.config import ModelImportError
from planner.importers.hub import import_hf

from planner.core import net as safety
from planner.probe.run import apply_limits, run_probe
from planner.probe.models import ProbeConfig

REAL_GETADDRINFO = socket.getaddrinfo


@pytest.fixture
def hosted(monkeypatch):
    monkeypatch.setenv("PLANNER_HOSTED", "1")


def _fake_dns(monkeypatch, table):
    """Resolve names of `table` to its addresses (a list is consumed one answer per lookup)."""
    def getaddrinfo(host, port, *args, **kwargs):
        if host in table:
            answer = table[host].pop(0) if isinstance(table[host], list) else table[host]
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer, port))]
        return REAL_GETADDRINFO(host, port, *args, **kwargs)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost", "http://10.1.2.3", "http://192.168.0.1",
                                 "http://172.16.5.4", "http://169.254.169.254/latest", "http://[::1]:80",
                                 "http://metadata.google.internal", "http://0.0.0.0", "http://100.64.0.1",
                                 "http://[::ffff:10.0.0.1]", "http://[2002:7f00:1::]", "http://[2002:a00:1::1]",
                                 "http://[64:ff9b::7f00:1]", "http://[64:ff9b::a9fe:a9fe]", "http://[64:ff9b:1::a00:1]",
                                 "http://[::7f00:1]", "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]"])
def test_internal_addresses_are_refused(hosted, url):
    with pytest.raises(safety.PolicyError):
        safety.check_url(url)


def test_names_resolving_to_private_addresses_are_refused(hosted, monkeypatch):
    _fake_dns(monkeypatch, {"llm.example.com": "10.0.0.7", "public.example.com": "93.184.216.34"})
    with pytest.raises(safety.PolicyError, match="10.0.0.7 is private"):
        safety.check_url("https://llm.example.com/v1")
    safety.check_url("https://public.example.com")  # a public address passes


def test_dns_rebinding_is_caught_on_the_connected_socket(hosted, monkeypatch, fault_server, fault_log):
    # the policy check sees a public address, the connection then resolves to loopback
    port = fault_server.rsplit(":", 1)[1]
    _fake_dns(monkeypatch, {"rebind.example.com": ["93.184.216.34"] + ["127.0.0.1"] * 20})
    result = run_probe(ProbeConfig(url=f"http://rebind.example.com:{port}/ok", concurrency=(1,), requests=2,
                                   output_len=4, connect_timeout_s=1))
    assert result.levels[0].error_kinds == {"refused_by_policy": 2}
    assert fault_log == []  # not one request reached the loopback server


def test_run_probe_refuses_before_sending(hosted, fault_server, fault_log):
    with pytest.raises(safety.PolicyError):
        run_probe(ProbeConfig(url=f"{fault_server}/ok", concurrency=(1,), requests=1))
    assert fault_log == []


def test_redirects_are_not_followed(fault_server, fault_log):
    result = run_probe(ProbeConfig(url=f"{fault_server}/redirect", concurrency=(1,), requests=2, output_len=4))
    assert result.levels[0].error_kinds == {"redirect": 2}
    assert all(e["path"].startswith("/redirect") for e in fault_log)


def test_hosted_caps_and_limits_for_the_ui(hosted):
    lim = safety.limits()
    assert lim is not None and lim.max_concurrency == 16
    cfg, notes = apply_limits(ProbeConfig(url="https://api.example.com", concurrency=(1, 64), requests=1000,
                                          output_len=100_000, max_duration_s=86_400))
    assert cfg.concurrency == (1, 16) and cfg.requests == lim.max_requests_per_level
    assert cfg.output_len == lim.max_output_len and cfg.max_duration_s == lim.max_duration_s
    assert len(notes) == 6  # concurrency, requests, output_len, duration, request timeout, response bytes


def test_local_mode_allows_loopback(monkeypatch):
    monkeypatch.delenv("PLANNER_HOSTED", raising=False)
    assert safety.limits() is None
    safety.check_url("http://127.0.0.1:8080")


def test_urls_with_credentials_are_rejected():
    with pytest.raises(ValueError, match="credentials"):
        ProbeConfig(url="http://user:sk-secret@example.com")


@pytest.mark.parametrize("url", ["https://example.com/v1?api_key=sk-1", "https://example.com/?x=1&access_token=t",
                                 "https://example.com/openai?sig=abc", "https://example.com/?KEY=1"])
def test_urls_with_secrets_in_the_query_are_rejected(url):
    with pytest.raises(ValueError, match="query string"):
        ProbeConfig(url=url)
    assert ProbeConfig(url="https://example.com/openai?api-version=2024-10-21").url.endswith("api-version=2024-10-21")


@pytest.mark.parametrize("ip", ["2002:5db8:d822::1", "2606:4700::1111", "93.184.216.34"])
def test_public_addresses_pass_even_when_they_embed_ipv4(ip):
    assert safety.blocked_reason(ip) is None  # 6to4 of 93.184.216.34, a plain public IPv6 and IPv4


class _Hub(BaseHTTPRequestHandler):
    seen: list[str] = []
    target = ""

    def log_message(self, *args):
        pass

    def do_GET(self):
        _Hub.seen.append(self.path)
        self.send_response(302)
        self.send_header("Location", _Hub.target)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def hub(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Hub.seen.clear()
    port = server.server_address[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://hub.test:{port}")
    _fake_dns(monkeypatch, {"hub.test": "127.0.0.1", "cdn.hub.test": "127.0.0.2"})
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    # the hub itself counts as public here; every other loopback address stays refused
    real = safety.blocked_reason
    monkeypatch.setattr(safety, "blocked_reason", lambda ip: None if ip == "127.0.0.1" else real(ip))
    yield port
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("target, why", [("http://cdn.hub.test:{port}/secret", "127.0.0.2 is loopback"),
                                         ("http://127.0.0.2:{port}/secret", "redirect to '127.0.0.2'"),
                                         ("https://evil.example.org/secret", "redirect to 'evil.example.org'")])
def test_hosted_hub_fetch_refuses_redirects_off_the_hub(hosted, hub, target, why):
    _Hub.target = target.format(port=hub)
    with pytest.raises(ModelImportError, match=why):
        import_hf("Qwen/Qwen3-0.6B")
    assert _Hub.seen == ["/Qwen/Qwen3-0.6B/resolve/main/config.json"]  # no second hop reached anything


def test_hosted_hub_fetch_refuses_a_private_hub(hosted, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://10.0.0.5")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(ModelImportError, match="10.0.0.5 is private"):
        import_hf("Qwen/Qwen3-0.6B")
