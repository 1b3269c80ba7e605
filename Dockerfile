# Northca Duty Bot
#   docker build -t northca-duty-bot .
#   docker run -d --name northca-bot \
#     -e DISCORD_TOKEN=... -e NORTHCA_PARTNER_KEY=... \
#     -v "$PWD/config.toml:/app/config.toml:ro" -v northca-data:/data northca-duty-bot
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1

RUN useradd --create-home --uid 10001 northca \
    && mkdir -p /data /app && chown northca:northca /data

WORKDIR /app
# Dependencies first (from pyproject.toml), so code changes don't reinstall them.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
RUN pip install .

USER northca
# The SQLite file lives on a volume; point [database] path at it in config.toml.
VOLUME ["/data"]
ENV NORTHCA_BOT_DB=/data/northca-bot.sqlite3
# Config comes from a mounted file; secrets from the environment (DISCORD_TOKEN, NORTHCA_PARTNER_KEY).
CMD ["northca-bot", "run", "--config", "/app/config.toml"]
