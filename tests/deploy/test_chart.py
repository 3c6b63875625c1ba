"""The Helm chart: lint, render, schema-valid objects, security, and a configuration the
controller accepts."""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
import typing
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest

from controller.core.sharding import lease_name
from controller.settings import Scope, Settings, load_settings
from tests.conftest import require_tool
from tests.deploy.manifests import (
    ALERTS,
    ALL_ON,
    CHART,
    CHART_ALERTS,
    CUSTOM_KINDS,
    KUBE_VERSIONS,
    NAMESPACE,
    RELEASE,
    ROOT,
    clear_settings_environment,
    controller_config,
    kinds,
    load_yaml,
    only,
    render,
    validate,
)

# The settings the chart sets itself, from its port, volumes and secret mounts.
CHART_OWNED = frozenset(
    {
        "listen",
        "cache_dir",
        "webhook_secret_file",
        "git_token_file",
        "git_ssh_key_file",
        "git_known_hosts_file",
        "leader_election",
        "shards",
        "shard_index",
    }
)
BASE_KINDS = {"ServiceAccount", "ConfigMap", "Deployment", "Service"}


@pytest.fixture(scope="module")
def default_objects() -> list[dict[str, Any]]:
    return render()


@pytest.fixture(scope="module")
def all_on_objects() -> list[dict[str, Any]]:
    return render(ALL_ON)


def container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = only(objects, "Deployment")["spec"]["template"]["spec"][
        "containers"
    ]
    assert len(containers) == 1
    return containers[0]


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((CHART / "values.schema.json").read_text())
    return loaded


# -- the chart as a whole -------------------------------------------------------------------


def test_app_version_is_the_project_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    chart = load_yaml((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2"
    assert chart["appVersion"] == project["version"]


@pytest.mark.parametrize("values", [{}, ALL_ON], ids=["defaults", "all-on"])
def test_strict_lint_is_clean(values: dict[str, Any]) -> None:
    report = helm.lint(str(CHART), values, strict=True, kube_version="v1.30.0")
    assert report["errors"] == []
    # Severity 1 is INFO ("icon is recommended"); warnings (2) and errors (3) are not allowed.
    assert [m for m in report["messages"] if m["severity"] > 1] == []


def test_defaults_render_the_base_objects(default_objects: list[dict[str, Any]]) -> None:
    assert kinds(default_objects) == BASE_KINDS
    assert {obj["metadata"]["namespace"] for obj in default_objects} == {NAMESPACE}


def test_every_option_renders_its_objects(all_on_objects: list[dict[str, Any]]) -> None:
    assert kinds(all_on_objects) == BASE_KINDS | {
        "ServiceMonitor",
        "PrometheusRule",
        "NetworkPolicy",
    }
    account = only(all_on_objects, "ServiceAccount")
    assert account["metadata"]["annotations"] == ALL_ON["serviceAccount"]["annotations"]
    pod = only(all_on_objects, "Deployment")["spec"]["template"]
    for key in ("nodeSelector", "tolerations", "affinity", "imagePullSecrets"):
        assert pod["spec"][key] == ALL_ON[key]
    assert pod["metadata"]["annotations"]["example.com/team"] == "platform"
    assert pod["metadata"]["labels"]["example.com/tier"] == "control"
    assert container(all_on_objects)["resources"] == ALL_ON["resources"]
    assert container(all_on_objects)["image"] == "registry.example.com/lambda-gitops:0.1.0-rc1"
    assert container(all_on_objects)["env"] == ALL_ON["env"]


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
@pytest.mark.parametrize("values", [{}, ALL_ON], ids=["defaults", "all-on"])
def test_objects_pass_strict_kubernetes_schemas(values: dict[str, Any], kube_version: str) -> None:
    validate(render(values), kube_version)


def test_kubernetes_validate_command_line_accepts_the_render(
    all_on_objects: list[dict[str, Any]], tmp_path: Path
) -> None:
    """The same check as the Python API above, through the documented command line."""
    tool = shutil.which("kubernetes-validate") or str(
        Path(__file__).resolve().parents[2] / ".venv" / "bin" / "kubernetes-validate"
    )
    manifest = tmp_path / "all-on.yaml"
    builtin = [obj for obj in all_on_objects if obj["kind"] not in CUSTOM_KINDS]
    manifest.write_text("\n---\n".join(json.dumps(obj) for obj in builtin))
    result = subprocess.run(
        [tool, "-k", "1.30.0", "--strict", "--quiet", str(manifest)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# -- security -------------------------------------------------------------------------------


@pytest.mark.parametrize("values", [{}, ALL_ON], ids=["defaults", "all-on"])
def test_the_pod_is_secure_by_default(values: dict[str, Any]) -> None:
    objects = render(values)
    deployment = only(objects, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    context = container(objects)["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] == 10001
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    # The writable paths are emptyDirs, and nothing else is mounted writable.
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    writable = {
        mount["mountPath"]: volumes[mount["name"]]
        for mount in container(objects)["volumeMounts"]
        if not mount.get("readOnly")
    }
    assert set(writable) == {"/var/cache/lambda-gitops", "/tmp"}
    assert all("emptyDir" in volume for volume in writable.values())


def test_probes_and_port(default_objects: list[dict[str, Any]]) -> None:
    main = container(default_objects)
    assert main["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert main["args"] == ["--config", "/etc/lambda-gitops/config/lambda-gitops.yaml"]
    service = only(default_objects, "Service")
    assert service["spec"]["ports"][0]["name"] == "http"
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def test_more_than_one_replica_is_refused_without_leader_election() -> None:
    without = {"replicaCount": 2, "leaderElection": {"enabled": False}}
    with pytest.raises(helm.HelmValuesError, match="leaderElection/enabled"):
        render(without)
    report = helm.lint(str(CHART), without, strict=True, kube_version="v1.30.0")
    assert report["errors"] != []


@pytest.mark.parametrize(
    "values",
    [
        {"config": {"mode": "repair"}},
        {"config": {"log_format": "xml"}},
        {"config": {"log_level": "verbose"}},
        {"config": {"concurrency": "eight"}},
        {"config": {"listen": "0.0.0.0:9999"}},  # the chart owns it
        {"config": {"repo": "https://example.com/r.git", "unknown_setting": 1}},
        {"image": {"repository": "", "tag": "", "pullPolicy": "IfNotPresent"}},
        {"image": {"repository": "x", "tag": "1", "pullPolicy": "Sometimes"}},
        {"git": {"token": "ghp_inline"}},  # secrets are never values
        {"webhook": {"secret": "inline"}},
    ],
)
def test_the_schema_refuses_bad_values(values: dict[str, Any]) -> None:
    with pytest.raises(helm.HelmValuesError):
        render(values)


def test_secrets_are_referenced_by_name_never_rendered(
    all_on_objects: list[dict[str, Any]],
) -> None:
    assert "Secret" not in kinds(all_on_objects)
    assert not list((CHART / "templates").glob("*secret*"))
    pod = only(all_on_objects, "Deployment")["spec"]["template"]["spec"]
    secrets = {
        volume["secret"]["secretName"]: volume["secret"]["items"]
        for volume in pod["volumes"]
        if "secret" in volume
    }
    assert secrets == {
        "lambda-gitops-git": [
            {"key": "ssh-privatekey", "path": "ssh-key"},
            {"key": "known_hosts", "path": "known_hosts"},
        ],
        "lambda-gitops-webhook": [{"key": "hmac", "path": "secret"}],
    }


# -- the controller's configuration ---------------------------------------------------------


def load_rendered(text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    clear_settings_environment(monkeypatch)
    path = tmp_path / "lambda-gitops.yaml"
    path.write_text(text)
    return load_settings(path)


def test_default_configuration_loads(
    default_objects: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_rendered(controller_config(default_objects), tmp_path, monkeypatch)
    assert settings.listen == "0.0.0.0:8080"
    assert settings.cache_dir == Path("/var/cache/lambda-gitops")
    assert settings.webhook_secret_file is None
    assert settings.git_token_file is None


def test_token_secret_configuration_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    objects = render({"git": {"existingSecret": "creds"}, "webhook": {"existingSecret": "hook"}})
    settings = load_rendered(controller_config(objects), tmp_path, monkeypatch)
    assert settings.git_token_file == Path("/etc/lambda-gitops/git/token")
    assert settings.git_ssh_key_file is None
    assert settings.webhook_secret_file == Path("/etc/lambda-gitops/webhook/secret")
    mounts = {m["name"]: m["mountPath"] for m in container(objects)["volumeMounts"]}
    assert mounts["git-credentials"] == "/etc/lambda-gitops/git"
    assert mounts["webhook-secret"] == "/etc/lambda-gitops/webhook"


def test_every_option_configuration_loads(
    all_on_objects: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_rendered(controller_config(all_on_objects), tmp_path, monkeypatch)
    assert settings.mode == "detect"
    assert settings.requests_per_second == 12.5
    assert settings.scope.regions == ("eu-west-1",)
    assert settings.git_ssh_key_file == Path("/etc/lambda-gitops/git/ssh-key")
    assert settings.git_known_hosts_file == Path("/etc/lambda-gitops/git/known_hosts")
    assert settings.git_token_file is None


def test_the_schema_knows_every_setting() -> None:
    """values.config plus what the chart owns is exactly the controller's settings: a new
    setting fails here until the schema offers it."""
    config = schema()["properties"]["config"]["properties"]
    assert set(config) | CHART_OWNED == set(Settings.model_fields)
    assert not set(config) & CHART_OWNED
    assert set(config["scope"]["properties"]) == set(Scope.model_fields)
    for name in ("mode", "log_format", "log_level", "retry_mode"):
        choices = typing.get_args(Settings.model_fields[name].annotation)
        assert config[name]["enum"] == list(choices), name


# -- ServiceMonitor and PrometheusRule ------------------------------------------------------


# kubernetes-validate has no schema for these custom resources: their structure is checked here,
# and the rules themselves by comparison with the rule file and by promtool.
RULE_KEYS = frozenset(
    {"alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"}
)


def check_custom_resource(obj: dict[str, Any], kind: str) -> None:
    assert obj["apiVersion"] == "monitoring.coreos.com/v1"
    assert obj["kind"] == kind
    assert set(obj) == {"apiVersion", "kind", "metadata", "spec"}
    assert obj["metadata"]["namespace"] == NAMESPACE
    assert obj["metadata"]["name"]


def test_service_monitor(all_on_objects: list[dict[str, Any]]) -> None:
    monitor = only(all_on_objects, "ServiceMonitor")
    check_custom_resource(monitor, "ServiceMonitor")
    assert set(monitor["spec"]) == {"selector", "namespaceSelector", "endpoints"}
    service = only(all_on_objects, "Service")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    assert monitor["spec"]["endpoints"] == [
        {"port": "http", "path": "/metrics", "interval": "15s", "scrapeTimeout": "10s"}
    ]
    assert monitor["metadata"]["labels"]["release"] == "prometheus"


def test_chart_alerts_are_a_copy_of_the_rule_file() -> None:
    assert ALERTS.exists(), f"{ALERTS} is missing"
    assert CHART_ALERTS.read_bytes() == ALERTS.read_bytes(), (
        f"{CHART_ALERTS} differs from {ALERTS}: "
        "cp config/prometheus/alerts.yaml charts/lambda-gitops/files/alerts.yaml"
    )


def test_prometheus_rule_holds_exactly_the_rule_file(
    all_on_objects: list[dict[str, Any]],
) -> None:
    rule = only(all_on_objects, "PrometheusRule")
    check_custom_resource(rule, "PrometheusRule")
    assert set(rule["spec"]) == {"groups"}
    for group in rule["spec"]["groups"]:
        assert set(group) <= {"name", "interval", "rules"}
        for each in group["rules"]:
            assert set(each) <= RULE_KEYS, each
            assert isinstance(each["expr"], str)
            assert all(isinstance(value, str) for value in each.get("labels", {}).values())
            assert all(isinstance(value, str) for value in each.get("annotations", {}).values())
    assert rule["metadata"]["labels"]["release"] == "prometheus"
    assert {"groups": rule["spec"]["groups"]} == load_yaml(ALERTS.read_text())
    # Not templated by Helm: the annotations still hold Prometheus' own templates.
    annotations = json.dumps(rule["spec"]["groups"])
    assert "{{ $labels.function }}" in annotations


def test_promtool_accepts_the_rendered_rules(
    all_on_objects: list[dict[str, Any]], tmp_path: Path
) -> None:
    promtool = shutil.which("promtool")
    require_tool(promtool is not None, "promtool is not installed (Debian package prometheus)")
    assert promtool is not None
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        json.dumps({"groups": only(all_on_objects, "PrometheusRule")["spec"]["groups"]})
    )
    result = subprocess.run(
        [promtool, "check", "rules", str(rules)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_network_policy(all_on_objects: list[dict[str, Any]]) -> None:
    policy = only(all_on_objects, "NetworkPolicy")["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert policy["ingress"] == [
        {
            "ports": [{"port": "http", "protocol": "TCP"}],
            "from": ALL_ON["networkPolicy"]["ingressFrom"],
        }
    ]
    assert policy["egress"] == ALL_ON["networkPolicy"]["egress"]
    open_egress = only(render({"networkPolicy": {"enabled": True}}), "NetworkPolicy")["spec"]
    assert open_egress["policyTypes"] == ["Ingress"]
    assert "egress" not in open_egress


# -- several replicas: leader election -------------------------------------------------------

HA: dict[str, Any] = {"replicaCount": 3}


@pytest.fixture(scope="module")
def ha_objects() -> list[dict[str, Any]]:
    return render(HA)


def test_three_replicas_turn_leader_election_on_with_its_objects(
    ha_objects: list[dict[str, Any]],
) -> None:
    assert kinds(ha_objects) == BASE_KINDS | {"Role", "RoleBinding", "PodDisruptionBudget"}
    report = helm.lint(str(CHART), HA, strict=True, kube_version="v1.30.0")
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] > 1] == []


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_the_replicated_objects_pass_strict_kubernetes_schemas(
    ha_objects: list[dict[str, Any]], kube_version: str
) -> None:
    validate(ha_objects, kube_version)


def test_the_role_grants_only_the_one_lease(ha_objects: list[dict[str, Any]]) -> None:
    """And list, which cannot be limited to a name: the topology rule lists the installation's
    Leases before this replica leads, so that a change to shards is safe."""
    role = only(ha_objects, "Role")
    assert role["metadata"]["namespace"] == NAMESPACE
    assert role["rules"] == [
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "verbs": ["create", "list"],
        },
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "resourceNames": ["lg-lambda-gitops"],
            "verbs": ["get", "update"],
        },
    ]
    binding = only(ha_objects, "RoleBinding")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    account = only(ha_objects, "ServiceAccount")["metadata"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["name"], "namespace": NAMESPACE}
    ]


def test_replicas_roll_one_by_one_on_separate_nodes_with_their_token_and_names(
    ha_objects: list[dict[str, Any]],
) -> None:
    deployment = only(ha_objects, "Deployment")
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    pod = deployment["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is True
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert pod["affinity"] == {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "podAffinityTerm": {
                        "topologyKey": "kubernetes.io/hostname",
                        "labelSelector": {"matchLabels": selector},
                    },
                }
            ]
        }
    }
    assert container(ha_objects)["env"] == [
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
    ]
    budget = only(ha_objects, "PodDisruptionBudget")["spec"]
    assert budget == {"maxUnavailable": 1, "selector": {"matchLabels": selector}}


def test_an_affinity_of_ones_own_and_extra_env_are_kept() -> None:
    mine: dict[str, Any] = {
        "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": []}
    }
    objects = render({**HA, "affinity": mine, "env": ALL_ON["env"]})
    assert only(objects, "Deployment")["spec"]["template"]["spec"]["affinity"] == mine
    assert [variable["name"] for variable in container(objects)["env"]] == [
        "POD_NAME",
        "POD_NAMESPACE",
        "AWS_STS_REGIONAL_ENDPOINTS",
    ]


def test_one_replica_may_elect_too_and_needs_no_budget() -> None:
    objects = render({"leaderElection": {"enabled": True}})
    assert kinds(objects) == BASE_KINDS | {"Role", "RoleBinding"}
    assert only(objects, "Deployment")["spec"]["strategy"]["type"] == "RollingUpdate"


def test_the_replicated_configuration_loads_with_the_pods_name(
    ha_objects: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_rendered(controller_config(ha_objects), tmp_path, monkeypatch)
    election = settings.leader_election
    assert election.enabled
    candidate = election.candidate({"POD_NAME": "lg-5d8c-x", "POD_NAMESPACE": NAMESPACE})
    assert (candidate.identity, candidate.lease) == ("lg-5d8c-x", f"{NAMESPACE}/lg-lambda-gitops")
    timings = candidate.timings
    assert (timings.lease_duration, timings.renew_deadline, timings.retry_period) == (15, 10, 2)


# -- sharding: a Deployment, a budget and a Lease per shard ----------------------------------

SHARDED: dict[str, Any] = {"shards": 3, "replicaCount": 2}


@pytest.fixture(scope="module")
def sharded_objects() -> list[dict[str, Any]]:
    return render(SHARDED)


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["kind"] == kind]


def test_three_shards_render_a_deployment_and_a_budget_per_shard(
    sharded_objects: list[dict[str, Any]],
) -> None:
    assert kinds(sharded_objects) == BASE_KINDS | {"Role", "RoleBinding", "PodDisruptionBudget"}
    deployments = of_kind(sharded_objects, "Deployment")
    budgets = of_kind(sharded_objects, "PodDisruptionBudget")
    names = [f"{RELEASE}-lambda-gitops-shard-{shard}" for shard in range(3)]
    assert [d["metadata"]["name"] for d in deployments] == names
    assert [b["metadata"]["name"] for b in budgets] == names
    report = helm.lint(str(CHART), SHARDED, strict=True, kube_version="v1.30.0")
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] > 1] == []


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_the_sharded_objects_pass_strict_kubernetes_schemas(
    sharded_objects: list[dict[str, Any]], kube_version: str
) -> None:
    validate(sharded_objects, kube_version)


def test_each_shards_pods_are_selected_spread_and_budgeted_apart(
    sharded_objects: list[dict[str, Any]],
) -> None:
    """A shard's Deployment, budget and anti-affinity select its pods alone; the Service, and
    so the ServiceMonitor and the webhook, reach every pod."""
    service = only(sharded_objects, "Service")["spec"]["selector"]
    budgets = of_kind(sharded_objects, "PodDisruptionBudget")
    for shard, deployment in enumerate(of_kind(sharded_objects, "Deployment")):
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector == {**service, "lambda-gitops.io/shard": str(shard)}
        pod = deployment["spec"]["template"]
        assert selector.items() <= pod["metadata"]["labels"].items()
        assert service.items() <= pod["metadata"]["labels"].items()
        assert deployment["spec"]["replicas"] == 2
        assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
        term = pod["spec"]["affinity"]["podAntiAffinity"][
            "preferredDuringSchedulingIgnoredDuringExecution"
        ][0]["podAffinityTerm"]
        assert term["labelSelector"] == {"matchLabels": selector}
        assert budgets[shard]["spec"] == {
            "maxUnavailable": 1,
            "selector": {"matchLabels": selector},
        }
        (main,) = pod["spec"]["containers"]
        assert {"name": "LAMBDA_GITOPS_SHARD_INDEX", "value": str(shard)} in main["env"]


def test_the_sharded_role_lets_every_shards_pods_reach_every_lease_of_the_namespace(
    sharded_objects: list[dict[str, Any]],
) -> None:
    """A change of shards renames the Leases while the old pods still renew theirs: get and
    update cannot be limited to the names of one number of shards."""
    assert only(sharded_objects, "Role")["rules"] == [
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "verbs": ["create", "list"],
        },
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "update"]},
    ]


def test_one_replica_per_shard_needs_no_budget_and_still_elects() -> None:
    objects = render({"shards": 2})
    assert "PodDisruptionBudget" not in kinds(objects)
    assert len(of_kind(objects, "Deployment")) == 2
    assert "Role" in kinds(objects)


@pytest.mark.parametrize(
    "values",
    [
        {"shards": 2, "leaderElection": {"enabled": False}},
        {"shards": 0},
        {"shards": 257},
        {"shards": "three"},
    ],
)
def test_the_schema_refuses_shards_that_cannot_work(values: dict[str, Any]) -> None:
    with pytest.raises(helm.HelmValuesError):
        render(values)


def test_the_sharded_configuration_loads_each_pod_in_its_shard(
    sharded_objects: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_rendered(controller_config(sharded_objects), tmp_path, monkeypatch)
    assert settings.shards == 3
    assert settings.leader_election.enabled
    for shard, deployment in enumerate(of_kind(sharded_objects, "Deployment")):
        (main,) = deployment["spec"]["template"]["spec"]["containers"]
        index = next(v["value"] for v in main["env"] if v["name"] == "LAMBDA_GITOPS_SHARD_INDEX")
        monkeypatch.setenv("LAMBDA_GITOPS_SHARD_INDEX", index)
        loaded = load_settings(tmp_path / "lambda-gitops.yaml")
        assert loaded.shard({"POD_NAME": f"lg-lambda-gitops-shard-{shard}-5d8c-x"}) == shard
        name = lease_name(loaded.leader_election.lease_name, shard, loaded.shards)
        assert name == f"lg-lambda-gitops-{shard}-of-3"


def test_without_shards_the_configuration_says_nothing_of_them(
    default_objects: list[dict[str, Any]],
) -> None:
    assert "shards" not in load_yaml(controller_config(default_objects))
