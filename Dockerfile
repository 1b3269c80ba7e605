# Northca Duty Bot
#   docker build -t northca-duty-bot .
#   docker run -d --name northca-bot --restart unless-stopped \
#     -e DISCORD_TOKEN_FILE=/run/secrets/discord_token -e NORTHCA_PARTNER_KEY_FILE=/run/secrets/northca_key \
#     -v "$PWD/secrets:/run/secrets:ro" -v northca-data:/data northca-duty-bot
# (or -e DISCORD_TOKEN=... -e NORTHCA_PARTNER_KEY=...; mount a config.toml at /app/config.toml for other settings)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 northca \
    && mkdir -p /data /app && chown northca:northca /data

WORKDIR /app
# Dependencies in their own layer, pinned by constraints.txt: a code change does not reinstall them.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -c constraints.txt -r /tmp/requirements.txt && rm /tmp/requirements.txt
# The code itself (no dependency resolution: they are all installed above).
COPY README.md ./
COPY bot ./bot
COPY cogs ./cogs
RUN pip install --no-deps .

USER northca
# The SQLite file (and the demo sandbox's state) live on a volume.
VOLUME ["/data"]
ENV NORTHCA_BOT_DB=/data/northca-bot.sqlite3 NORTHCA_BOT_HEALTH_PORT=8788
# `docker stop` sends SIGTERM: the bot finishes in-flight Northca writes and closes the database within 9 s (docker stop waits 10 s).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["northca-bot", "health"]
# The config file is optional when the token comes from the environment (DISCORD_TOKEN or DISCORD_TOKEN_FILE).
CMD ["northca-bot", "run", "--config", "/app/config.toml"]
