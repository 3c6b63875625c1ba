"""deploy/Dockerfile and .dockerignore, read as text (no Docker engine on these machines)."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from dataclasses import dataclass, field

import pytest

from controller.cli.main import main
from tests.deploy.manifests import ROOT

DOCKERFILE = ROOT / "deploy" / "Dockerfile"
BUILD_TOOLS = ("gcc", "g++", "build-essential", "make", "clang", "-dev", "cargo", "rustc")
SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSW|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_KEY", re.I)


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [argument for key, argument in self.instructions if key == keyword]


def parse() -> list[Stage]:
    """The stages of the Dockerfile: continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stages: list[Stage] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, argument = line.partition(" ")
        keyword, argument = keyword.upper(), argument.strip()
        if keyword == "FROM":
            words = argument.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(image=words[0], name=name))
        else:
            assert stages, f"{keyword} before FROM"
            stages[-1].instructions.append((keyword, argument))
    return stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    parsed = parse()
    assert len(parsed) >= 2, "a multi-stage build"
    return parsed


def test_base_images_are_pinned(stages: list[Stage]) -> None:
    names = {stage.name for stage in stages if stage.name}
    for stage in stages:
        if stage.image in names:
            continue
        repository, _, tag = stage.image.partition(":")
        tag = tag.split("@")[0]
        assert re.fullmatch(r"\d+\.\d+\.\d+-slim-\w+", tag), f"{stage.image}: pin a version"
        assert repository == "python"
    assert len({stage.image for stage in stages}) == 1, "both stages on the same base"


def test_final_stage_runs_as_a_fixed_non_root_user(stages: list[Stage]) -> None:
    users = stages[-1].all("USER")
    assert users, "the final stage sets USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit(), "a numeric uid, so that runAsNonRoot can verify it"
    assert int(uid) == 10001
    assert not gid or (gid.isdigit() and int(gid) != 0)


def test_entrypoint_is_the_console_script(stages: list[Stage]) -> None:
    (entrypoint,) = stages[-1].all("ENTRYPOINT")
    assert json.loads(entrypoint) == ["lambda-gitops", "run"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"lambda-gitops": "controller.cli.main:main"}
    assert "run" in main.commands
    assert stages[-1].all("EXPOSE") == ["8080"]


def test_no_secrets_are_baked_in(stages: list[Stage]) -> None:
    for stage in stages:
        for keyword in ("ENV", "ARG"):
            for argument in stage.all(keyword):
                for word in shlex.split(argument):
                    name, _, value = word.partition("=")
                    assert not (SECRET_NAME.search(name) and value), f"{keyword} {word}"
                    assert not re.search(r"AKIA[0-9A-Z]{16}|ghp_|BEGIN .*PRIVATE KEY", value)
    text = DOCKERFILE.read_text()
    assert ".ssh" not in text
    assert "git-credentials" not in text


def test_final_stage_has_git_and_no_build_tools(stages: list[Stage]) -> None:
    final = stages[-1]
    runs = " ".join(final.all("RUN"))
    assert "--no-install-recommends" in runs
    assert "rm -rf /var/lib/apt/lists/*" in runs
    installed = re.findall(r"apt-get install (.*?)(?:&&|$)", runs)
    packages = {word for group in installed for word in group.split() if not word.startswith("-")}
    assert packages == {"git", "openssh-client"}
    for tool in BUILD_TOOLS:
        assert not any(tool in package for package in packages), tool
    assert "pip install" not in runs, "the final stage installs nothing with pip"
    copies = final.all("COPY")
    assert all(copy.startswith("--from=") for copy in copies), "only the built venv is copied"


def test_builder_installs_from_the_constraints_without_test_extras(stages: list[Stage]) -> None:
    runs = " ".join(run for stage in stages[:-1] for run in stage.all("RUN"))
    assert "pip install --constraint constraints.txt ." in runs
    assert "[test]" not in DOCKERFILE.read_text()


def test_writable_paths_and_environment(stages: list[Stage]) -> None:
    environment = " ".join(stages[-1].all("ENV"))
    assert "LAMBDA_GITOPS_CACHE_DIR=/var/cache/lambda-gitops" in environment
    assert stages[-1].all("WORKDIR")
    chowned = [run for run in stages[-1].all("RUN") if "chown" in run]
    assert chowned
    assert all("/var/cache/lambda-gitops" in run for run in chowned)


def test_dockerignore() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for entry in (".git", ".venv", ".demo", "tests", ".pytest_cache", ".mypy_cache"):
        assert entry in ignored, entry
    for needed in (
        "controller",
        "lambda_emulator",
        "pyproject.toml",
        "constraints.txt",
        "README.md",
    ):
        assert needed not in ignored, needed


def test_the_image_copies_every_package_the_project_installs() -> None:
    """``lambda-gitops`` imports the emulator's commands, so an image without it cannot start."""
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = [p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]]
    for package in packages:
        assert f"COPY {package} ./{package}" in dockerfile, package
