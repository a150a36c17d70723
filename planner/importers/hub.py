"""Fetch a Hugging Face model's config.json, safetensors index and safetensors headers with `requests`.

Files come from `{HF_ENDPOINT}/{repo}/resolve/{revision}/{file}` (the hub's public download URL; HF_ENDPOINT
defaults to https://huggingface.co, HF_TOKEN is sent as a Bearer token when set). Headers are read with two
HTTP Range requests per shard (bytes 0-7, then the header), as huggingface_hub `get_safetensors_metadata` does;
no weight byte is downloaded. HF_HUB_OFFLINE=1 refuses to fetch. Every failure is a one-line ModelImportError.
Every hop goes through planner.core.net: in hosted mode only public addresses, redirects only to the hub's own
hosts (and its file CDN), no proxy; always a byte cap per file and a deadline checked on every read.
"""
from __future__ import annotations

import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from planner.core import net

from .config import MAX_CONFIG_BYTES, ImportResult, ModelImportError, import_config, load_config
from .safetensors import MAX_INDEX_BYTES, header_length, parse_header, parse_index, summarize

DEFAULT_ENDPOINT = "https://huggingface.co"
TIMEOUT_S = (5.0, 30.0)          # (connect, read) seconds
MAX_REMOTE_HEADER_BYTES = 16 * 2**20  # DeepSeek-V3 shard headers are ~100 kB
MAX_SHARDS = 256                 # DeepSeek-V3 has 163 shards; more is unusual
PARALLEL_REQUESTS = 4
MAX_REDIRECTS = 5
FETCH_DEADLINE_S = 60.0          # one file, connect to last byte (the read timeout bounds only silence)
HF_CDN_DOMAINS = ("huggingface.co", "hf.co")  # resolve/ redirects to cdn-lfs*.hf.co, cas-bridge.xethub.hf.co
REPO_ID = re.compile(r"^[A-Za-z0-9][\w.\-]{0,95}/[A-Za-z0-9][\w.\-]{0,95}$")
TRUE = {"1", "true", "yes", "on"}
CONNECT_REASONS = (("Name or service not known", "DNS lookup failed"), ("name resolution", "DNS lookup failed"),
                   ("getaddrinfo", "DNS lookup failed"), ("Connection refused", "connection refused"),
                   ("unreachable", "network unreachable"), ("timed out", "connection timed out"))


class _NotFound(Exception):
    pass


def looks_like_repo_id(text: str) -> bool:
    return bool(REPO_ID.match(text.strip())) and ".." not in text


def hub_settings(endpoint: str | None = None, token: str | None = None) -> tuple[str, str | None]:
    """(endpoint, token) from arguments, then HF_ENDPOINT / HF_TOKEN; refuses when HF_HUB_OFFLINE is set."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in TRUE:
        raise ModelImportError("HF_HUB_OFFLINE is set: not fetching from the Hugging Face hub; "
                               "upload or paste the model's config.json instead")
    endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
    token = token or os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN") or None
    return endpoint, token


def _hosts(url: str) -> tuple[str, ...]:
    """Hosts a fetch may be redirected to in hosted mode: the hub's own, plus its file CDN for huggingface.co."""
    host = (urlsplit(url).hostname or "").lower()
    official = any(host == d or host.endswith("." + d) for d in HF_CDN_DOMAINS)
    return (host, *HF_CDN_DOMAINS) if official else (host,)


def _open(session, url: str, headers: dict, allowed: tuple[str, ...]):
    """GET url, following at most MAX_REDIRECTS redirects, each hop through the hosted-mode guard."""
    first_host = urlsplit(url).hostname
    for _ in range(MAX_REDIRECTS + 1):
        net.check_url(url)
        same_host = urlsplit(url).hostname == first_host  # the token goes only to the hub itself
        resp = session.get(url, headers={**headers, **({} if same_host else {"Authorization": None})},
                           stream=True, timeout=TIMEOUT_S, allow_redirects=False)
        if not resp.is_redirect:
            return resp
        resp.close()
        url = net.next_hop(url, resp.headers.get("Location"), allowed)
    raise ModelImportError(f"more than {MAX_REDIRECTS} redirects from the hub")


def _read(resp, limit: int, deadline: float) -> bytes:
    """At most limit bytes, giving up at the deadline: checked on every read, not once per line or file."""
    body = b""
    while len(body) < limit:
        if time.monotonic() > deadline:
            raise ModelImportError(f"{resp.url} took longer than {FETCH_DEADLINE_S:.0f} s")
        data = resp.raw.read1(min(65536, limit - len(body)))
        if not data:
            break
        body += data
    return body


def _get(session, url: str, max_bytes: int, byte_range: tuple[int, int] | None = None) -> bytes:
    """GET at most max_bytes (a Range when given); hub errors become one-line ModelImportErrors."""
    import requests
    # identity: a compressed body could expand far beyond max_bytes
    headers = {"Accept-Encoding": "identity", **({"Range": f"bytes={byte_range[0]}-{byte_range[1]}"} if byte_range else {})}
    try:
        with _open(session, url, headers, _hosts(url)) as resp:
            if resp.status_code == 404:
                raise _NotFound(url)
            if resp.status_code in (401, 403):
                raise ModelImportError(f"{url} answered {resp.status_code}: the model is gated or private; "
                                       "set HF_TOKEN to a token with access")
            if resp.status_code >= 400:
                raise ModelImportError(f"{url} answered HTTP {resp.status_code}")
            limit = byte_range[1] - byte_range[0] + 1 if byte_range else max_bytes + 1
            # a server that ignores Range answers 200 from byte 0: skip to the range, stop reading after it
            skip = byte_range[0] if byte_range and resp.status_code == 200 else 0
            body = _read(resp, skip + limit, time.monotonic() + FETCH_DEADLINE_S)[skip:]
    except net.PolicyError as exc:
        raise ModelImportError(f"{url}: {exc}") from None
    except requests.exceptions.ConnectionError as exc:
        host = url.split("/")[2] if "//" in url else url
        text = str(exc)
        reason = next((why for key, why in CONNECT_REASONS if key in text), "connection error")
        raise ModelImportError(f"cannot reach {host}: no internet connection or the hub is down ({reason}); "
                               "upload the config.json instead") from None
    except requests.exceptions.Timeout:
        raise ModelImportError(f"{url} did not answer within {TIMEOUT_S[1]:.0f} s") from None
    except requests.exceptions.RequestException as exc:
        raise ModelImportError(f"request to {url} failed: {type(exc).__name__}") from None
    if not byte_range and len(body) > max_bytes:
        raise ModelImportError(f"{url} is larger than {max_bytes / 2**20:.0f} MiB: not a config file")
    return body[:limit] if byte_range else body


def _header(session, url: str) -> dict:
    """The tensor table of one remote .safetensors file: 8 bytes, then exactly the header."""
    n = header_length(_get(session, url, 8, (0, 7)))
    if n > MAX_REMOTE_HEADER_BYTES:
        raise ModelImportError(f"{url}: header of {n:,} bytes; real checkpoints stay below 16 MiB per shard")
    raw = _get(session, url, n, (8, 8 + n - 1))
    if len(raw) < n:
        raise ModelImportError(f"{url}: header cut short ({len(raw):,} of {n:,} bytes)")
    return parse_header(raw)


def _exact_sizes(session, base: str, read_headers: bool) -> dict:
    """{weights_bytes_exact, weights_bytes_source, bytes_by_dtype, tensor_count} from index and headers."""
    try:
        index = parse_index(_get(session, f"{base}/model.safetensors.index.json", MAX_INDEX_BYTES))
        shards = index["shards"]
    except _NotFound:
        index, shards = None, ["model.safetensors"]
    out = {}
    if index and index["total_size"] is not None:
        out = {"weights_bytes_exact": index["total_size"], "weights_bytes_source": "model.safetensors.index.json metadata.total_size"}
    if not read_headers or len(shards) > MAX_SHARDS:
        return out
    try:
        with ThreadPoolExecutor(PARALLEL_REQUESTS) as pool:
            tables = list(pool.map(lambda s: _header(session, f"{base}/{s}"), shards))
    except _NotFound:
        return out
    tensors = {k: v for t in tables for k, v in t.items()}
    s = summarize(tensors)
    return {"weights_bytes_exact": s["bytes"], "bytes_by_dtype": s["by_dtype"], "tensor_count": s["count"],
            "high_precision_modules": s["high_precision"],
            "weights_bytes_source": f"safetensors headers of {len(shards)} file(s), read with HTTP Range requests"}


def import_hf(repo_id: str, revision: str = "main", endpoint: str | None = None, token: str | None = None,
              read_headers: bool = True) -> ImportResult:
    """Fetch config.json (+ exact sizes) of a hub model; ModelImportError with one clear line on failure."""
    repo_id = repo_id.strip()
    if not looks_like_repo_id(repo_id):
        raise ModelImportError(f"{repo_id!r} is not a Hugging Face model id (owner/name)")
    endpoint, token = hub_settings(endpoint, token)
    base = f"{endpoint}/{repo_id}/resolve/{revision}"
    with net.session(trust_env=not net.hosted()) as session:  # hosted: no proxy between the guard and the hub
        session.headers["User-Agent"] = "llm-planner/0.1"
        if token:
            session.headers["Authorization"] = f"Bearer {token}"
        try:
            raw = load_config(_get(session, f"{base}/config.json", MAX_CONFIG_BYTES))
        except _NotFound:
            raise ModelImportError(f"{repo_id}: no config.json at {endpoint} (check the id and revision; "
                                   "GGUF-only repositories: download the .gguf header and import the file)") from None
        result = import_config(raw, model_id=repo_id)
        try:
            sizes = _exact_sizes(session, base, read_headers)
        except _NotFound:
            sizes = {}
        except ModelImportError as exc:  # the spec stands; only the exact sizes are missing
            sizes = {"warnings": result.warnings + (f"exact checkpoint size unavailable: {exc}",)}
    return ImportResult(**{**dict(result), "source": f"hf:{repo_id}", **sizes})
