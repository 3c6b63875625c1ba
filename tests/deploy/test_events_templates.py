"""deploy/events/: the CloudFormation template and the Terraform file that route Lambda's change
events to the controller's queue.

Both must hold the controller's own event pattern (``controller.core.events.event_pattern``,
which the other tests give moto's EventBridge), a queue policy that lets only that rule send,
a dead-letter queue, and the controller's permission on that queue alone. The CloudFormation
template is also deployed on moto (which runs CloudFormation for SQS, EventBridge rules and IAM)
and fed events; the Terraform file is checked by ``terraform validate`` against the offline
provider mirror, where the machine has terraform.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Literal

import boto3
import pytest
from ruamel.yaml import YAML

from bench.cloudtrail import cloudtrail_record
from controller.core.events import DETAIL_TYPE, SOURCE, event_pattern
from tests.conftest import require_tool
from tests.deploy.manifests import ROOT
from tests.deploy.test_iam_policy import policy

EVENTS = ROOT / "deploy" / "events"
TEMPLATE = EVENTS / "cloudformation.yaml"
TERRAFORM = EVENTS / "events.tf"
PROVIDER_MIRROR = Path(os.environ.get("LAMBDA_GITOPS_TF_PLUGINS", "/opt/tf-plugins"))
CONTROLLER_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]


def template() -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe").load(TEMPLATE.read_text(encoding="utf-8"))
    return loaded


def resources(kind: str) -> list[dict[str, Any]]:
    return [r for r in template()["Resources"].values() if r["Type"] == kind]


def terraform_pattern() -> Any:
    text = TERRAFORM.read_text(encoding="utf-8")
    [heredoc] = re.findall(r"event_pattern = <<-PATTERN\n(.*?)\n\s*PATTERN\n", text, re.DOTALL)
    return json.loads(heredoc)


def test_both_templates_hold_the_controllers_event_pattern() -> None:
    [rule] = resources("AWS::Events::Rule")
    assert rule["Properties"]["EventPattern"] == event_pattern()
    assert terraform_pattern() == event_pattern()


def test_only_the_rule_may_send_to_the_queue() -> None:
    """The queue policy lets the events service send for this rule's ARN alone
    (``aws:SourceArn``), so that no other rule, and no other account, feeds the queue."""
    [queue_policy] = resources("AWS::SQS::QueuePolicy")
    [statement] = queue_policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert statement["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["Rule", "Arn"]}}
    }
    text = TERRAFORM.read_text(encoding="utf-8")
    assert 'Principal = { Service = "events.amazonaws.com" }' in text
    assert 'Action    = "sqs:SendMessage"' in text
    assert (
        'Condition = { ArnEquals = { "aws:SourceArn" = '
        "aws_cloudwatch_event_rule.lambda_changes.arn } }"
    ) in text


def test_the_controller_gets_the_three_actions_on_that_queue_alone() -> None:
    """The same statement as ``ReceiveChangeEvents`` of deploy/iam-policy.json."""
    [controller] = resources("AWS::IAM::Policy")
    [statement] = controller["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Sid"] == "ReceiveChangeEvents"
    assert statement["Action"] == CONTROLLER_ACTIONS
    assert statement["Resource"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    [in_policy] = [s for s in policy()["Statement"] if s["Sid"] == "ReceiveChangeEvents"]
    assert in_policy["Action"] == CONTROLLER_ACTIONS
    text = TERRAFORM.read_text(encoding="utf-8")
    assert f"Action   = {json.dumps(CONTROLLER_ACTIONS)}" in text
    assert "Resource = aws_sqs_queue.events.arn" in text


def test_the_queue_has_a_dead_letter_queue_and_a_visibility_timeout_a_reconcile_fits_in() -> None:
    queue = template()["Resources"]["Queue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["DeadLetterQueue", "Arn"]
    }
    assert queue["VisibilityTimeout"] >= 30
    assert queue["ReceiveMessageWaitTimeSeconds"] == 20
    text = TERRAFORM.read_text(encoding="utf-8")
    assert "deadLetterTargetArn = aws_sqs_queue.dead_letter.arn" in text
    assert f"visibility_timeout_seconds = {queue['VisibilityTimeout']}" in text


@pytest.mark.filterwarnings("ignore:Tried to parse AWS..SQS..QueuePolicy:UserWarning")
def test_the_template_deployed_on_moto_routes_changes_and_nothing_else(moto_endpoint: str) -> None:
    """moto runs the template (all but the queue policy, which it does not implement) and its
    EventBridge applies the rule: a Lambda change reaches the queue, while a failed call, a
    tag change and another service's call do not."""

    def client(service: Literal["iam", "cloudformation", "events", "sqs"]) -> Any:
        return boto3.client(service, endpoint_url=moto_endpoint, region_name="us-east-1")

    client("iam").create_role(RoleName="lambda-gitops", AssumeRolePolicyDocument="{}")
    cloudformation = client("cloudformation")
    cloudformation.create_stack(
        StackName="lambda-gitops-events",
        TemplateBody=TEMPLATE.read_text(encoding="utf-8"),
        Parameters=[{"ParameterKey": "ControllerRoleName", "ParameterValue": "lambda-gitops"}],
    )
    [stack] = cloudformation.describe_stacks(StackName="lambda-gitops-events")["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}
    assert client("iam").list_role_policies(RoleName="lambda-gitops")["PolicyNames"] == [
        "lambda-gitops-events-receive"
    ]

    change = cloudtrail_record("UpdateAlias", "orders-api", qualifier="live")
    refused = {**change, "errorCode": "PreconditionFailedException"}
    tagged = {**change, "eventName": "TagResource20170331v2"}
    concurrency = {**change, "eventName": "DeleteFunctionConcurrency20171031"}
    entries = [
        {"Source": SOURCE, "DetailType": DETAIL_TYPE, "Detail": json.dumps(record)}
        for record in (change, refused, tagged, concurrency)
    ] + [{"Source": "aws.s3", "DetailType": DETAIL_TYPE, "Detail": json.dumps(change)}]
    client("events").put_events(Entries=entries)

    sqs = client("sqs")
    messages = sqs.receive_message(
        QueueUrl=outputs["QueueUrl"], MaxNumberOfMessages=10, WaitTimeSeconds=1
    ).get("Messages", [])
    assert [json.loads(m["Body"])["detail"]["eventID"] for m in messages] == [change["eventID"]]
    attributes = sqs.get_queue_attributes(
        QueueUrl=outputs["QueueUrl"], AttributeNames=["RedrivePolicy", "VisibilityTimeout"]
    )["Attributes"]
    assert json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"].endswith(
        ":lambda-gitops-events-dlq"
    )


def test_terraform_validates_the_file_with_the_offline_provider(tmp_path: Path) -> None:
    terraform = shutil.which("terraform")
    require_tool(
        terraform is not None and (PROVIDER_MIRROR / "registry.terraform.io").is_dir(),
        f"terraform and an offline mirror of hashicorp/aws at {PROVIDER_MIRROR} are needed",
    )
    assert terraform is not None
    module = tmp_path / "events"
    module.mkdir()
    shutil.copy(TERRAFORM, module / TERRAFORM.name)
    cli_config = tmp_path / "terraform.rc"
    cli_config.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{PROVIDER_MIRROR}"\n'
        "  }\n}\n"
    )
    environment = {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(cli_config),
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
    }

    def run(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [terraform, *arguments],
            cwd=module,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    initialised = run("init", "-backend=false", "-input=false", "-no-color")
    assert initialised.returncode == 0, initialised.stdout + initialised.stderr
    validated = run("validate", "-json", "-no-color")
    report = json.loads(validated.stdout)
    assert report["valid"], report["diagnostics"]
    assert report["warning_count"] == 0, report["diagnostics"]
