# The planner dashboard as one stateless container: `docker build -t llm-planner . && docker run -p 8501:8501 llm-planner`.
# No secrets are needed; all state lives in the share URL and the browser session, so scale out with replicas
# behind a load balancer with sticky sessions (Streamlit keeps a websocket per browser tab).
FROM python:3.11-slim

# PLANNER_HOSTED=1: an image meant to be shared by URL must not become a proxy into the operator's network
# (the probe and the hub fetch refuse internal addresses and are capped); opt out with -e PLANNER_HOSTED=0.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false STREAMLIT_SERVER_HEADLESS=true \
    PLANNER_HOSTED=1

RUN useradd --create-home --uid 10001 planner
WORKDIR /app

COPY requirements.txt .
RUN pip install --upgrade pip && pip install -r requirements.txt

COPY --chown=planner:planner . .
USER planner

EXPOSE 8501
# /_stcore/health returns 200 once the server is up (urlopen raises otherwise); python avoids adding curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"

CMD ["streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0"]
