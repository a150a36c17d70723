"""Hugging Face config.json -> ModelSpec: layer kinds and parameter counts by tensor class.

Counting follows shared/reference/modeling.md §2.1 (GQA, gated attention, SwiGLU, MoE with shared
experts, Gated DeltaNet, MLA). Checked against the published totals in data/models/published_params.csv
(tests/test_catalog.py): Qwen3-Next 79,674,391,296, gpt-oss-120b 116,829,156,672, DeepSeek-V3 671.0 B.
"""
from __future__ import annotations

from collections import Counter

from .schemas import TENSOR_CLASSES, LayerGroup, ModelSpec

FORMAT_OF_QUANT_METHOD = {"fp8": "fp8", "mxfp4": "mxfp4", "awq": "int4-awq", "gptq": "int4-gptq",
                          "modelopt_fp4": "nvfp4", "nvfp4": "nvfp4"}


def text_config(config: dict) -> dict:
    """Multimodal configs nest the language model under text_config."""
    inner = config.get("text_config")
    if isinstance(inner, dict):
        merged = {k: v for k, v in config.items() if k != "text_config"}
        merged.update(inner)
        return merged
    return config


def _layer_kinds(c: dict) -> list[tuple[str, int | None]]:
    """Attention kind (and window) of every decoder layer."""
    n = c["num_hidden_layers"]
    if c.get("full_attention_interval"):  # Qwen3-Next: every k-th layer is full attention
        k = c["full_attention_interval"]
        return [("full", None) if (i + 1) % k == 0 else ("linear", None) for i in range(n)]
    if c.get("kv_lora_rank"):
        return [("mla", None)] * n
    if isinstance(c.get("layer_types"), list):
        window = c.get("sliding_window")
        return [("sliding", window) if t == "sliding_attention" else ("full", None) for t in c["layer_types"]]
    if c.get("sliding_window_pattern"):  # Gemma 3: 5 local layers, then 1 global
        p, window = c["sliding_window_pattern"], c.get("sliding_window")
        return [("full", None) if (i + 1) % p == 0 else ("sliding", window) for i in range(n)]
    window = c.get("sliding_window")
    if window and (c.get("use_sliding_window") or c.get("model_type") == "mistral"):  # Mistral 7B v0.1: 4096
        return [("sliding", window)] * n
    return [("full", None)] * n


def _moe_layers(c: dict, n_experts: int) -> list[bool]:
    n = c["num_hidden_layers"]
    if not n_experts:
        return [False] * n
    first_dense = c.get("first_k_dense_replace", 0)
    step = c.get("decoder_sparse_step", 1) or 1
    dense_only = set(c.get("mlp_only_layers") or [])
    return [i >= first_dense and i not in dense_only and (i + 1) % step == 0 for i in range(n)]


def _attention_params(c: dict, kind: str, h: int, nq: int, nkv: int, dh: int) -> Counter:
    p = Counter()
    if kind == "mla":
        q_lora, kv_lora, rope = c.get("q_lora_rank") or 0, c["kv_lora_rank"], c["qk_rope_head_dim"]
        qk_dim, v_dim = c["qk_nope_head_dim"] + rope, c["v_head_dim"]
        q = h * q_lora + q_lora * nq * qk_dim if q_lora else h * nq * qk_dim
        p["attn"] += q + h * (kv_lora + rope) + kv_lora * nq * (c["qk_nope_head_dim"] + v_dim) + nq * v_dim * h
        p["attn_small"] += q_lora + kv_lora  # the two latent norms
        return p
    if kind == "linear":  # Gated DeltaNet (modeling.md §2.1)
        nk, nv = c["linear_num_key_heads"], c["linear_num_value_heads"]
        dk, dv, conv_k = c["linear_key_head_dim"], c["linear_value_head_dim"], c["linear_conv_kernel_dim"]
        p["linear_attn"] += h * (2 * nk * dk + 2 * nv * dv) + nv * dv * h
        p["linear_small"] += h * 2 * nv + (2 * nk * dk + nv * dv) * conv_k + 2 * nv + dv
        return p
    q_out = nq * dh * (2 if c.get("model_type") == "qwen3_next" else 1)  # gated attention: query + gate
    p["attn"] += h * q_out + 2 * h * nkv * dh + nq * dh * h
    if c.get("attention_bias") or c.get("qkv_bias") or c.get("model_type") in ("qwen2", "qwen2_moe"):
        p["attn_small"] += nq * dh + 2 * nkv * dh + (h if c.get("attention_bias") else 0)
    if c.get("model_type", "").startswith(("qwen3", "gemma3")) or "gemma3" in c.get("model_type", ""):
        p["attn_small"] += 2 * dh  # q_norm, k_norm
    if c.get("model_type") == "gpt_oss":
        p["attn_small"] += nq  # attention sinks
    return p


def _mlp_params(c: dict, moe: bool, h: int, n_experts: int) -> Counter:
    p = Counter()
    if not moe:
        d = c["intermediate_size"]
        p["mlp_up"], p["mlp_down"] = 2 * h * d, d * h
        return p
    d = c.get("moe_intermediate_size") or c["intermediate_size"]
    p["expert_up"], p["expert_down"] = n_experts * 2 * h * d, n_experts * d * h
    p["router"] += n_experts * h
    if c.get("model_type") == "gpt_oss":  # biased experts and router
        p["expert_up"] += n_experts * 2 * d
        p["expert_down"] += n_experts * h
        p["router"] += n_experts
    if c.get("model_type") == "deepseek_v3" or c.get("topk_method") == "noaux_tc":
        p["router"] += n_experts  # e_score_correction_bias
    shared = _shared_width(c)
    if shared:
        p["shared_up"], p["shared_down"] = 2 * h * shared, shared * h
        if c.get("model_type") == "qwen3_next" or c.get("shared_expert_intermediate_size"):
            p["router"] += h  # sigmoid shared-expert gate
    return p


def _shared_width(c: dict) -> int:
    if c.get("shared_expert_intermediate_size"):
        return c["shared_expert_intermediate_size"]
    if c.get("n_shared_experts"):
        return c["n_shared_experts"] * c["moe_intermediate_size"]
    return 0


def _norms_per_layer(c: dict) -> int:
    return 4 if "gemma" in c.get("model_type", "") else 2


def _mtp_params(c: dict, h: int, per_layer_full_moe: int) -> int:
    """Qwen3-Next MTP head: fc 2H->H, one full-attention MoE layer, three extra norms."""
    if c.get("model_type") == "qwen3_next" and c.get("num_nextn_predict_layers", 1):
        return 2 * h * h + per_layer_full_moe + 3 * h
    return 0


def n_experts_of(c: dict) -> int:
    return c.get("num_experts") or c.get("num_local_experts") or c.get("n_routed_experts") or 0


def default_weights_of(c: dict) -> str:
    q = c.get("quantization_config") or {}
    method = str(q.get("quant_method", "")).lower()
    if method in FORMAT_OF_QUANT_METHOD:
        return FORMAT_OF_QUANT_METHOD[method]
    return "fp16" if c.get("torch_dtype") == "float16" else "bf16"


def model_from_config(model_id: str, config: dict, notes: tuple[str, ...] = ()) -> ModelSpec:
    """Build the ModelSpec of a decoder-only config.json (raises KeyError on a missing field)."""
    c = text_config(config)
    h, n = c["hidden_size"], c["num_hidden_layers"]
    nq = c["num_attention_heads"]
    nkv = c.get("num_key_value_heads") or nq
    dh = c.get("head_dim") or h // nq
    n_experts = n_experts_of(c)
    kinds, moes = _layer_kinds(c), _moe_layers(c, n_experts)
    params = Counter({k: 0 for k in TENSOR_CLASSES})
    groups: Counter = Counter()
    per_layer: dict = {}
    for (kind, window), moe in zip(kinds, moes):
        layer = _attention_params(c, kind, h, nq, nkv, dh) + _mlp_params(c, moe, h, n_experts)
        layer["norm"] += _norms_per_layer(c) * h
        params.update(layer)
        groups[(kind, moe, window)] += 1
        per_layer[(kind, moe)] = sum(layer.values())
    params["embed"] = c["vocab_size"] * h
    params["lm_head"] = 0 if c.get("tie_word_embeddings") else c["vocab_size"] * h
    params["norm"] += h  # final norm
    order = {k: i for i, k in enumerate(dict.fromkeys((k, w) for k, w in kinds))}
    layers = tuple(LayerGroup(count=cnt, attention=kind, moe=moe, window=window)
                   for (kind, moe, window), cnt in sorted(groups.items(), key=lambda kv: order[(kv[0][0], kv[0][2])]))
    return ModelSpec(
        id=model_id, architecture=(c.get("architectures") or [c.get("model_type", "unknown")])[0],
        hidden_size=h, vocab_size=c["vocab_size"], num_layers=n, num_heads=nq, num_kv_heads=nkv, head_dim=dh,
        intermediate_size=c.get("intermediate_size", 0) if not all(moes) or not n_experts else 0,
        num_experts=n_experts, experts_per_token=c.get("num_experts_per_tok", 0) if n_experts else 0,
        expert_intermediate_size=(c.get("moe_intermediate_size") or c.get("intermediate_size", 0)) if n_experts else 0,
        shared_expert_intermediate_size=_shared_width(c),
        kv_lora_rank=c.get("kv_lora_rank") or 0, qk_rope_head_dim=c.get("qk_rope_head_dim") or 0,
        linear_num_key_heads=c.get("linear_num_key_heads", 0), linear_num_value_heads=c.get("linear_num_value_heads", 0),
        linear_key_head_dim=c.get("linear_key_head_dim", 0), linear_value_head_dim=c.get("linear_value_head_dim", 0),
        linear_conv_kernel=c.get("linear_conv_kernel_dim", 0), tied_embeddings=bool(c.get("tie_word_embeddings")),
        max_context=c.get("max_position_embeddings", 0), dtype=str(c.get("torch_dtype") or "bfloat16"),
        default_weights=default_weights_of(c), layers=layers, params=dict(params),
        mtp_params=_mtp_params(c, h, per_layer.get(("full", True), 0)), notes=notes)
