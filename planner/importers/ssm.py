"""Mamba, Mamba2 and the attention + SSM hybrids (Jamba, Nemotron-H, Granite 4 hybrid) -> ModelSpec.

Tensor shapes follow transformers `MambaMixer` / `Mamba2Mixer` (in_proj H -> 2*d_inner + 2*n_groups*d_state
+ n_heads, depthwise conv over d_inner + 2*n_groups*d_state, A_log/D/dt_bias per head, gated RMSNorm, out_proj),
`JambaMambaMixer` (x_proj, dt_proj and the dt/B/C norms), `NemotronHBlock` (one mixer per block: M, *, -, E)
and `GraniteMoeHybridDecoderLayer` (mixer + MoE + shared MLP). ModelSpec has no SSM layer kind yet, so an
SSM layer is stored as `attention="linear"` with the Gated-DeltaNet state fields chosen so that memory.py's
formula gives the Mamba state: conv (d_conv-1) x conv_dim, SSM n_heads x head_dim x d_state.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from planner.core.schemas import TENSOR_CLASSES, LayerGroup, ModelSpec

SSM_TYPES = ("mamba", "mamba2", "falcon_mamba", "jamba", "nemotron_h", "granitemoehybrid")


@dataclass(frozen=True)
class Block:
    mixer: str | None      # "mamba" | "attention" | None (MLP-only block)
    mlp: str | None        # "dense" | "moe" | None


@dataclass(frozen=True)
class Ssm:
    version: int           # 1 = Mamba (selective scan), 2 = Mamba2 (SSD)
    d_inner: int
    d_state: int
    d_conv: int
    n_heads: int = 0       # Mamba2
    head_dim: int = 0
    n_groups: int = 1
    dt_rank: int = 0       # Mamba1
    conv_bias: bool = True
    proj_bias: bool = False
    dt_norms: bool = False  # Jamba's dt/B/C layernorms


def is_ssm_config(c: dict) -> bool:
    mt = str(c.get("model_type", "")).lower()
    return mt in SSM_TYPES or (isinstance(c.get("ssm_cfg"), dict) and "d_model" in c)


def _get(c: dict, *keys, default=None):
    for k in keys:
        if c.get(k) is not None:
            return c[k]
    return default


def ssm_of(c: dict, h: int) -> Ssm:
    """Mixer shapes, whichever naming the family uses (mamba_*, ssm_cfg, plain)."""
    s = {**(c.get("ssm_cfg") or {}), **c}
    mt = str(c.get("model_type", "")).lower()
    v2 = mt in ("mamba2", "nemotron_h", "granitemoehybrid") or str(s.get("layer", "")).lower() == "mamba2"
    expand = _get(s, "mamba_expand", "expand", default=2)
    # MambaConfig's intermediate_size is d_inner; Jamba's and Granite's are MLP widths
    d_inner = int(_get(s, "mamba_d_inner", default=None) or (s.get("intermediate_size") if mt in ("mamba", "falcon_mamba") else 0)
                  or expand * h)
    d_state = int(_get(s, "mamba_d_state", "ssm_state_size", "state_size", "d_state", default=128 if v2 else 16))
    d_conv = int(_get(s, "mamba_d_conv", "conv_kernel", "d_conv", default=4))
    conv_bias = bool(_get(s, "mamba_conv_bias", "use_conv_bias", "conv_bias", default=True))
    proj_bias = bool(_get(s, "mamba_proj_bias", "use_bias", "bias", default=False))
    if v2:
        head_dim = int(_get(s, "mamba_d_head", "mamba_head_dim", "headdim", default=None)
                       or (s.get("head_dim") if mt == "mamba2" else 0) or 64)
        n_heads = int(_get(s, "mamba_n_heads", "mamba_num_heads", "nheads", default=None)
                      or (s.get("num_heads") if mt == "mamba2" else 0) or d_inner // head_dim)
        groups = int(_get(s, "mamba_n_groups", "n_groups", "ngroups", default=1))
        return Ssm(2, n_heads * head_dim, d_state, d_conv, n_heads, head_dim, groups,
                   conv_bias=conv_bias, proj_bias=proj_bias)
    rank = _get(s, "mamba_dt_rank", "time_step_rank", "dt_rank", default="auto")
    rank = -(-h // 16) if rank == "auto" else int(rank)
    return Ssm(1, d_inner, d_state, d_conv, dt_rank=rank, conv_bias=conv_bias, proj_bias=proj_bias,
               dt_norms=mt == "jamba")


def mixer_params(m: Ssm, h: int) -> Counter:
    """One SSM mixer: big projections -> linear_attn, conv/A/D/dt/norms -> linear_small."""
    p = Counter()
    if m.version == 2:
        conv_dim = m.d_inner + 2 * m.n_groups * m.d_state
        in_out = 2 * m.d_inner + 2 * m.n_groups * m.d_state + m.n_heads
        p["linear_attn"] = h * in_out + m.d_inner * h
        p["linear_small"] = conv_dim * m.d_conv + conv_dim * m.conv_bias + 3 * m.n_heads + m.d_inner
        p["linear_small"] += (in_out + h) * m.proj_bias
        return p
    p["linear_attn"] = h * 2 * m.d_inner + m.d_inner * (m.dt_rank + 2 * m.d_state) + m.dt_rank * m.d_inner + m.d_inner * h
    p["linear_small"] = m.d_inner * m.d_conv + m.d_inner * m.conv_bias + m.d_inner + m.d_inner * m.d_state + m.d_inner
    p["linear_small"] += (2 * m.d_inner + h) * m.proj_bias + (m.dt_rank + 2 * m.d_state) * m.dt_norms
    return p


def _attention(c: dict, h: int) -> Counter:
    nq = c["num_attention_heads"]
    nkv, dh = c.get("num_key_value_heads") or nq, c.get("head_dim") or h // nq
    p = Counter(attn=h * nq * dh + 2 * h * nkv * dh + nq * dh * h)
    if c.get("attention_bias"):
        p["attn_small"] = nq * dh + 2 * nkv * dh + h
    return p


def _mlp(c: dict, h: int, kind: str, gated: bool) -> Counter:
    mats = 3 if gated else 2
    p = Counter()
    if kind == "dense":  # Granite's dense hybrids keep their MLP as the shared_mlp
        granite = c.get("model_type") == "granitemoehybrid"
        d = _get(c, *(("shared_intermediate_size", "intermediate_size") if granite else ("intermediate_size",)))
        p["mlp_up"], p["mlp_down"] = (mats - 1) * h * d, d * h
        return p
    e = _get(c, "num_experts", "num_local_experts", "n_routed_experts")
    d = _get(c, "moe_intermediate_size", "intermediate_size")
    p["expert_up"], p["expert_down"] = e * (mats - 1) * h * d, e * d * h
    p["router"] = e * h + (e if c.get("model_type") == "nemotron_h" else 0)  # + e_score_correction_bias
    shared = _get(c, "moe_shared_expert_intermediate_size", "shared_intermediate_size", default=0)
    if shared:
        p["shared_up"], p["shared_down"] = (mats - 1) * h * shared, shared * h
    return p


def blocks_of(c: dict) -> list[Block]:
    """The stack, one entry per block, from each family's layer-pattern field."""
    mt, n = str(c.get("model_type", "")).lower(), c.get("num_hidden_layers") or c.get("n_layer")
    n_exp = _get(c, "num_experts", "num_local_experts", "n_routed_experts", default=0) or 0
    if mt == "nemotron_h":
        kinds = {"M": Block("mamba", None), "*": Block("attention", None), "-": Block(None, "dense"), "E": Block(None, "moe")}
        pattern = str(c["hybrid_override_pattern"])
        if set(pattern) - set(kinds):
            raise ValueError(f"hybrid_override_pattern has unknown block letters {sorted(set(pattern) - set(kinds))}")
        return [kinds[ch] for ch in pattern]
    mlp = "moe" if n_exp > 1 else "dense"
    if mt == "granitemoehybrid":
        return [Block("attention" if t == "attention" else "mamba", mlp) for t in c["layer_types"]]
    if mt == "jamba":
        ap, ao = c.get("attn_layer_period", 8), c.get("attn_layer_offset", 4)
        ep, eo = c.get("expert_layer_period", 2), c.get("expert_layer_offset", 1)
        return [Block("attention" if i % ap == ao else "mamba", "moe" if n_exp > 1 and i % ep == eo else "dense")
                for i in range(n)]
    attn = set(c.get("attn_layer_idx") or [])  # state-spaces hybrid checkpoints
    return [Block("attention" if i in attn else "mamba", None) for i in range(n)]


def _layer_groups(blocks: list[Block]) -> tuple[LayerGroup, ...]:
    """Mixer blocks become layers; an MLP-only MoE block lends its MoE flag to the mixer before it."""
    mixers: list[list] = []
    for b in blocks:
        if b.mixer:
            mixers.append([b.mixer, b.mlp == "moe"])
        elif b.mlp == "moe":
            target = next((m for m in reversed(mixers) if not m[1]), None) or next((m for m in mixers if not m[1]), None)
            if target:
                target[1] = True
    counts = Counter(("full" if k == "attention" else "linear", moe) for k, moe in mixers)
    return tuple(LayerGroup(count=v, attention=k, moe=moe) for (k, moe), v in counts.items())


def _params(c: dict, h: int, blocks: list[Block], ssm: Ssm) -> Counter:
    mt = str(c.get("model_type", "")).lower()
    gated = mt != "nemotron_h"  # Nemotron-H MLPs and experts are relu^2 up/down only
    norms_per_block = 1 if mt in ("nemotron_h", "mamba", "mamba2", "falcon_mamba") or "ssm_cfg" in c else 2
    p = Counter({k: 0 for k in TENSOR_CLASSES})
    for b in blocks:
        if b.mixer == "mamba":
            p.update(mixer_params(ssm, h))
        elif b.mixer == "attention":
            p.update(_attention(c, h))
        if b.mlp:
            p.update(_mlp(c, h, b.mlp, gated))
        p["norm"] += norms_per_block * h
    vocab = vocab_size_of(c)
    p["embed"] = vocab * h
    p["lm_head"] = 0 if tied(c) else vocab * h
    p["norm"] += h
    return p


def vocab_size_of(c: dict) -> int:
    vocab, mult = c["vocab_size"], c.get("pad_vocab_size_multiple") or 1
    return -(-vocab // mult) * mult  # state-spaces checkpoints pad the table


def tied(c: dict) -> bool:
    return bool(_get(c, "tie_word_embeddings", "tie_embeddings", default=True))


def spec_from_ssm_config(model_id: str, c: dict) -> tuple[ModelSpec, list[str]]:
    """ModelSpec of a pure or hybrid SSM config, with notes saying how SSM layers were mapped."""
    h = int(_get(c, "hidden_size", "d_model"))
    blocks = blocks_of(c)
    ssm = ssm_of(c, h)
    params = _params(c, h, blocks, ssm)
    has_attn = any(b.mixer == "attention" for b in blocks)
    n_exp = _get(c, "num_experts", "num_local_experts", "n_routed_experts", default=0) or 0
    if has_attn:
        nq = c["num_attention_heads"]
        nkv, dh = c.get("num_key_value_heads") or nq, c.get("head_dim") or h // nq
    else:  # nominal heads so that tp checks follow the SSM head split
        nq = ssm.n_heads or (64 if ssm.d_inner % 64 == 0 else 1)
        nkv, dh = nq, max(1, h // nq)
    v2 = ssm.version == 2
    notes = [f"SSM (Mamba{ssm.version}) layers are stored as attention='linear' with state fields mapped: "
             f"d_inner {ssm.d_inner}, d_state {ssm.d_state}, d_conv {ssm.d_conv}"
             + (f", {ssm.n_heads} heads x {ssm.head_dim}, {ssm.n_groups} groups" if v2 else "")]
    if v2 and ssm.n_groups == 1:
        notes.append("n_groups = 1 is replicated under tensor parallelism; its B/C conv state "
                     f"({2 * ssm.d_state} channels per layer) is left out of the state figure")
    mlp_only = sum(1 for b in blocks if not b.mixer)
    if mlp_only:
        notes.append(f"{mlp_only} MLP/MoE-only blocks have no layer kind in ModelSpec: their parameters are "
                     "counted, num_layers counts every block")
    spec = ModelSpec(
        id=model_id, architecture=(c.get("architectures") or [c.get("model_type", "mamba")])[0],
        hidden_size=h, vocab_size=vocab_size_of(c), num_layers=len(blocks), num_heads=nq, num_kv_heads=nkv,
        head_dim=dh, intermediate_size=_get(c, "intermediate_size", "shared_intermediate_size", default=0) if not n_exp else 0,
        num_experts=n_exp if n_exp > 1 else 0, experts_per_token=c.get("num_experts_per_tok", 0) if n_exp > 1 else 0,
        expert_intermediate_size=_get(c, "moe_intermediate_size", "intermediate_size", default=0) if n_exp > 1 else 0,
        shared_expert_intermediate_size=_get(c, "moe_shared_expert_intermediate_size", "shared_intermediate_size", default=0) if n_exp > 1 else 0,
        linear_num_key_heads=ssm.n_groups if v2 and ssm.n_groups > 1 else 0,
        linear_num_value_heads=ssm.n_heads if v2 else ssm.d_inner,
        linear_key_head_dim=ssm.d_state, linear_value_head_dim=ssm.head_dim if v2 else 1,
        linear_conv_kernel=ssm.d_conv, tied_embeddings=tied(c),
        max_context=_get(c, "max_position_embeddings", default=0) or 0,
        dtype=str(_get(c, "torch_dtype", "dtype", default="bfloat16")), layers=_layer_groups(blocks),
        params=dict(params), notes=tuple(notes))
    return spec, notes
