"""Issue 12.8: the Dockerfile caches dependencies in their own layer, pinned; health, signals and secrets.
(No Docker engine on the test machines: .ci/run builds the image when one is available.)"""

from __future__ import annotations

import re
import tomllib

from tests.ops.botproc import REPO


def dockerfile_lines() -> list[str]:
    text = (REPO / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_dockerfile_installs_pinned_dependencies_before_copying_the_code():
    lines = dockerfile_lines()
    deps = next(i for i, line in enumerate(lines) if "pip install -c constraints.txt" in line)
    code = next(i for i, line in enumerate(lines) if line.startswith("COPY bot"))
    assert deps < code, "a code change would reinstall every dependency"
    assert all(not line.startswith("COPY") or "pyproject.toml" in line for line in lines[:deps])
    assert "pip install --no-deps ." in lines[code + 2]

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
