"""Shared by the deployment tests: render the Helm chart, read manifests, validate them."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
from ruamel.yaml import YAML

from tests.conftest import require_tool

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "lambda-gitops"
KUSTOMIZATION = ROOT / "deploy" / "kubernetes"
ALERTS = ROOT / "config" / "prometheus" / "alerts.yaml"
CHART_ALERTS = CHART / "files" / "alerts.yaml"

RELEASE = "lg"
NAMESPACE = "gitops"
KUBE_VERSIONS = ("1.30.0", "1.34.0")
# Custom resources: kubernetes-validate has no schema for them; checked on their own.
CUSTOM_KINDS = frozenset({"ServiceMonitor", "PrometheusRule"})

# Every option of the chart switched on.
ALL_ON: dict[str, Any] = {
    "image": {"repository": "registry.example.com/lambda-gitops", "tag": "0.1.0-rc1"},
    "imagePullSecrets": [{"name": "registry-credentials"}],
    "serviceAccount": {
        "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/gitops"},
    },
    "config": {
        "repo": "git@github.com:example/lambda-declarations.git",
        "ref": "release",
        "path": "functions",
        "region": "eu-west-1",
        "mode": "detect",
        "retry_mode": "adaptive",
        "max_attempts": 8,
        "requests_per_second": 12.5,
        "version_resync_interval": 3600,
        "log_format": "console",
        "scope": {
            "functions": ["arn:aws:lambda:*:123456789012:function:orders-*"],
            "regions": ["eu-west-1"],
            "accounts": ["123456789012"],
        },
    },
    "git": {"existingSecret": "lambda-gitops-git", "auth": "ssh"},
    "webhook": {"existingSecret": "lambda-gitops-webhook", "secretKey": "hmac"},
    "env": [{"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"}],
    "podAnnotations": {"example.com/team": "platform"},
    "podLabels": {"example.com/tier": "control"},
    "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
    "nodeSelector": {"kubernetes.io/os": "linux"},
    "tolerations": [
        {"key": "dedicated", "operator": "Equal", "value": "control", "effect": "NoSchedule"}
    ],
    "affinity": {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}
                        ]
                    }
                ]
            }
        }
    },
    "priorityClassName": "system-cluster-critical",
    "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}, "interval": "15s"},
    "prometheusRule": {"enabled": True, "labels": {"release": "prometheus"}},
    "networkPolicy": {
        "enabled": True,
        "ingressFrom": [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
        ],
        "egress": [{"ports": [{"port": 443, "protocol": "TCP"}, {"port": 22, "protocol": "TCP"}]}],
    },
}


def documents(text: str) -> list[dict[str, Any]]:
    """The objects of a multi-document YAML stream, empty documents left out."""
    return [doc for doc in YAML(typ="safe").load_all(text) if doc]


def load_yaml(text: str) -> Any:
    return YAML(typ="safe").load(text)


def render(
    values: dict[str, Any] | None = None, *, name: str = RELEASE, namespace: str = NAMESPACE
) -> list[dict[str, Any]]:
    """The chart's objects for ``values`` (NOTES.txt left out)."""
    with helm.Chart.load(str(CHART)) as chart:
        rendered: dict[str, str] = chart.render(values=values or {}, name=name, namespace=namespace)
    return [
        doc
        for path, text in sorted(rendered.items())
        if not path.endswith("NOTES.txt")
        for doc in documents(text)
    ]


def kustomize(directory: Path) -> list[dict[str, Any]]:
    """The objects ``kubectl kustomize`` builds from ``directory`` (the test is skipped where
    kubectl is missing, or fails under CI's strict setting)."""
    kubectl = shutil.which("kubectl")
    require_tool(kubectl is not None, "kubectl is not installed")
    assert kubectl is not None
    result = subprocess.run(
        [kubectl, "kustomize", str(directory)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return documents(result.stdout)


def only(objects: Iterable[dict[str, Any]], kind: str) -> dict[str, Any]:
    """The one object of ``kind``."""
    found = [obj for obj in objects if obj["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def kinds(objects: Iterable[dict[str, Any]]) -> set[str]:
    return {obj["kind"] for obj in objects}


def validate(objects: Iterable[dict[str, Any]], kube_version: str) -> None:
    """Validate built-in objects against Kubernetes' strict schemas (``kubernetes-validate
    --strict``); custom resources are skipped, every other missing schema is a failure."""
    for obj in objects:
        if obj["kind"] in CUSTOM_KINDS:
            continue
        try:
            kubernetes_validate.validate(obj, kube_version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.path)
            raise AssertionError(
                f"{obj['kind']}/{obj['metadata']['name']} is invalid for Kubernetes "
                f"{kube_version}: {path}: {error.message}"
            ) from error


def controller_config(objects: Iterable[dict[str, Any]]) -> str:
    """The controller's configuration file, as the ConfigMap holds it."""
    data: dict[str, str] = only(objects, "ConfigMap")["data"]
    assert set(data) == {"lambda-gitops.yaml"}
    return data["lambda-gitops.yaml"]


def clear_settings_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset every ``LAMBDA_GITOPS_`` variable for this test, so that settings are loaded from
    the rendered file alone, whatever the environment the suite runs in."""
    for name in list(os.environ):
        if name.startswith("LAMBDA_GITOPS_"):
            monkeypatch.delenv(name)
