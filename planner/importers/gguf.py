"""GGUF headers -> ModelSpec with the file's exact tensor bytes, reading the header only.

Layout (ggml docs/gguf.md, v2/v3): magic "GGUF", uint32 version, uint64 tensor count, uint64 key/value count,
the key/values (typed), then per tensor: name, n_dims, dims (uint64), ggml type, offset. A tensor's bytes are
n_elements / block_size x type_size (gguf.constants.GGML_QUANT_SIZES, llama.cpp's own table), which is the real
size of every quantization mix. The metadata becomes a config.json-like dict for hf_import; parameters per
tensor class come from the tensor names (llama.cpp `gguf-py/gguf/tensor_mapping.py`).
"""
from __future__ import annotations

import mmap
import re
import struct
from collections import Counter
from pathlib import Path

from .config import ImportResult, ModelImportError, _build, finish, model_type_of

MAX_COUNT = 10_000_000       # tensors or keys: more is a corrupt header
MAX_STRING = 64 * 2**20
SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
ARCH_TO_HF = {"qwen2moe": "qwen2_moe", "qwen3moe": "qwen3_moe", "qwen3next": "qwen3_next", "deepseek2": "deepseek_v2",
              "gpt-oss": "gpt_oss", "phi3": "phi3", "gemma3": "gemma3_text", "mamba2": "mamba2", "mamba": "mamba"}
CLASS_RULES = [  # (regex on the tensor name, tensor class); first match wins
    (r"^token_embd\.weight$", "embed"), (r"^output\.weight$", "lm_head"),
    (r"attn_(q|k|q_a|kv_a)_norm", "attn_small"),  # as architecture.py counts q_norm/k_norm and MLA latent norms
    (r"(_norm|norm)(\.weight|\.bias)?$", "norm"), (r"^rope_freqs", "norm"),
    (r"ffn_(gate|up|gate_up)_exps", "expert_up"), (r"ffn_down_exps", "expert_down"),
    (r"ffn_(gate|up)_shexp", "shared_up"), (r"ffn_down_shexp", "shared_down"),
    (r"ffn_gate_inp|exp_probs_b", "router"), (r"ffn_(gate|up)\.", "mlp_up"), (r"ffn_down\.", "mlp_down"),
    (r"attn_(q|k|v|qkv|output|q_a|q_b|kv_a_mqa|kv_b|k_b|v_b)\.weight$", "attn"), (r"attn_", "attn_small"),
    (r"ssm_(in|out|x)\.|ssm_dt\.weight", "linear_attn"), (r"ssm_", "linear_small"),
]


class _Reader:
    """Bounds-checked little-endian reads over bytes or an mmap."""

    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ModelImportError(f"GGUF header is truncated at byte {self.pos:,} (needs {n:,} more bytes)")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        n = self.unpack("<Q")
        if n > MAX_STRING:
            raise ModelImportError(f"GGUF string of {n:,} bytes at byte {self.pos:,}: corrupt header")
        return bytes(self.take(n)).decode("utf-8", errors="replace")

    def value(self, vtype: int):
        if vtype in SCALAR:
            return self.unpack(SCALAR[vtype])
        if vtype == 8:
            return self.string()
        if vtype == 9:
            return self.array()
        raise ModelImportError(f"GGUF value type {vtype} is unknown: corrupt header")

    def array(self):
        itype, count = self.unpack("<I"), self.unpack("<Q")
        if itype == 9:  # arrays of arrays do not occur in llama.cpp files; refusing them bounds the recursion
            raise ModelImportError(f"GGUF nested array at byte {self.pos:,}: corrupt header")
        if count > MAX_COUNT * 10:
            raise ModelImportError(f"GGUF array of {count:,} items: corrupt header")
        if itype in SCALAR and count > 4096:  # long numeric arrays (token scores): skip, keep the length
            self.take(count * struct.calcsize(SCALAR[itype]))
            return _Skipped(count)
        if itype == 8 and count > 4096:  # the vocabulary: skip the strings
            for _ in range(count):
                self.take(self.unpack("<Q"))
            return _Skipped(count)
        return [self.value(itype) for _ in range(count)]


class _Skipped(int):
    """A long array read past; its value is its length."""


def _tensor_bytes(ggml_type: int, n_elements: int, name: str) -> int:
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType
    try:
        block, size = GGML_QUANT_SIZES[GGMLQuantizationType(ggml_type)]
    except (ValueError, KeyError):
        raise ModelImportError(f"GGUF tensor {name!r} has unknown ggml type {ggml_type}") from None
    if n_elements % block:
        raise ModelImportError(f"GGUF tensor {name!r}: {n_elements} elements are not whole {block}-blocks")
    return n_elements // block * size


def read_gguf_header(data) -> dict:
    """{version, metadata, tensors: [(name, shape, type name, n_elements, bytes, offset in data)], data_offset}."""
    from gguf.constants import GGMLQuantizationType
    r = _Reader(data)
    magic = bytes(r.take(4)) if len(data) >= 4 else bytes(data)
    if magic != b"GGUF":
        raise ModelImportError(f"not a GGUF file: bad magic number {magic!r} (expected b'GGUF')")
    version = r.unpack("<I")
    if version not in (2, 3):
        raise ModelImportError(f"GGUF version {version} is not supported (2 or 3)")
    n_tensors, n_kv = r.unpack("<Q"), r.unpack("<Q")
    if n_tensors > MAX_COUNT or n_kv > MAX_COUNT:
        raise ModelImportError(f"GGUF header claims {n_tensors:,} tensors and {n_kv:,} keys: corrupt")
    meta = {}
    for _ in range(n_kv):
        key = r.string()
        meta[key] = r.value(r.unpack("<I"))
    tensors = []
    for _ in range(n_tensors):
        name, n_dims = r.string(), r.unpack("<I")
        if n_dims > 8:
            raise ModelImportError(f"GGUF tensor {name!r} has {n_dims} dimensions: corrupt header")
        shape = [r.unpack("<Q") for _ in range(n_dims)]
        ggml_type, offset = r.unpack("<I"), r.unpack("<Q")
        n = 1
        for d in shape:
            n *= d
        tname = GGMLQuantizationType(ggml_type).name if ggml_type in GGMLQuantizationType._value2member_map_ else str(ggml_type)
        tensors.append((name, shape, tname, n, _tensor_bytes(ggml_type, n, name), offset))
    align = int(meta.get("general.alignment", 32) or 32)
    return {"version": version, "metadata": meta, "tensors": tensors, "data_offset": -(-r.pos // align) * align}


def _first(v):
    """Per-layer arrays (head_count_kv of hybrids) -> the largest value."""
    if isinstance(v, list):
        v = [x for x in v if isinstance(x, (int, float))]
        return max(v) if v else None
    return v


def config_from_metadata(meta: dict, tensor_names: set[str]) -> dict:
    """GGUF keys -> the config.json fields hf_import reads."""
    arch = str(meta.get("general.architecture", ""))
    g = lambda key: _first(meta.get(f"{arch}.{key}"))  # noqa: E731
    tokens = meta.get("tokenizer.ggml.tokens")
    vocab = g("vocab_size") or (len(tokens) if isinstance(tokens, list) else tokens)
    c = {"model_type": ARCH_TO_HF.get(arch, arch), "architectures": [f"gguf:{arch}"],
         "hidden_size": g("embedding_length"), "num_hidden_layers": g("block_count"),
         "num_attention_heads": g("attention.head_count"), "num_key_value_heads": g("attention.head_count_kv"),
         "intermediate_size": g("feed_forward_length"), "vocab_size": int(vocab) if vocab is not None else None,
         "head_dim": g("attention.key_length"), "max_position_embeddings": g("context_length"),
         "num_experts": g("expert_count"), "num_experts_per_tok": g("expert_used_count"),
         "moe_intermediate_size": g("expert_feed_forward_length"), "sliding_window": g("attention.sliding_window"),
         "kv_lora_rank": g("attention.kv_lora_rank"), "q_lora_rank": g("attention.q_lora_rank"),
         "qk_rope_head_dim": g("rope.dimension_count") if arch == "deepseek2" else None,
         "tie_word_embeddings": "output.weight" not in tensor_names, "torch_dtype": "bfloat16",
         "state_size": g("ssm.state_size"), "conv_kernel": g("ssm.conv_kernel"), "time_step_rank": g("ssm.time_step_rank"),
         "n_groups": g("ssm.group_count")}
    if arch == "mamba2" and g("ssm.inner_size") and g("ssm.time_step_rank"):
        c["num_heads"], c["head_dim"] = g("ssm.time_step_rank"), g("ssm.inner_size") // g("ssm.time_step_rank")
    if arch == "mamba":
        c["intermediate_size"] = g("ssm.inner_size")
    return {k: v for k, v in c.items() if v is not None}


def class_params(tensors: list) -> tuple[dict, list[str]]:
    """Exact parameters per tensor class from llama.cpp tensor names; unknown names are listed."""
    out, unknown = Counter(), []
    for name, _shape, _t, n, *_ in tensors:
        cls = next((c for pat, c in CLASS_RULES if re.search(pat, name)), None)
        if cls is None:
            unknown.append(name)
            cls = "attn_small"
        out[cls] += n
    return dict(out), unknown


def default_format(meta: dict, tensors: list) -> str:
    """general.file_type (LlamaFileType) -> gguf-<type>; else the commonest quantized tensor type."""
    from gguf.constants import LlamaFileType

    from planner.core.precision import FORMATS
    ft = meta.get("general.file_type")
    if isinstance(ft, int) and ft in LlamaFileType._value2member_map_:
        name = LlamaFileType(ft).name.removeprefix("MOSTLY_").removeprefix("ALL_").removesuffix("_MOE").lower()
        if f"gguf-{name}" in FORMATS:
            return f"gguf-{name}"
    by_type = Counter()
    for _n, _s, t, _e, b, _o in tensors:
        by_type[t.lower()] += b
    common = [f"gguf-{t}" for t, _ in by_type.most_common() if f"gguf-{t}" in FORMATS]
    return common[0] if common else "gguf-q8_0"


def import_gguf_bytes(data, source: str, file_size: int | None = None) -> ImportResult:
    """ImportResult of a GGUF file (or its first bytes: the header is enough)."""
    header = read_gguf_header(data)
    meta, tensors = header["metadata"], header["tensors"]
    names = {t[0] for t in tensors}
    warnings: list[str] = []
    params, unknown = class_params(tensors)
    if unknown:
        warnings.append(f"{len(unknown)} GGUF tensors of unknown role counted as attention extras, e.g. {unknown[0]}")
    from .config import _check_numbers, _merged
    stem = Path(source).stem if source.lower().endswith(".gguf") else ""
    model_id = f"gguf/{stem or meta.get('general.name') or 'model'}"[:200]
    try:
        raw = config_from_metadata(meta, names)
        c = _merged(dict(raw))
        _check_numbers(c)
        spec, family = _build(model_id, c, model_type_of(c), warnings)
    except ModelImportError:
        raise
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        raise ModelImportError(f"GGUF metadata of architecture {meta.get('general.architecture')!r} "
                               f"is incomplete ({type(exc).__name__}: {exc})") from None
    exact = {k: params.get(k, 0) for k in [*spec.params, *(k for k in params if k not in spec.params)]}
    spec = spec.model_copy(update={"params": exact, "default_weights": default_format(meta, tensors)})
    total = sum(t[4] for t in tensors)
    if file_size is not None and file_size >= header["data_offset"] and file_size < header["data_offset"] + total:
        warnings.append(f"header only: the file stops {header['data_offset'] + total - file_size:,} bytes before the "
                        "end of its tensor data (sizes come from the header)")
    by_type = Counter()
    for t in tensors:
        by_type[t[2]] += t[4]
    return finish(spec, raw, f"gguf:{meta.get('general.architecture')}", source=f"gguf:{source}", warnings=warnings,
                  weights_bytes_exact=total, weights_bytes_source="GGUF tensor table (n_elements / block x type size)",
                  bytes_by_dtype=dict(by_type), tensor_count=len(tensors))


def import_gguf(path: str | Path) -> ImportResult:
    """Memory-map a local GGUF file and read its header (the weights are never read)."""
    path = Path(path)
    size = path.stat().st_size
    if size < 24:
        raise ModelImportError(f"{path.name} is {size} bytes: too short for a GGUF header")
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        return import_gguf_bytes(mm, str(path), file_size=size)
