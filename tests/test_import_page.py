"""AppTest of the Import page (network patched): paste, hub fetch, share-link reopen, errors as messages."""
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from planner.importers import hub as hf_fetch
from planner.importers.config import ModelImportError, import_config
from planner.share.model_links import encode_config_param

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "app_pages" / "import_model.py")
APP = str(ROOT / "app.py")
JAMBA = (Path(__file__).resolve().parent / "fixtures" / "configs" / "jamba-v0.1.json").read_text()


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture
def fake_hub(monkeypatch):
    calls = []

    def fetch(repo_id, **_):
        calls.append(repo_id)
        if repo_id == "org/offline":
            raise ModelImportError("cannot reach huggingface.co: no internet connection")
        return import_config(json.loads(JAMBA), model_id=repo_id).model_copy(update={"source": f"hf:{repo_id}"})
    monkeypatch.setattr(hf_fetch, "import_hf", fetch)
    return calls


def test_paste_stores_the_spec_and_packs_the_link():
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    at.text_area(key="import_paste").input(JAMBA)
    at.button(key="import_paste_go").click().run()
    _ok(at)
    spec = at.session_state["imported_models"]["imported/jamba-32L-4096h"]
    assert spec.total_params == 51_570_323_328
    assert at.query_params["cfg"] == encode_config_param(json.loads(JAMBA))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["KV cache per token"] == "16,384 bytes" and metrics["State per sequence"] == "8.3 MiB"  # 8,716,288 B
    assert metrics["Parameters"] == "51.57 billion"  # not "B", which reads as bytes beside the KV figure


def test_hub_fetch_and_reopen_from_hf_link(fake_hub):
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    at.text_input(key="import_hf").input("ai21labs/Jamba-v0.1")
    at.button(key="import_hf_go").click().run()
    _ok(at)
    assert "ai21labs/Jamba-v0.1" in at.session_state["imported_models"]
    assert at.query_params["hf"] == "ai21labs/Jamba-v0.1"
    again = AppTest.from_file(PAGE, default_timeout=30)
    again.query_params["hf"] = "org/other"
    again.run()
    _ok(again)
    assert "org/other" in again.session_state["imported_models"] and fake_hub[-1] == "org/other"


def test_cfg_link_reopens_and_bad_input_is_a_message(fake_hub):
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.query_params["cfg"] = encode_config_param(json.loads(JAMBA))
    at.run()
    _ok(at)
    assert at.session_state["imported_models"]["imported/jamba-32L-4096h"].layers_of("full") == 4
    bad = AppTest.from_file(PAGE, default_timeout=30)
    bad.query_params["cfg"] = "1%%%garbage"
    bad.run()
    _ok(bad)
    assert "not a packed config" in bad.error[0].value
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    at.text_area(key="import_paste").input('{"tokenizer_class": "X", "model_max_length": 5}')
    at.button(key="import_paste_go").click().run()
    _ok(at)
    assert "tokenizer config" in at.error[0].value
    assert "imported_models" not in at.session_state
    at.text_input(key="import_hf").input("org/offline")
    at.button(key="import_hf_go").click().run()
    _ok(at)
    assert "no internet connection" in at.error[0].value


def test_imported_model_offered_on_the_planner_page():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/import_model.py").run()
    at.text_area(key="import_paste").input(JAMBA)
    at.button(key="import_paste_go").click().run()
    _ok(at)
    at.button(key="import_plan").click().run()  # "Plan this model" opens the Planner on it
    _ok(at)
    assert at.session_state["planner_model"] == "imported/jamba-32L-4096h"
    assert "imported/jamba-32L-4096h (imported)" in at.selectbox(key="planner_model").options  # marked where shown
    assert at.selectbox(key="planner_model").value == "imported/jamba-32L-4096h"
    assert any(m.label == "TPOT" and m.value.endswith("ms") for m in at.metric)  # the Planner estimated it
