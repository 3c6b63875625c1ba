"""deploy/iam-policy.json: least privilege, exactly the Lambda actions the adapter calls.

Version retention deletes published versions with ``DeleteFunction`` and a ``Qualifier``. That
action also deletes whole functions, so it has a statement of its own,
``DeleteVersionsForRetention``, on qualified function ARNs only (``function:NAME:*``), which a
cluster can leave out (and then keep ``scope.delete_versions`` off). The AWS Lambda Developer
Guide, "Resources and conditions for Lambda actions" (``lambda-api-permissions-ref``), says
actions on a function can be restricted by function, version or alias ARN, a version's ARN being
``function:my-function:1``, and that a resource ``function:test:*`` "requires that the function
name is test and includes a version number or alias"; the Service Authorization Reference lists
the ``function version`` resource type as
``arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}:${Version}``. A
``DeleteFunction`` without a Qualifier acts on the unqualified ARN, which no such pattern
matches: with this policy the controller can delete versions, never a function.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

import botocore.session
from botocore import xform_name

from tests.deploy.manifests import ROOT

POLICY = ROOT / "deploy" / "iam-policy.json"
ADAPTER = ROOT / "controller" / "adapters" / "registry" / "aws.py"

# Actions the adapter can call that the controller's policy deliberately does not grant.
NOT_GRANTED = {
    # `lambda-gitops registry show` (adapters/registry/inventory.py) and `import --all`
    # (review/imports.py) list functions: an operator's commands, run with the operator's
    # credentials; cold passes read a region's versions from its pages
    # (adapters/registry/priming.py), and without the action fall back to one listing per
    # function. It needs Resource "*" and reads every function's
    # configuration in the region, so the least-privilege policy leaves it out.
    "lambda:ListFunctions": "controller/adapters/registry/inventory.py",
}

RETENTION = "DeleteVersionsForRetention"
"""The Sid of the one statement that grants lambda:DeleteFunction."""


def policy() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(POLICY.read_text())
    return loaded


def granted_actions() -> list[str]:
    return [action for statement in policy()["Statement"] for action in statement["Action"]]


def adapter_operations() -> set[str]:
    """The boto3 methods the adapter calls on a Lambda client: ``self._client(...).m(...)``,
    ``client.m(...)`` for a ``client = self._client(...)``, and ``get_paginator("m")``."""
    tree = ast.parse(ADAPTER.read_text())

    def is_client_call(node: ast.expr) -> bool:
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "_client"
        )

    clients = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and is_client_call(node.value)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    methods: set[str] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        receiver = node.func.value
        if not (
            is_client_call(receiver) or (isinstance(receiver, ast.Name) and receiver.id in clients)
        ):
            continue
        if node.func.attr == "get_paginator":
            argument = node.args[0]
            assert isinstance(argument, ast.Constant)
            assert isinstance(argument.value, str)
            methods.add(argument.value)
        else:
            methods.add(node.func.attr)
    return methods


def lambda_actions(methods: set[str]) -> set[str]:
    """boto3 method names to IAM actions, through botocore's own Lambda service model."""
    model = botocore.session.get_session().get_service_model("lambda")
    by_method = {xform_name(name): name for name in model.operation_names}
    unknown = methods - set(by_method)
    assert not unknown, f"not Lambda operations: {unknown}"
    return {f"lambda:{by_method[method]}" for method in methods}


def test_the_policy_document() -> None:
    document = policy()
    assert document["Version"] == "2012-10-17"
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        assert isinstance(statement["Action"], list)
        assert isinstance(statement["Resource"], list)
        assert "NotAction" not in statement
        assert "NotResource" not in statement
        if statement["Action"] != ["cloudwatch:GetMetricData"]:
            # GetMetricData has no resource-level permissions: AWS accepts only "*" for it.
            assert "*" not in statement["Resource"]
    actions = granted_actions()
    assert len(actions) == len(set(actions))
    for action in actions:
        assert "*" not in action, action
        assert action.startswith(("lambda:", "s3:", "cloudwatch:", "sqs:")), action


def test_cloudwatch_actions_are_exactly_those_the_analysis_calls() -> None:
    source = (ROOT / "controller" / "adapters" / "analysis" / "cloudwatch.py").read_text()
    called = {
        f"cloudwatch:{''.join(part.title() for part in method.split('_'))}"
        for method in re.findall(r"client\.([a-z_]+)\(", source)
    }
    granted = {action for action in granted_actions() if action.startswith("cloudwatch:")}
    assert (
        called
        == granted
        == {
            "cloudwatch:GetMetricData",
            "cloudwatch:DescribeAlarms",
            "cloudwatch:DescribeAlarmHistory",
        }
    )


SQS_PERMISSIONS = {
    # boto3 method of the SQS adapter -> the IAM action that allows it (the Service
    # Authorization Reference: DeleteMessageBatch is allowed by sqs:DeleteMessage).
    "get_queue_attributes": "sqs:GetQueueAttributes",
    "receive_message": "sqs:ReceiveMessage",
    "delete_message_batch": "sqs:DeleteMessage",
}


def test_sqs_actions_are_exactly_those_the_event_queue_adapter_calls_on_that_queue_only() -> None:
    source = (ROOT / "controller" / "adapters" / "events" / "sqs.py").read_text()
    called = set(re.findall(r"self\._client\.([a-z_]+)\(", source))
    assert called == set(SQS_PERMISSIONS), "a new SQS call needs its IAM action here"
    [statement] = [s for s in policy()["Statement"] if s["Sid"] == "ReceiveChangeEvents"]
    assert sorted(statement["Action"]) == sorted(SQS_PERMISSIONS.values())
    assert statement["Resource"] == ["arn:aws:sqs:*:123456789012:lambda-gitops-events"]
    assert [a for a in granted_actions() if a.startswith("sqs:")] == statement["Action"]


def test_lambda_actions_are_exactly_those_the_adapter_calls() -> None:
    called = lambda_actions(adapter_operations())
    # The scan finds what it should (a guard against the scan itself going blind).
    assert {"lambda:ListAliases", "lambda:UpdateAlias", "lambda:ListFunctions"} <= called
    granted = {action for action in granted_actions() if action.startswith("lambda:")}
    assert set(NOT_GRANTED) <= called, "NOT_GRANTED names an action the adapter no longer calls"
    assert granted == called - set(NOT_GRANTED)


def test_the_deleting_and_withheld_actions_are_used_only_where_they_belong() -> None:
    """DeleteFunction backs ``delete_version``, which only the applier calls (for retention, and
    only when ``scope.delete_versions`` is on). ListFunctions backs ``list_functions`` and
    ``list_region_versions_page``: only ``registry show``'s inventory, ``import`` and the
    priming of cold passes (which falls back to ListVersionsByFunction when refused) call them;
    no other part of a controller pass does. The write fence passes every call through."""
    allowed = {
        "delete_version": {
            "adapters/registry/aws.py",
            "adapters/registry/cache.py",
            "adapters/registry/port.py",
            "engine/applier.py",
            "engine/fence.py",
        },
        "list_functions": {
            "adapters/registry/aws.py",
            "adapters/registry/cache.py",
            "adapters/registry/port.py",
            "adapters/registry/inventory.py",
            "engine/fence.py",
            "review/imports.py",
        },
        "list_region_versions_page": {
            "adapters/registry/aws.py",
            "adapters/registry/cache.py",
            "adapters/registry/port.py",
            "adapters/registry/priming.py",
            "engine/fence.py",
        },
    }
    controller = ROOT / "controller"
    for path in controller.rglob("*.py"):
        relative = path.relative_to(controller).as_posix()
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in allowed:
                assert relative in allowed[node.attr], f"{relative} calls {node.attr}"


def matches(pattern: str, arn: str) -> bool:
    """IAM's ARN matching: ``*`` matches any run of characters (colons included), ``?`` one."""
    expression = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(expression, arn) is not None


def test_deleting_versions_is_a_statement_of_its_own_on_qualified_arns_only() -> None:
    """The statement can be removed on its own, and what it grants can delete a version of a
    function in scope but never the function itself."""
    granting = [s for s in policy()["Statement"] if "lambda:DeleteFunction" in s["Action"]]
    assert [s["Sid"] for s in granting] == [RETENTION]
    [statement] = granting
    assert statement["Action"] == ["lambda:DeleteFunction"]
    resources: list[str] = statement["Resource"]
    assert resources
    assert all(arn.endswith(":*") for arn in resources)
    function = "arn:aws:lambda:us-east-1:123456789012:function:orders-api"
    assert any(matches(arn, f"{function}:17") for arn in resources)
    assert not any(matches(arn, function) for arn in resources)
    assert not any(matches(arn, function.replace("orders-api", "payments")) for arn in resources)


def test_the_guide_says_how_to_leave_the_retention_statement_out() -> None:
    guide = (ROOT / "docs" / "kubernetes.md").read_text()
    assert RETENTION in guide
    assert "scope.delete_versions" in guide


def test_lambda_resources_are_function_arns_and_their_qualifiers() -> None:
    for statement in policy()["Statement"]:
        resources: list[str] = statement["Resource"]
        if any(action.startswith("lambda:") for action in statement["Action"]):
            assert all(":function:" in arn for arn in resources)
            # Versions and aliases are sub-resources: function:NAME:QUALIFIER.
            assert any(arn.endswith(":*") for arn in resources)
        elif statement["Action"] == ["cloudwatch:GetMetricData"]:
            assert resources == ["*"]
        elif any(action.startswith("cloudwatch:") for action in statement["Action"]):
            assert all(":alarm:" in arn for arn in resources)
        elif any(action.startswith("sqs:") for action in statement["Action"]):
            assert all(arn.startswith("arn:aws:sqs:") for arn in resources)  # the queue alone
        else:
            assert statement["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
            assert all(arn.startswith("arn:aws:s3:::") and "/" in arn for arn in resources)


def test_the_guide_names_the_placeholders_to_narrow() -> None:
    guide = (ROOT / "docs" / "kubernetes.md").read_text()
    for statement in policy()["Statement"]:
        for arn in statement["Resource"]:
            if arn == "*":
                continue
            assert arn in guide, f"docs/kubernetes.md does not mention {arn}"
