"""deploy/kubernetes: renders with kustomize, validates, and matches the chart's defaults."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from controller.settings import load_settings
from tests.deploy.manifests import (
    KUBE_VERSIONS,
    KUSTOMIZATION,
    clear_settings_environment,
    controller_config,
    kinds,
    kustomize,
    load_yaml,
    only,
    render,
    validate,
)


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return kustomize(KUSTOMIZATION)


@pytest.fixture(scope="module")
def chart_objects() -> list[dict[str, Any]]:
    # The release name that makes the chart's object names those of the plain manifests.
    return render(name="lambda-gitops", namespace="lambda-gitops")


def pod_spec(objects: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = only(objects, "Deployment")["spec"]["template"]["spec"]
    return spec


def test_the_objects(objects: list[dict[str, Any]]) -> None:
    """The base is one replica, without leader election; the ha component adds it (below)."""
    assert kinds(objects) == {"Namespace", "ServiceAccount", "ConfigMap", "Deployment", "Service"}
    assert len(objects) == 5
    namespaced = [obj for obj in objects if obj["kind"] != "Namespace"]
    assert {obj["metadata"]["namespace"] for obj in namespaced} == {"lambda-gitops"}
    assert "Secret" not in kinds(objects)


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_objects_pass_strict_kubernetes_schemas(
    objects: list[dict[str, Any]], kube_version: str
) -> None:
    validate(objects, kube_version)


def test_the_deployment_matches_the_chart(
    objects: list[dict[str, Any]], chart_objects: list[dict[str, Any]]
) -> None:
    ours, theirs = only(objects, "Deployment")["spec"], only(chart_objects, "Deployment")["spec"]
    assert ours["replicas"] == theirs["replicas"] == 1
    assert ours["strategy"] == theirs["strategy"]
    pod, chart_pod = pod_spec(objects), pod_spec(chart_objects)
    for key in ("securityContext", "automountServiceAccountToken", "volumes"):
        assert pod[key] == chart_pod[key], key
    assert pod["terminationGracePeriodSeconds"] == chart_pod["terminationGracePeriodSeconds"]
    (main,), (chart_main,) = pod["containers"], chart_pod["containers"]
    for key in (
        "securityContext",
        "livenessProbe",
        "readinessProbe",
        "ports",
        "args",
        "volumeMounts",
        "resources",
    ):
        assert main[key] == chart_main[key], key
    assert main["image"] == chart_main["image"]
    labels = only(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert theirs["selector"]["matchLabels"].items() <= labels.items()
    assert pod["serviceAccountName"] == chart_pod["serviceAccountName"]


def test_the_service_matches_the_chart(
    objects: list[dict[str, Any]], chart_objects: list[dict[str, Any]]
) -> None:
    assert (
        only(objects, "Service")["spec"]["ports"] == only(chart_objects, "Service")["spec"]["ports"]
    )
    selector = only(objects, "Service")["spec"]["selector"]
    assert selector == only(objects, "Deployment")["spec"]["selector"]["matchLabels"]


def test_the_configuration_matches_the_chart_and_loads(
    objects: list[dict[str, Any]],
    chart_objects: list[dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = controller_config(objects)
    assert load_yaml(text) == load_yaml(controller_config(chart_objects))
    clear_settings_environment(monkeypatch)
    path = tmp_path / "lambda-gitops.yaml"
    path.write_text(text)
    settings = load_settings(path)
    assert settings.listen == "0.0.0.0:8080"
    assert str(settings.cache_dir) == "/var/cache/lambda-gitops"


# -- several replicas: the ha component ------------------------------------------------------


@pytest.fixture(scope="module")
def ha_objects(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """An overlay of the base with the ha component, as a user writes one (kustomize needs
    relative paths, and refuses an overlay inside its base's folder)."""
    overlay = tmp_path_factory.mktemp("overlay")
    base = os.path.relpath(KUSTOMIZATION, overlay)
    (overlay / "kustomization.yaml").write_text(
        f"namespace: lambda-gitops\nresources: [{base}]\ncomponents: [{base}/ha]\n"
    )
    return kustomize(overlay)


@pytest.fixture(scope="module")
def ha_chart_objects() -> list[dict[str, Any]]:
    return render({"replicaCount": 3}, name="lambda-gitops", namespace="lambda-gitops")


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_the_ha_objects_pass_strict_kubernetes_schemas(
    ha_objects: list[dict[str, Any]], kube_version: str
) -> None:
    validate(ha_objects, kube_version)


def test_the_ha_component_matches_the_chart_with_three_replicas(
    ha_objects: list[dict[str, Any]], ha_chart_objects: list[dict[str, Any]]
) -> None:
    assert kinds(ha_objects) == kinds(ha_chart_objects) | {"Namespace"}
    ours, theirs = (
        only(ha_objects, "Deployment")["spec"],
        only(ha_chart_objects, "Deployment")["spec"],
    )
    assert ours["replicas"] == theirs["replicas"] == 3
    assert ours["strategy"] == theirs["strategy"]
    pod, chart_pod = pod_spec(ha_objects), pod_spec(ha_chart_objects)
    for key in ("automountServiceAccountToken", "affinity", "securityContext", "volumes"):
        assert pod[key] == chart_pod[key], key
    (main,), (chart_main,) = pod["containers"], chart_pod["containers"]
    assert main["env"][:2] == chart_main["env"]
    for kind in ("Role", "RoleBinding", "PodDisruptionBudget"):
        mine, chart = only(ha_objects, kind), only(ha_chart_objects, kind)
        assert mine["metadata"]["namespace"] == "lambda-gitops"
        for key in ("rules", "roleRef", "subjects", "spec"):
            assert mine.get(key) == chart.get(key), (kind, key)


def test_the_ha_component_elects_the_same_lease_as_the_chart(
    ha_objects: list[dict[str, Any]],
    ha_chart_objects: list[dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The component turns election on in the environment, over the base's file; the chart in
    the file: the controller ends up with the same settings."""
    clear_settings_environment(monkeypatch)
    ours = tmp_path / "ours.yaml"
    ours.write_text(controller_config(ha_objects))
    theirs = tmp_path / "theirs.yaml"
    theirs.write_text(controller_config(ha_chart_objects))
    chart_election = load_settings(theirs).leader_election
    (main,) = pod_spec(ha_objects)["containers"]
    for variable in main["env"]:
        if "value" in variable:
            monkeypatch.setenv(variable["name"], variable["value"])
    assert load_settings(ours).leader_election == chart_election
    assert chart_election.enabled
