# syntax=docker/dockerfile:1
# Multi-stage: the project is built as a wheel and installed (non-editable) into a venv;
# the runtime image has no compiler, no source tree and runs as an unprivileged user.
# The entrypoint migrates, then serves.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml constraints.txt README.md ./
RUN mkdir app && touch app/__init__.py \
    && pip install -c constraints.txt . \
    && pip uninstall -y scms
# Then the project itself, non-editable: code, migrations and the invoice font (IPAex
# Gothic, app/invoices/fonts) are package files in site-packages; nothing else is needed.
COPY . .
RUN pip install --no-deps . && rm -rf build

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SCMS_HOST=0.0.0.0 \
    SCMS_PORT=8000 \
    SCMS_WORKERS=2 \
    SCMS_DATABASE_URL=sqlite+aiosqlite:////var/lib/scms/scms.db
RUN useradd --system --uid 10001 --home-dir /srv/scms scms \
    && mkdir -p /var/lib/scms /srv/scms && chown scms /var/lib/scms
# The SQLite database lives here: mount a volume (`-v scms-data:/var/lib/scms`) so it
# outlives the container. Declared after the chown, so a new volume belongs to scms.
VOLUME /var/lib/scms
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv/scms
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
USER scms
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"SCMS_PORT\"]}/healthz')"
ENTRYPOINT ["docker-entrypoint.sh"]
# uvloop + httptools, SCMS_WORKERS processes (override with -e SCMS_WORKERS=N or --workers).
CMD ["scms", "serve", "--no-migrate"]
