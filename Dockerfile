# The Red Points API. Run it with docker-compose.yml, which adds PostgreSQL, Redis and the
# migration step; alone it needs DATABASE_URL, REDIS_URL and POINTS_JWT_SECRET.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 points
WORKDIR /app

# Dependencies first, read from pyproject.toml, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Copied by name rather than `COPY . .` so a local .venv, .data or .git never enters the image.
# Editable install: migrations/ must stay next to the packages, where the migrate command looks for it.
COPY points_service ./points_service
COPY merchants ./merchants
COPY admin ./admin
COPY migrations ./migrations
RUN pip install --no-deps -e . \
    && mkdir /data && chown points:points /data

USER points

# Listen on all interfaces inside the container; only the published port is reachable from outside.
# POINTS_DATA_DIR is used only when no DATABASE_URL / REDIS_URL is given (embedded servers).
ENV POINTS_HOST=0.0.0.0 \
    POINTS_PORT=8000 \
    POINTS_DATA_DIR=/data
EXPOSE 8000

CMD ["points-service", "serve"]
