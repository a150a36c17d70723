"""Entry point of the dashboard: page config, navigation over an explicit page list, theme in .streamlit/.

Run with `streamlit run app.py`. Each page module is thin (widgets -> Scenario -> planner -> figure
builders in ui/); other pages join with one line in PAGES. The default page is served at `/`.
"""
import streamlit as st

st.set_page_config(page_title="LLM inference planner", page_icon=":material/calculate:", layout="wide")

PAGES = [
    st.Page("app_pages/planner.py", title="Planner", icon=":material/calculate:", url_path="planner", default=True),
    st.Page("app_pages/compare.py", title="Compare", icon=":material/compare_arrows:", url_path="compare"),
    st.Page("app_pages/models.py", title="Models", icon=":material/neurology:", url_path="models"),
    st.Page("app_pages/import_model.py", title="Import a model", icon=":material/upload_file:", url_path="import_model"),
    st.Page("app_pages/gpus.py", title="GPUs", icon=":material/memory:", url_path="gpus"),
    st.Page("app_pages/probe.py", title="Probe an endpoint", icon=":material/speed:", url_path="probe"),
    st.Page("app_pages/tco.py", title="Cost of ownership", icon=":material/savings:", url_path="tco"),
    st.Page("app_pages/report.py", title="Report (PDF)", icon=":material/picture_as_pdf:", url_path="report"),
]

st.navigation(PAGES).run()
