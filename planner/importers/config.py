"""Plan any model: a Hugging Face config.json (dict, text or file) -> ModelSpec, with warnings.

Families model_from_config reads (Llama/Mistral, Qwen2/2.5/3 dense and MoE, Qwen3-Next, Mixtral, DeepSeek-V3,
gpt-oss, Gemma 3) go straight through; Phi-3, Gemma 2, DeepSeek-V2 and GPT-style generic decoders are first
rewritten into fields it knows; Mamba/Mamba2 and hybrids go to ssm_import. Vision towers (vision_config) are
counted as a `vision` tensor class (SigLIP/ViT layout: 4 h^2 attention + 2 h d MLP per layer). Bad input raises
ModelImportError naming the problem; nothing else escapes.
"""
from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from planner.core.architecture import model_from_config, text_config
from planner.core.precision import FORMATS
from .quant import QuantInfo, quant_info
from planner.core.schemas import ModelSpec
from .ssm import is_ssm_config, spec_from_ssm_config

MAX_CONFIG_BYTES = 4 * 2**20       # real config.json files are < 200 kB; 4 MiB leaves room for odd ones
MAX_TOTAL_PARAMS = 100e12          # 100 T parameters: anything above is a typo, not a model
LIMITS = {"hidden_size": 131_072, "num_hidden_layers": 2_048, "num_attention_heads": 4_096, "num_key_value_heads": 4_096,
          "vocab_size": 4_000_000, "intermediate_size": 1_048_576, "moe_intermediate_size": 1_048_576, "head_dim": 8_192,
          "num_experts": 16_384, "num_local_experts": 16_384, "n_routed_experts": 16_384, "max_position_embeddings": 1 << 30}
ALIASES = {  # GPT-2, GPT-NeoX, MPT, Falcon, ChatGLM names -> Llama names
    "hidden_size": ("n_embd", "d_model", "model_dim", "dim"), "num_hidden_layers": ("n_layer", "n_layers", "num_layers"),
    "num_attention_heads": ("n_head", "n_heads", "num_heads"),
    "num_key_value_heads": ("num_kv_heads", "n_head_kv", "multi_query_group_num", "n_kv_heads"),
    "intermediate_size": ("n_inner", "ffn_hidden_size", "ffn_dim", "d_ff"),
    "max_position_embeddings": ("n_positions", "max_seq_len", "seq_length", "n_ctx"), "vocab_size": ("padded_vocab_size",),
}
NATIVE = {"llama", "mistral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "qwen3_next", "mixtral", "deepseek_v3",
          "deepseek_v2", "gpt_oss", "gemma3", "gemma3_text", "gemma2", "gemma", "phi3", "phimoe", "granite", "olmo2",
          "internlm2", "yi", "glm4", "exaone", "smollm3"}
NON_GATED = {"gpt2", "gpt_neox", "gptj", "opt", "bloom", "falcon", "mpt", "starcoder2", "phi", "gpt_bigcode",
             "nemotron", "codegen", "gpt_neo"}
FAMILY_DEFAULTS = {  # transformers config defaults the hub files often omit
    "gemma3_text": {"vocab_size": 262_208, "sliding_window_pattern": 6, "sliding_window": 4096, "head_dim": 256,
                    "tie_word_embeddings": True},
    "gemma2": {"tie_word_embeddings": True}, "gemma": {"tie_word_embeddings": True},
}
TOKENIZER_KEYS = ("tokenizer_class", "added_tokens_decoder", "model_max_length", "chat_template", "bos_token")


class ModelImportError(ValueError):
    """A config, header or hub answer the importer cannot use; the message names the problem."""


class ImportResult(BaseModel):
    """An imported model: its spec plus what the files said exactly."""
    model_config = ConfigDict(frozen=True, extra="forbid")
    spec: ModelSpec
    source: str                             # path, "pasted config", "hf:<id>" or "gguf:<path>"
    family: str                             # which reader built the spec
    weights_bytes_exact: int | None = None  # the checkpoint's tensor bytes when a file tells them
    weights_bytes_source: str = ""
    bytes_by_dtype: dict[str, int] = {}
    tensor_count: int | None = None
    quantization: QuantInfo | None = None
    high_precision_modules: tuple[str, ...] = ()  # quantized checkpoints: 2-D weights the headers show in 16/32-bit
    vision_params: int = 0
    warnings: tuple[str, ...] = ()
    config: dict | None = None              # the config as read, for share links

    def model_post_init(self, _context) -> None:
        # the planner sizes weights from the spec alone, so the exact bytes travel with it
        if self.weights_bytes_exact and self.spec.weights_bytes_exact != self.weights_bytes_exact:
            object.__setattr__(self, "spec", self.spec.model_copy(update={"weights_bytes_exact": self.weights_bytes_exact}))


# -- reading ----------------------------------------------------------------------------------------
def load_config(source: dict | str | bytes | Path) -> dict:
    """A config dict from a dict, JSON text/bytes or a file path; size-capped, never eval'd."""
    if isinstance(source, dict):
        return source
    if isinstance(source, Path) or (isinstance(source, str) and not source.lstrip().startswith("{") and len(source) < 4096):
        path = Path(source)
        if not path.is_file():
            raise ModelImportError(f"no such file: {path}")
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ModelImportError(f"{path.name} is {path.stat().st_size / 1e6:.1f} MB; a config.json is at most "
                                   f"{MAX_CONFIG_BYTES / 2**20:.0f} MiB")
        source = path.read_bytes()
    if len(source) > MAX_CONFIG_BYTES:
        raise ModelImportError(f"input is {len(source) / 1e6:.1f} MB; a config.json is at most {MAX_CONFIG_BYTES / 2**20:.0f} MiB")
    try:
        data = json.loads(source)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelImportError(f"not JSON: {exc}") from None
    except RecursionError:
        raise ModelImportError("not a config: JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise ModelImportError(f"config.json must be a JSON object, got a {type(data).__name__}")
    return data


def _merged(config: dict) -> dict:
    """Language-model fields at the top (text_config, llm_config, language_config), vision kept aside."""
    for key in ("llm_config", "language_config"):
        if isinstance(config.get(key), dict) and "text_config" not in config:
            config = {**{k: v for k, v in config.items() if k != key}, "text_config": config[key]}
    c = dict(text_config(config))
    for name, aliases in ALIASES.items():
        if c.get(name) is None:
            found = next((a for a in aliases if isinstance(c.get(a), (int, float)) and not isinstance(c.get(a), bool)), None)
            if found:
                c[name] = c[found]
    if c.get("torch_dtype") is None and isinstance(c.get("dtype"), str):
        c["torch_dtype"] = c["dtype"]
    return c


def model_type_of(c: dict) -> str:
    return str(c.get("model_type") or "").split(" ")[0].lower()


def _reject_other_files(c: dict) -> None:
    if "weight_map" in c:
        raise ModelImportError("this is model.safetensors.index.json (a weight map), not config.json; "
                               "give the config.json of the same repository")
    if "hidden_size" in c or "d_model" in c:
        return
    if any(k in c for k in TOKENIZER_KEYS):
        raise ModelImportError("this is a tokenizer config (tokenizer_config.json), not the model's config.json")
    if "_from_model_config" in c or ("eos_token_id" in c and len(c) < 12):
        raise ModelImportError("this is generation_config.json, not the model's config.json")


def _check_numbers(c: dict) -> None:
    for key, limit in LIMITS.items():
        value = c.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ModelImportError(f"{key} = {value!r} is not a number")
        if isinstance(value, float):
            if not value.is_integer():
                raise ModelImportError(f"{key} = {value!r} is not a whole number")
            c[key] = value = int(value)
        if not 0 < value <= limit and not (value == 0 and key not in ("hidden_size", "num_hidden_layers", "vocab_size")):
            raise ModelImportError(f"{key} = {value:,} is absurd (allowed 1 to {limit:,})")


def _require(c: dict, *keys: str) -> None:
    missing = [k for k in keys if c.get(k) is None]
    if missing:
        raise ModelImportError(f"config.json lacks {', '.join(missing)}: cannot size the model")


# -- family rewrites ---------------------------------------------------------------------------------
def _rewrite(c: dict, mt: str, warnings: list[str]) -> dict:
    """Turn Gemma 2 / Phi-3 / generic fields into the ones model_from_config reads."""
    n = c["num_hidden_layers"]
    if mt == "gemma2" and "layer_types" not in c and c.get("sliding_window"):
        # transformers Gemma2: even layers (0, 2, ...) slide, odd layers attend globally
        c["layer_types"] = ["sliding_attention" if (i + 1) % 2 else "full_attention" for i in range(n)]
    if mt in ("phi3", "phimoe") and c.get("sliding_window") and c["sliding_window"] < c.get("max_position_embeddings", 0):
        c["layer_types"] = ["sliding_attention"] * n
    if isinstance(c.get("layer_types"), list) and len(c["layer_types"]) != n:
        raise ModelImportError(f"layer_types lists {len(c['layer_types'])} layers but num_hidden_layers is {n}")
    if mt not in NATIVE:
        guessed = []
        if c.get("intermediate_size") is None:
            c["intermediate_size"] = 4 * c["hidden_size"]
            guessed.append("intermediate_size = 4 x hidden_size")
        gated = mt not in NON_GATED
        guessed.append("gated (SwiGLU) MLP" if gated else "plain 2-matrix MLP")
        guessed.append("no biases, every layer full attention")
        if c.get("num_key_value_heads") is None:
            guessed.append("num_key_value_heads = num_attention_heads (MHA)")
        if c.get("tie_word_embeddings") is None:
            c["tie_word_embeddings"] = True  # transformers PretrainedConfig default
            guessed.append("tied embeddings (transformers default)")
        warnings.append(f"model_type {mt or '(none)'!r} is not a known family: read as a generic decoder "
                        f"({'; '.join(guessed)}); check the parameter count")
    return c


def _ungate(spec: ModelSpec) -> ModelSpec:
    """GPT-style MLPs have one up matrix, not gate + up."""
    p = dict(spec.params)
    p["mlp_up"] //= 2
    return spec.model_copy(update={"params": p})


def _size(value) -> int | float:
    """A positive size from a vision config (lists such as [224, 224] give their first entry); 0 if unusable."""
    if isinstance(value, list) and value:
        value = value[0]
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 1e6
    return value if ok else 0


def vision_params(config: dict) -> int:
    """SigLIP/CLIP-ViT tower + a linear projector to the text width; ~exact for Gemma 3 (SigLIP-So400m)."""
    v = config.get("vision_config")
    if not isinstance(v, dict):
        return 0
    h = v.get("embed_dim") or v.get("hidden_size") or v.get("width") or 0  # Qwen2-VL: hidden_size is the text width
    layers = v.get("num_hidden_layers") or v.get("depth") or v.get("layers") or 0
    if not (isinstance(h, int) and isinstance(layers, int) and 0 < h <= 65536 and 0 < layers <= 1024):
        return 0
    d = _size(v.get("intermediate_size")) or int(h * (_size(v.get("mlp_ratio")) or 4))
    patch, image, chans = _size(v.get("patch_size")) or 14, _size(v.get("image_size")) or 224, _size(v.get("num_channels")) or 3
    per_layer = 4 * h * h + 4 * h + 4 * h + 2 * h * d + d + h  # q,k,v,o + biases, two LayerNorms, fc1, fc2
    embed = chans * patch * patch * h + h + (image // patch) ** 2 * h
    text_h = _size(text_config(config).get("hidden_size")) or h
    return int(layers * per_layer + embed + 2 * h + h * text_h + h)  # + post-LN, projector and its norm


# -- import -------------------------------------------------------------------------------------------
def _default_id(c: dict, source=None) -> str:
    """_name_or_path, else the file name (its folder for config.json), else a description."""
    named = str(c.get("_name_or_path") or c.get("name_or_path") or "").strip()
    if not named and isinstance(source, (str, Path)) and not str(source).lstrip().startswith("{"):
        path = Path(source)
        named = (path.parent.name if path.stem == "config" else path.stem).replace("__", "/")
    return named or \
        f"imported/{model_type_of(c) or 'model'}-{c.get('num_hidden_layers') or c.get('n_layer')}L-{c.get('hidden_size')}h"


def _build(model_id: str, c: dict, mt: str, warnings: list[str]) -> tuple[ModelSpec, str]:
    if is_ssm_config(c):
        if c.get("hidden_size") is None and c.get("d_model") is None:
            raise ModelImportError("config.json lacks hidden_size (d_model): cannot size the model")
        _require(c, "vocab_size")
        spec, _ = spec_from_ssm_config(model_id, c)
        return spec, mt or "mamba"
    for key, value in FAMILY_DEFAULTS.get(mt, {}).items():
        if c.get(key) is None:
            c[key] = value
            if key == "vocab_size":
                warnings.append(f"vocab_size not in config: used the transformers default {value:,} for {mt}")
    _require(c, "hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size")
    c = _rewrite(c, mt, warnings)
    spec = model_from_config(model_id, c, notes=tuple(warnings))
    if mt in NON_GATED:
        spec = _ungate(spec)
    return spec, mt if mt in NATIVE else "generic"


def import_config(source: dict | str | bytes | Path, model_id: str | None = None) -> ImportResult:
    """Build an ImportResult from a config.json; raises ModelImportError on anything unusable."""
    raw = load_config(source)
    c = _merged(raw)
    _reject_other_files(c)
    _check_numbers(c)
    mt, warnings = model_type_of(c), []
    model_id = (model_id or _default_id(c, source))[:200]
    try:
        spec, family = _build(model_id, c, mt, warnings)
    except ModelImportError:
        raise
    except KeyError as exc:
        raise ModelImportError(f"config.json lacks {exc.args[0]!r}, needed for a {mt or 'generic'} model") from None
    except ValidationError as exc:
        raise ModelImportError(f"config.json gives impossible values: {exc.errors()[0]['loc']} {exc.errors()[0]['msg']}") from None
    except (TypeError, ValueError, ZeroDivisionError, AttributeError) as exc:
        raise ModelImportError(f"config.json has a field of the wrong shape ({type(exc).__name__}: {exc})") from None
    is_path = isinstance(source, Path) or (isinstance(source, str) and not source.lstrip().startswith("{"))
    return finish(spec, raw, family, source=str(source) if is_path else "pasted config", warnings=warnings)


def finish(spec: ModelSpec, raw: dict, family: str, source: str, warnings: list[str], **extra) -> ImportResult:
    """Add the vision tower, the quantization format and the sanity cap; wrap in an ImportResult."""
    vision = vision_params(raw)
    params = dict(spec.params)
    if vision:
        params["vision"] = vision
        warnings.append(f"vision tower counted: {vision / 1e6:,.0f} M parameters estimated from vision_config")
    try:
        quant = quant_info(raw) or quant_info(text_config(raw))
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        raise ModelImportError(f"quantization_config is malformed ({type(exc).__name__}: {exc})") from None
    weights = quant.weights if quant and quant.weights in FORMATS else spec.default_weights
    if quant and quant.note:
        warnings.append(quant.note)
    spec = spec.model_copy(update={"params": params, "default_weights": weights,
                                   "notes": tuple(dict.fromkeys(spec.notes + tuple(warnings)))})
    if spec.total_params > MAX_TOTAL_PARAMS:
        raise ModelImportError(f"the config describes {spec.total_params:.3g} parameters; above "
                               f"{MAX_TOTAL_PARAMS:.0e} it is not a real model")
    return ImportResult(spec=spec, source=source, family=family, quantization=quant, vision_params=vision,
                        warnings=tuple(dict.fromkeys(warnings)), config=raw, **extra)
