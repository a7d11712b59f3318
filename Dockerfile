# syntax=docker/dockerfile:1
# quaybot: `docker build -t quaybot .` (or `make image`, which builds it with podman and runs it as
# docs/install/container.md says). Configured by environment variables; no secret is baked in.

ARG BASE=python:3.11-slim-bookworm

FROM ${BASE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
# pip lives in a venv of its own: the image's venv gets the packages and not pip (nor setuptools).
RUN python -m venv /opt/pip \
    && python -m venv --without-pip /opt/quaybot \
    && /opt/pip/bin/pip --python /opt/quaybot/bin/python install --quiet --no-compile '.[postgres,otel]' \
    && find /opt/quaybot -depth \( -name '__pycache__' -o -name 'tests' -path '*/site-packages/*/tests' \) -exec rm -rf {} +

FROM ${BASE}
LABEL org.opencontainers.image.title="quaybot" \
      org.opencontainers.image.description="Chat-ops for Red Hat Quay in Slack"
RUN groupadd --system --gid 10001 quaybot \
    && useradd --system --uid 10001 --gid quaybot --home-dir /var/lib/quaybot --create-home quaybot
COPY --from=build /opt/quaybot /opt/quaybot
# QUAYBOT_IN_CONTAINER: `make run`'s setup page is never offered here (docs/install/setup.md).
ENV PATH="/opt/quaybot/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    QUAYBOT_IN_CONTAINER=1 \
    QUAYBOT_HTTP_HOST=0.0.0.0 \
    QUAYBOT_HTTP_PORT=3000 \
    QUAYBOT_ACCESS_FILE=/etc/quaybot/access.yml \
    QUAYBOT_DATABASE_URL=sqlite:////var/lib/quaybot/quaybot.db
WORKDIR /var/lib/quaybot
VOLUME ["/var/lib/quaybot"]
USER 10001:10001
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; url = 'http://127.0.0.1:%s/healthz' % os.environ.get('QUAYBOT_HTTP_PORT', '3000'); sys.exit(0 if urllib.request.urlopen(url, timeout=4).status == 200 else 1)"]
ENTRYPOINT ["quaybot"]
CMD ["serve"]
