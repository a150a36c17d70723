"""Imported models in share URLs: a config.json packed into one query value, and back.

`cfg=` carries zlib-compressed, base64url-encoded minified JSON when the result is short enough for a
URL (browsers and proxies keep ~2,000 characters safely); larger configs return None so the page says the
link needs the file. Decoding is size-capped at every step and only ever parses JSON (never eval/pickle).
A Hugging Face id travels as plain `hf=<owner/name>` and is re-fetched on open.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
import zlib

from planner.importers.config import MAX_CONFIG_BYTES, ModelImportError

MAX_PARAM_CHARS = 2000           # the whole query value, base64url text
QUERY_KEY_CONFIG = "cfg"
QUERY_KEY_HF = "hf"
VERSION = "1"                    # first character of the value: the packing scheme


def encode_config_param(config: dict) -> str | None:
    """Compact URL value for a config dict, or None when it would exceed MAX_PARAM_CHARS."""
    text = json.dumps(config, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    packed = base64.urlsafe_b64encode(zlib.compress(text.encode(), 9)).decode().rstrip("=")
    value = VERSION + packed
    return value if len(value) <= MAX_PARAM_CHARS else None


def decode_config_param(value: str) -> dict:
    """The config dict of a `cfg=` value; ModelImportError when it is not one of ours."""
    if not isinstance(value, str) or not value:
        raise ModelImportError("empty cfg parameter")
    if len(value) > MAX_PARAM_CHARS * 2:
        raise ModelImportError(f"cfg parameter is {len(value):,} characters; at most {MAX_PARAM_CHARS:,} are produced")
    if value[0] != VERSION:
        raise ModelImportError(f"cfg parameter has unknown version {value[0]!r}")
    body = value[1:]
    try:
        packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        inflater = zlib.decompressobj()
        text = inflater.decompress(packed, MAX_CONFIG_BYTES)  # caps a zip bomb at the config limit
        if inflater.unconsumed_tail:
            raise ModelImportError("cfg parameter inflates beyond the config size limit")
        data = json.loads(text)
    except (binascii.Error, ValueError, zlib.error, RecursionError) as exc:
        if isinstance(exc, ModelImportError):
            raise
        raise ModelImportError(f"cfg parameter is not a packed config ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ModelImportError("cfg parameter does not hold a JSON object")
    return data


def link_params(result) -> dict[str, str]:
    """Query parameters that re-create an imported model: hf= for hub imports, cfg= for small configs, else {}."""
    if result.source.startswith("hf:"):
        return {QUERY_KEY_HF: result.source[3:]}
    if result.source.startswith("gguf:") or result.config is None:
        return {}  # a GGUF's exact sizes live in the file
    value = encode_config_param(result.config)
    return {QUERY_KEY_CONFIG: value} if value else {}


def import_from_query(query: dict, fetch=None):
    """The ImportResult a share link carries (cfg= first, then hf=), or None; ModelImportError when it is bad.

    `fetch(repo_id)` defaults to planner.importers.hub.import_hf; pages pass their st.cache_data-wrapped copy.
    """
    from planner.importers.config import import_config
    cfg, hf = query.get(QUERY_KEY_CONFIG), query.get(QUERY_KEY_HF)
    if cfg:
        return import_config(decode_config_param(cfg))
    if hf:
        if fetch is None:
            from planner.importers.hub import import_hf as fetch
        return fetch(str(hf).strip())
    return None


# Names of imported models come from the file or the link (a `_name_or_path` anyone can write): before a page, the
# PDF title or a file name shows one, it keeps Hugging Face id characters only, is cut short and marked imported.
MAX_NAME_CHARS = 60
_NOT_ID_CHARS = re.compile(r"[^A-Za-z0-9._/+-]+")


def safe_model_name(name: str, limit: int = MAX_NAME_CHARS) -> str:
    """`name` with runs of other characters replaced by '-', at most `limit` characters ('…' when cut)."""
    text = _NOT_ID_CHARS.sub("-", str(name)).strip("-./") or "model"
    return text if len(text) <= limit else text[: limit - 1].rstrip("-./") + "…"


def display_model_name(name: str, imported: bool) -> str:
    """What every page and the PDF show for a model: catalog ids as they are, imported names sanitized and marked."""
    return f"{safe_model_name(name)} (imported)" if imported else str(name)


def file_name_part(name: str) -> str:
    """A model name as a file-name fragment: letters, digits, '.', '_' and '-' only."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", safe_model_name(name.split("/")[-1] or name, 40).rstrip("…")) or "model"
