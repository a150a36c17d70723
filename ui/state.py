"""Session and URL state: seed widgets from the share link once, write the page's state back every run.

STYLE rule 10: on a page's first run (or when the URL changed under it) values come from
st.query_params through planner.share.links.from_query (validated, warnings name the parameter); after the
widgets, the page writes planner.share.links.to_query back. A session-wide dict keeps the scenario when
the user switches pages, since the sidebar drops query parameters in a real browser (DESIGN.md §5).
"""
from __future__ import annotations

import streamlit as st

from planner.core import catalog
from planner.share import links as share
from planner.importers.config import ModelImportError
from planner.share.model_links import import_from_query
from planner.core.schemas import ModelSpec

SHARED = "scenario"           # session key: the scenario values last seen on any page
IMPORTED = "imported_models"  # session key: {model_id: ModelSpec} from the Import page
LINKS = "import_links"        # session key: {model_id: (query key, value) | None} that re-create it
LINK_IMPORTED = "_link_imported"  # session key: the model a share link imported on this run (shown once)


def imported_models() -> dict[str, ModelSpec]:
    return dict(st.session_state.get(IMPORTED) or {})


def model_options() -> list[str]:
    """Catalog ids, then ids imported in this session."""
    ids = list(catalog.models())
    return ids + [m for m in imported_models() if m not in ids]


def resolve_model(model_id: str) -> str | ModelSpec:
    """What to pass as `model=` to planner.estimate: the catalog id, or the imported ModelSpec."""
    return imported_models().get(model_id, model_id)


def key(page: str, name: str) -> str:
    return f"{page}_{name}"


def load(page: str, defaults: dict, page_keys: tuple[str, ...] = ()) -> tuple[dict, list[str]]:
    """This run's values (URL when new, else the session) and the warnings about dropped URL parameters."""
    query = {k: st.query_params.get_all(k)[-1] for k in st.query_params.keys()}
    shared = st.session_state.setdefault(SHARED, {})
    warnings: list[str] = []
    seeded = st.session_state.get(f"_{page}_seeded", False)
    if not seeded or (query and query != st.session_state.get(f"_{page}_written")):
        warnings = _import_linked_model(query)
        values, more = share.from_query(query, defaults, page_keys, imported_models())
        warnings += more
        shared.update(values)
        for name, value in values.items():  # a share link overrides what the widgets held
            st.session_state[key(page, name)] = value
        st.session_state[f"_{page}_seeded"] = True
    return {**defaults, **{k: v for k, v in shared.items() if v is not None}}, warnings


def _import_linked_model(query: dict) -> list[str]:
    """A link's hf= / cfg= re-creates the imported model it was made with (issue: models travel in links)."""
    if not any(k in query for k in share.MODEL_SOURCE_KEYS):
        return []
    try:
        result = import_from_query(query, fetch=_fetch_hf)
    except ModelImportError as exc:
        name = next(k for k in share.MODEL_SOURCE_KEYS if k in query)
        return [f"{name}: {exc}; the model of this link could not be imported"]
    st.session_state.setdefault(IMPORTED, {})[result.spec.id] = result.spec
    st.session_state[LINK_IMPORTED] = result.spec.id
    st.session_state.setdefault(LINKS, {})[result.spec.id] = next(iter(
        {k: query[k] for k in share.MODEL_SOURCE_KEYS if k in query}.items()))
    return []


@st.cache_data(max_entries=32, show_spinner="Fetching the model's config from the hub")
def _fetch_hf(repo_id: str):
    from planner.importers.hub import import_hf
    return import_hf(repo_id)


def link_values(values: dict) -> dict:
    """`values` plus the hf= / cfg= parameter of an imported model, so the link re-creates it."""
    link = (st.session_state.get(LINKS) or {}).get(values.get("model"))
    return {**values, link[0]: link[1]} if link else dict(values)


def link_needs_file(values: dict) -> bool:
    """An imported model whose config is too large (or a GGUF) cannot travel in a link."""
    model = values.get("model")
    return model in imported_models() and not (st.session_state.get(LINKS) or {}).get(model)


def hand_to_planner(values: dict) -> None:
    """Open the Planner on `values`: its widgets re-seed from the shared scenario."""
    st.session_state.setdefault(SHARED, {}).update(values)
    for name in values:
        st.session_state.pop(key("planner", name), None)
    st.switch_page("app_pages/planner.py")


def init(page: str, name: str, value) -> str:
    """Widget key, holding `value` unless the widget already has a state (no value= on the widget)."""
    k = key(page, name)
    if k not in st.session_state:
        st.session_state[k] = value
    return k


def publish(page: str, values: dict, page_keys: tuple[str, ...] = ()) -> dict[str, str]:
    """Write the page's state to the URL (only when it changed) and to the session-wide scenario."""
    st.session_state.setdefault(SHARED, {}).update(values)
    query = share.to_query(link_values(values), page_keys)
    current = {k: st.query_params.get_all(k)[-1] for k in st.query_params.keys()}
    if current != query:
        st.query_params.from_dict(query)
    st.session_state[f"_{page}_written"] = query
    return query


def base_url(url_path: str = "") -> str:
    """The app's root URL as the browser sees it (st.context.url carries the page's path)."""
    url = (st.context.url or "http://localhost:8501").split("?")[0].rstrip("/")
    if url_path and url.endswith("/" + url_path):
        url = url[: -len(url_path) - 1]
    return url
