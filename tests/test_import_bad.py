"""Bad inputs fail with a ModelImportError naming the problem; the catalog is untouched."""
import json
from pathlib import Path

import pytest

from planner.core import catalog
from planner.importers.config import ModelImportError, import_config
from planner.importers.dispatch import import_source, import_upload
from planner.share.model_links import decode_config_param, encode_config_param
from planner.importers.safetensors import parse_index, read_local_header

QWEN = json.loads((Path(__file__).resolve().parent.parent / "data" / "models" / "Qwen__Qwen3-8B.json").read_text())


@pytest.mark.parametrize("data,message", [
    (b"this is not json", "not JSON"),
    (b"\xff\xfe\x00garbage", "not JSON"),
    (b"[1, 2, 3]", "must be a JSON object"),
    (b'{"tokenizer_class": "LlamaTokenizer", "model_max_length": 8192, "added_tokens_decoder": {}}', "tokenizer config"),
    (b'{"weight_map": {"a": "b.safetensors"}, "metadata": {}}', "model.safetensors.index.json"),
    (b'{"_from_model_config": true, "eos_token_id": 2, "bos_token_id": 1}', "generation_config"),
    (b'{"model_type": "llama", "hidden_size": 4096}', "lacks num_hidden_layers"),
    (b'{"model_type": "llama", "hidden_size": 1e12, "num_hidden_layers": 32}', "hidden_size = 1,000,000,000,000 is absurd"),
    (b'{"model_type": "llama", "hidden_size": -5, "num_hidden_layers": 32}', "hidden_size = -5 is absurd"),
    (b'{"model_type": "llama", "hidden_size": "big", "num_hidden_layers": 32}', "hidden_size = 'big' is not a number"),
    (b'{"model_type": "llama", "hidden_size": 4096.5, "num_hidden_layers": 32}', "not a whole number"),
])
def test_bad_config_uploads(data, message):
    with pytest.raises(ModelImportError, match=message):
        import_upload("config.json", data)


def test_fifty_megabyte_upload_is_capped():
    with pytest.raises(ModelImportError, match="capped at 32 MiB"):
        import_upload("config.json", b" " * 50_000_000)
    with pytest.raises(ModelImportError, match="at most 4 MiB"):
        import_config("{" + " " * 5_000_000 + "}")


def test_absurd_totals_and_shapes():
    with pytest.raises(ModelImportError, match="not a real model"):
        import_config({**QWEN, "num_hidden_layers": 2000, "hidden_size": 131072, "intermediate_size": 1_000_000})
    with pytest.raises(ModelImportError, match="layer_types lists 3 layers"):
        import_config({**QWEN, "layer_types": ["full_attention"] * 3})
    with pytest.raises(ModelImportError, match="lacks"):
        import_config({**QWEN, "model_type": "deepseek_v3", "kv_lora_rank": 512})  # MLA without its other dims
    with pytest.raises(ModelImportError, match="unknown block letters"):
        import_config({"model_type": "nemotron_h", "hidden_size": 64, "num_hidden_layers": 2, "vocab_size": 10,
                       "hybrid_override_pattern": "MX", "num_attention_heads": 2})


def test_bad_files_on_disk(tmp_path):
    with pytest.raises(ModelImportError, match="no such file"):
        import_source(tmp_path / "missing.json")
    st = tmp_path / "model.safetensors"
    st.write_bytes((10**12).to_bytes(8, "little") + b"{}")
    with pytest.raises(ModelImportError, match="holds weights"):
        import_source(st)
    with pytest.raises(ModelImportError, match="header length"):
        read_local_header(st)
    st.write_bytes((100).to_bytes(8, "little") + b'{"a": {"dtype": "F16"')
    with pytest.raises(ModelImportError, match="file ends"):
        read_local_header(st)
    with pytest.raises(ModelImportError, match="no weight_map"):
        parse_index(b'{"metadata": {"total_size": 5}}')
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelImportError, match="no config.json and no .gguf"):
        import_source(tmp_path / "empty")


def test_catalog_untouched_by_imports():
    before = dict(catalog.models())
    import_config(QWEN, model_id="Qwen/Qwen3-8B")
    with pytest.raises(ModelImportError):
        import_upload("x.json", b"nope")
    assert catalog.models() == before


def test_share_param_round_trip_and_limits():
    value = encode_config_param(QWEN)
    assert value and len(value) < 2000 and value.isascii() and "&" not in value and "+" not in value
    assert decode_config_param(value) == QWEN
    assert encode_config_param({**QWEN, "blob": "x" * 100_000 + "".join(map(str, range(3000)))}) is None
    for bad, message in [("", "empty"), ("9abc", "unknown version"), ("1!!!!", "not a packed config"),
                         ("1" + "A" * 5000, "characters"), ("1eJwLyczPBgAEWQGh", "not a packed config")]:
        with pytest.raises(ModelImportError, match=message):
            decode_config_param(bad)


def test_share_param_zip_bomb_is_capped():
    import base64
    import zlib
    bomb = "1" + base64.urlsafe_b64encode(zlib.compress(b"[" * 20_000_000, 9)).decode().rstrip("=")
    with pytest.raises(ModelImportError, match="characters"):  # 20 MB packs into 26k characters: refused unread
        decode_config_param(bomb)
    small = "1" + base64.urlsafe_b64encode(zlib.compress(b"[" * 2_000_000, 9)).decode().rstrip("=")
    assert len(small) < 4000  # deflate tops out near 1000:1, so the length cap bounds the inflated size
    with pytest.raises(ModelImportError, match="not a packed config"):
        decode_config_param(small)


def test_deeply_nested_json_is_refused():
    with pytest.raises(ModelImportError, match="nested too deeply"):
        import_upload("config.json", b"[" * 200_000)


def test_share_links_of_imports():
    from planner.share.model_links import import_from_query, link_params
    pasted = import_config(QWEN)
    assert link_params(pasted) == {"cfg": encode_config_param(QWEN)}
    again = import_from_query({"cfg": link_params(pasted)["cfg"]})
    assert again.spec == pasted.spec  # same id, same figures on the receiving side
    hub = pasted.model_copy(update={"source": "hf:Qwen/Qwen3-8B"})
    assert link_params(hub) == {"hf": "Qwen/Qwen3-8B"}
    assert import_from_query({"hf": " Qwen/Qwen3-8B "}, fetch=lambda repo: repo) == "Qwen/Qwen3-8B"
    assert link_params(pasted.model_copy(update={"source": "gguf:x.gguf"})) == {}
    assert import_from_query({"model": "x"}) is None


HOSTILE = [None, "x", [], {}, -1, 0, 1e12, True, 2.5, [1, 2], [[1]]]


def _mutations():
    fixtures = Path(__file__).resolve().parent / "fixtures" / "configs"
    qnext = json.loads((Path(__file__).resolve().parent.parent / "data" / "models" / "Qwen__Qwen3-Next-80B-A3B-Instruct.json").read_text())
    gemma = json.loads((fixtures / "gemma3-27b-it-nested.json").read_text())
    gemma["quantization_config"] = {"quant_method": "compressed-tensors", "config_groups": {"g": {"weights": {"num_bits": 4}}}}
    for base in (qnext, json.loads((fixtures / "jamba-v0.1.json").read_text()),
                 json.loads((fixtures / "nemotron-3-nano-30b-a3b.json").read_text()), gemma):
        for section in (None, "text_config", "vision_config", "quantization_config"):
            target = base if section is None else base.get(section)
            for key in list(target or {}):
                for value in HOSTILE:
                    c = json.loads(json.dumps(base))
                    (c if section is None else c[section])[key] = value
                    yield c


def test_hostile_field_values_never_crash():
    """Every field of four configs (text, vision, quantization sections) set to hostile values."""
    outcomes = {"ok": 0, "refused": 0}
    for config in _mutations():
        try:
            import_config(config)
            outcomes["ok"] += 1
        except ModelImportError:
            outcomes["refused"] += 1
    assert outcomes["ok"] > 100 and outcomes["refused"] > 100
