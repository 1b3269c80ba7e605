"""The Dockerfile caches dependencies in their own layer, pinned; health, signals and secrets.
A build context without .venv, databases or config.toml; the base image pinned by digest; an
offline-reproducible build (no unpinned setuptools or wheel fetched); OCI labels.
(No Docker engine on the test machines: .ci/run builds the image when one is available. The build context is
made here by Docker's own Python client, with the same .dockerignore rules.)"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

from docker.utils.build import tar

import bot
from tests.ops.botproc import REPO

DIGEST = re.compile(r"^FROM (?P<image>[a-z0-9./-]+):(?P<tag>[\w.-]+)@sha256:(?P<digest>[0-9a-f]{64})$")


def build_context(root: Path) -> dict[str, int]:
    """What `docker build root` sends: the context tar as docker-py makes it (its .dockerignore handling, as in
    docker.api.build: blank lines and comments dropped); member name -> size."""
    ignore = (root / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in ignore if line.strip() and not line.strip().startswith("#")]
    archive = tar(str(root), exclude=patterns, dockerfile=("Dockerfile", None))
    with tarfile.open(fileobj=io.BytesIO(archive.read())) as context:
        return {m.name: m.size for m in context.getmembers() if m.isfile()}


def dockerfile_lines() -> list[str]:
    text = (REPO / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_dockerfile_installs_pinned_dependencies_before_copying_the_code():
    lines = dockerfile_lines()
    deps = next(i for i, line in enumerate(lines) if "pip install -c constraints.txt" in line)
    code = next(i for i, line in enumerate(lines) if line.startswith("COPY bot"))
    assert deps < code, "a code change would reinstall every dependency"
    assert all(not line.startswith("COPY") or "pyproject.toml" in line for line in lines[:deps])
    assert "pip install --no-deps --no-build-isolation ." in lines[code + 2]

    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", (REPO / "constraints.txt").read_text(), re.M))
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        name = re.split(r"[<>=!~ ]", requirement, maxsplit=1)[0]
        assert name in pins, f"{name} is not pinned in constraints.txt"


def test_dockerfile_has_healthcheck_stop_signal_and_no_mandatory_config():
    lines = dockerfile_lines()
    assert any(line.startswith("HEALTHCHECK") and '"northca-bot", "health"' in line for line in lines)
    assert "STOPSIGNAL SIGTERM" in lines
    assert any("NORTHCA_BOT_HEALTH_PORT=8788" in line for line in lines if line.startswith("ENV"))
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "--restart unless-stopped" in readme and "DISCORD_TOKEN_FILE" in readme


def plant(root: Path, name: str, text: str = "x") -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_build_context_leaves_out_the_virtualenv_databases_config_and_git(tmp_path: Path):
    """A checkout as an operator has it after running the bot: everything that must not reach the image."""
    for name in (".dockerignore", "Dockerfile", "pyproject.toml", "constraints.txt", "README.md"):
        (tmp_path / name).write_bytes((REPO / name).read_bytes())
    for name in ("bot/__init__.py", "bot/northca/openapi.yaml", "bot/storage/migrations/001_init.sql", "cogs/a.py"):
        plant(tmp_path, name)
    secrets = {
        ".venv/bin/python": "venv",
        ".venv/lib/python3.11/site-packages/discord/__init__.py": "venv",
        "config.toml": "[discord]\ntoken = 'the-real-token'",
        "data/northca-bot.sqlite3": "db",
        "data/northca-bot.sqlite3-wal": "db",
        "data/northca-bot.sandbox.sqlite3": "db",
        "northca-bot.sqlite3": "db",
        "bot/core/config.toml": "token",
        "bot/stray.sqlite3": "db",
        "bot/__pycache__/cli.cpython-311.pyc": "bytecode",
        "secrets/discord_token": "the-real-token",
        ".git/config": "git",
        "tests/test_x.py": "tests",
        ".env": "DISCORD_TOKEN=the-real-token",
    }
    for name, text in secrets.items():
        plant(tmp_path, name, text)

    sent = build_context(tmp_path)
    assert not set(secrets) & set(sent), sorted(set(secrets) & set(sent))
    # What the Dockerfile copies is all there.
    assert {"pyproject.toml", "constraints.txt", "README.md", "bot/__init__.py", "cogs/a.py"} <= set(sent)
    assert {"bot/northca/openapi.yaml", "bot/storage/migrations/001_init.sql"} <= set(sent)


def test_the_real_checkouts_build_context_is_small_and_only_code():
    sent = build_context(REPO)
    size = sum(sent.values())
    print(f"build context: {len(sent)} files, {size / 1e6:.2f} MB")
    assert all(name.split("/")[0] in {"bot", "cogs", "pyproject.toml", "constraints.txt", "README.md", "Dockerfile",
                                      ".dockerignore"} for name in sent), sorted(sent)[:20]  # fmt: skip
    assert size < 5_000_000


def test_the_build_context_builds_without_fetching_anything(tmp_path: Path):
    """The image's last install, on the context Docker would send: no isolated build environment (which fetches
    setuptools and wheel at build time, unpinned) and no index at all."""
    ignore = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()]
    archive = tar(
        str(REPO), exclude=[p for p in ignore if p and not p.startswith("#")], dockerfile=("Dockerfile", None)
    )
    context = tmp_path / "context"
    with tarfile.open(fileobj=io.BytesIO(archive.read())) as files:
        files.extractall(context, filter="data")
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(tmp_path),
            str(context),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    wheel = next(tmp_path.glob("northca_duty_bot-*.whl"))
    assert wheel.name.startswith(f"northca_duty_bot-{bot.__version__}-")


def test_build_backend_and_every_install_are_pinned():
    lines = dockerfile_lines()
    installs = [line for line in lines if "pip install" in line]
    assert installs and all(
        "-c constraints.txt" in line or ("--no-deps" in line and "--no-build-isolation" in line) for line in installs
    ), installs
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", (REPO / "constraints.txt").read_text(), re.M))
    assert "setuptools" in pins and "wheel" in pins
    assert "setuptools wheel" in next(line for line in installs if "-c constraints.txt" in line)
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["build-system"]["requires"]
    minimum = next(r for r in requires if r.startswith("setuptools")).split(">=")[1]
    assert tuple(map(int, pins["setuptools"].split("."))) >= tuple(map(int, minimum.split(".")))


def test_base_image_is_pinned_by_digest_with_its_tag_and_labelled():
    lines = dockerfile_lines()
    base = DIGEST.match(next(line for line in lines if line.startswith("FROM ")))
    assert base and base["image"] == "python" and base["tag"].startswith("3.11")
    text = " ".join(lines)
    labels = dict(re.findall(r'(org\.opencontainers\.image\.[a-z.]+)="([^"]*)"', text))
    assert {"title", "description", "version", "base.name", "base.digest"} <= {
        k.removeprefix("org.opencontainers.image.") for k in labels
    }
    assert labels["org.opencontainers.image.base.digest"] == f"sha256:{base['digest']}"
    assert labels["org.opencontainers.image.version"] == "${VERSION}"
    assert f"ARG VERSION={bot.__version__}" in lines


def test_the_container_reads_its_default_config_and_names_no_config_path():
    cmd = next(line for line in dockerfile_lines() if line.startswith("CMD "))
    assert cmd == 'CMD ["northca-bot", "run"]'  # a missing /app/config.toml is no error when the env has the token
    assert "WORKDIR /app" in dockerfile_lines()


async def test_version_flag_says_the_version_of_the_code():
    from tests.ops.botproc import run_bot

    result = await run_bot("--version")
    assert result.stdout.strip() == f"northca-bot {bot.__version__}" == "northca-bot 0.3.0"
