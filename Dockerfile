# Northca Duty Bot
#   docker build -t northca-duty-bot .
#   docker run -d --name northca-bot --restart unless-stopped \
#     -e DISCORD_TOKEN_FILE=/run/secrets/discord_token -e NORTHCA_PARTNER_KEY_FILE=/run/secrets/northca_key \
#     -v "$PWD/secrets:/run/secrets:ro" -v northca-data:/data northca-duty-bot
# (or -e DISCORD_TOKEN=... -e NORTHCA_PARTNER_KEY=...; mount a config.toml at /app/config.toml for other settings)
# The bot runs as uid 10001: a secret file or a bind-mounted folder must be readable (writable, for /data) by it.

# python:3.11-slim (3.11.16, Debian trixie), pinned by the digest of its multi-arch index: a rebuild gets the same
# base. To update: docker pull python:3.11-slim, then docker inspect --format '{{index .RepoDigests 0}}' python:3.11-slim.
FROM python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7

ARG VERSION=0.3.0
LABEL org.opencontainers.image.title="Northca Duty Bot" \
      org.opencontainers.image.description="Discord duty bot for Roblox roleplay communities on Northca MDT: shifts, duty panels, unit status, rosters, leave, dispatch." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11-slim" \
      org.opencontainers.image.base.digest="sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7"

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 northca \
    && mkdir -p /data /app && chown northca:northca /data

WORKDIR /app
# Dependencies in their own layer, pinned by constraints.txt (the build backend, setuptools and wheel, too):
# a code change does not reinstall them.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -c constraints.txt -r /tmp/requirements.txt setuptools wheel && rm /tmp/requirements.txt
# The code itself: no dependency resolution (all installed above) and no isolated build environment (which would
# fetch the newest setuptools and wheel at build time): the pinned ones build it.
COPY README.md ./
COPY bot ./bot
COPY cogs ./cogs
RUN pip install --no-deps --no-build-isolation . && rm -rf build *.egg-info

USER northca
# The SQLite file (and the demo sandbox's state, beside it) live on a volume.
VOLUME ["/data"]
ENV NORTHCA_BOT_DB=/data/northca-bot.sqlite3 NORTHCA_BOT_HEALTH_PORT=8788
# `docker stop` sends SIGTERM: the bot finishes in-flight Northca writes and closes the database within 9 s (docker stop waits 10 s).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["northca-bot", "health"]
# No --config: the default /app/config.toml (the working directory's config.toml) is read when mounted and may be
# absent when the environment gives the token; with neither, the bot says the token is missing.
CMD ["northca-bot", "run"]
