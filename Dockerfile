# syntax=docker/dockerfile:1
# Multi-stage: dependencies are built in their own layer, the runtime image has no compiler
# and runs as an unprivileged user. The entrypoint migrates, then serves.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml constraints.txt README.md ./
# setuptools and wheel stay in the venv: the runtime stage installs the project in place
# (editable) without build isolation.
RUN mkdir app && touch app/__init__.py \
    && pip install "setuptools>=69" wheel \
    && pip install -c constraints.txt . \
    && pip uninstall -y scms

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SCMS_HOST=0.0.0.0 \
    SCMS_PORT=8000 \
    SCMS_DATABASE_URL=sqlite+aiosqlite:////var/lib/scms/scms.db
# The Japanese font embedded in invoice PDFs (IPAex Gothic, IPA Font License).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-ipaexfont-gothic \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home-dir /srv/scms scms \
    && mkdir -p /var/lib/scms /srv/scms && chown scms /var/lib/scms
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv/scms
COPY pyproject.toml README.md ./
COPY app ./app
# Installed in place: the `scms` script; the migrations are in app/migrations.
RUN pip install --no-deps --no-build-isolation -e .
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
USER scms
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"SCMS_PORT\"]}/healthz')"
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["scms", "serve", "--no-migrate"]
