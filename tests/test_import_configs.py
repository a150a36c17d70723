"""hf_import against published parameter counts: the 15 catalog configs exactly, other families within 1 %."""
import csv
import json
from pathlib import Path

import pytest

from planner.importers.config import import_config

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "configs"
SHARED = ROOT.parent / "shared" / "data" / "hf-configs"
CONFIG_DIR = SHARED if SHARED.is_dir() else ROOT / "data" / "models"
PUBLISHED = {r["model"]: r for r in csv.DictReader(open(ROOT / "data" / "models" / "published_params.csv"))}


@pytest.mark.parametrize("model_id", sorted(PUBLISHED))
def test_catalog_configs_match_published_counts(model_id):
    path = CONFIG_DIR / (model_id.replace("/", "__") + ".json")
    result = import_config(path, model_id=model_id)
    row = PUBLISHED[model_id]
    assert result.spec.total_params == int(row["total_params"])
    assert result.spec.active_params == int(row["active_params_per_token"])
    assert result.warnings == ()


# (fixture, published total, source of the figure, published active or None)
FAMILIES = [
    ("phi3-mini-4k", 3_821_079_552, "microsoft/Phi-3-mini-4k-instruct model card: 3.8B; hub safetensors 3,821,079,552", None),
    ("gemma2-9b", 9_241_705_984, "google/gemma-2-9b hub safetensors: 9,241,705,984", None),
    ("deepseek-v2-lite", 15_706_484_224, "deepseek-ai/DeepSeek-V2-Lite card: 15.7B total (hub 15,706,484,224)", None),
    ("jamba-v0.1", 51.6e9, "ai21labs/Jamba-v0.1 hub: 51.6B params; card: 12B active", 12e9),
    ("mamba2-2.7b", 2.7e9, "state-spaces/mamba2-2.7b: 2.7B", None),
    ("nemotron-3-nano-30b-a3b", 31.6e9, "NVIDIA Nemotron 3 Nano card: 31.6B total, 3.6B active incl. embeddings", 3.6e9),
    ("granite-4.0-h-small", 32e9, "ibm-granite/granite-4.0-h-small card: 32B total, 9B active (config reconstructed)", None),
    ("phi3.5-moe", 41.9e9, "microsoft/Phi-3.5-MoE-instruct card: 16x3.8B experts, 6.6B active, hub 41.9B", 6.6e9),
    ("gemma3-27b-it-nested", 27_432_406_640, "google/gemma-3-27b-it hub safetensors incl. SigLIP tower: 27,432,406,640", None),
]


@pytest.mark.parametrize("name,published,source,active", FAMILIES, ids=[f[0] for f in FAMILIES])
def test_family_within_one_percent_of_published(name, published, source, active):
    spec = import_config(FIXTURES / f"{name}.json").spec
    assert spec.total_params == pytest.approx(published, rel=0.01), source
    if active:
        assert spec.active_params == pytest.approx(active, rel=0.01), source


def test_gemma2_alternates_sliding_and_global_layers():
    spec = import_config(FIXTURES / "gemma2-9b.json").spec
    assert {(g.attention, g.window, g.count) for g in spec.layers} == {("sliding", 4096, 21), ("full", None, 21)}


def test_deepseek_v2_lite_mla_latent_without_q_lora():
    spec = import_config(FIXTURES / "deepseek-v2-lite.json").spec
    assert spec.kv_lora_rank == 512 and spec.qk_rope_head_dim == 64
    assert spec.layers_of("mla") == 27 and spec.moe_layers == 26  # first_k_dense_replace = 1
    # DeepSeek's 2.4B activated excludes the 0.21B input embedding
    assert spec.active_params - spec.params["embed"] == pytest.approx(2.4e9, rel=0.03)


def test_nemotron_h_pattern_and_state():
    spec = import_config(FIXTURES / "nemotron-h-8b.json").spec
    assert spec.layers_of("full") == 4 and spec.layers_of("linear") == 24 and spec.num_layers == 52
    # Mamba2 mapping: conv_dim = d_inner + 2 * n_groups * d_state, SSM heads x head_dim x d_state
    assert 2 * spec.linear_num_key_heads * spec.linear_key_head_dim + spec.linear_num_value_heads * spec.linear_value_head_dim == 8192 + 2 * 8 * 128
    assert spec.linear_num_value_heads * spec.linear_value_head_dim * spec.linear_key_head_dim == 128 * 64 * 128


def test_imported_hybrid_runs_through_the_planner():
    import planner
    spec = import_config(FIXTURES / "nemotron-3-nano-30b-a3b.json").spec
    est = planner.estimate(model=spec, gpu="h100-sxm", input_len=1024, output_len=256)
    assert est.memory.kv_bytes_per_token == 6 * 2 * 2 * 128 * 2          # 6 attention layers, 2 KV heads, bf16
    per_layer = 3 * (4096 + 2 * 8 * 128) * 2 + 64 * 64 * 128 * 2         # conv (d_conv-1) + SSM state, bf16
    assert est.memory.state_bytes_per_sequence == 23 * per_layer
    assert est.fits


def test_vision_tower_counted_for_nested_multimodal_config():
    result = import_config(FIXTURES / "gemma3-27b-it-nested.json")
    assert result.vision_params == 27_432_406_640 - 27_009_346_304
    assert result.spec.layers_of("sliding") == 52
    assert any("vision tower" in w for w in result.warnings)


def test_generic_fallback_warns_what_it_guessed():
    result = import_config(FIXTURES / "gpt2.json")
    assert result.family == "generic"
    # openai-community/gpt2: 124,439,808 (position embeddings and biases are not modelled)
    assert result.spec.total_params == pytest.approx(124_439_808, rel=0.01)
    assert any("generic decoder" in w and "intermediate_size = 4 x hidden_size" in w for w in result.warnings)


QUANT = [
    ({"quant_method": "fp8", "weight_block_size": [128, 128], "activation_scheme": "dynamic"}, "fp8", (128, 128), None),
    ({"quant_method": "awq", "bits": 4, "group_size": 128, "modules_to_not_convert": ["visual"]}, "int4-awq", None, 128),
    ({"quant_method": "gptq", "bits": 8, "group_size": 128}, "w8a16", None, 128),
    ({"quant_method": "mxfp4", "modules_to_not_convert": ["model.layers.*.self_attn", "lm_head"]}, "mxfp4", None, 32),
    ({"quant_method": "compressed-tensors", "format": "nvfp4-pack-quantized", "ignore": ["lm_head"],
      "config_groups": {"group_0": {"targets": ["Linear"], "weights": {"num_bits": 4, "type": "float", "group_size": 16}}}},
     "nvfp4", None, 16),
    ({"quant_method": "compressed-tensors", "format": "float-quantized", "ignore": ["lm_head", "re:.*mlp.gate$"],
      "config_groups": {"group_0": {"weights": {"num_bits": 8, "type": "float", "strategy": "channel"},
                                    "input_activations": {"num_bits": 8, "type": "float", "dynamic": True}}}}, "fp8", None, None),
    ({"quant_method": "modelopt", "quant_algo": "NVFP4", "group_size": 16, "exclude_modules": ["lm_head"]}, "nvfp4", None, 16),
]


@pytest.mark.parametrize("qcfg,weights,block,group", QUANT, ids=[f"{q['quant_method']}-{w}" for q, w, _, _ in QUANT])
def test_quantization_config_sets_default_format(qcfg, weights, block, group):
    config = json.loads((ROOT / "data" / "models" / "Qwen__Qwen3-8B.json").read_text())
    result = import_config({**config, "quantization_config": qcfg})
    assert result.spec.default_weights == weights
    assert result.quantization.weights == weights and result.quantization.block_size == block
    assert result.quantization.group_size == group
    skipped = qcfg.get("modules_to_not_convert") or qcfg.get("ignore") or qcfg.get("exclude_modules") or []
    assert list(result.quantization.unquantized_modules) == skipped
