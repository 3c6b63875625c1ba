# lambda-gitops change events (docs/events.md): the same as deploy/events/cloudformation.yaml, for
# Terraform. Lambda's calls, as CloudTrail records them, sent by an EventBridge rule to an SQS
# queue that the controller reads (events.queue_urls), so that a change made outside Git is
# reconciled within seconds instead of at the next resync.
#
# Use it as a module, once per account and region where managed functions live (CloudTrail
# delivers a call's event to the default bus of the region it was made in), with a CloudTrail
# trail recording management events in that account:
#
#   module "lambda_gitops_events" {
#     source               = "./deploy/events"
#     controller_role_name = "lambda-gitops"
#   }
#
# The event pattern is the controller's own (controller/core/events.py, event_pattern);
# tests/deploy/test_events_templates.py checks that it is equal to this one and to the
# CloudFormation template's, and runs `terraform validate` on this file where terraform is.

terraform {
  required_version = ">= 1.3"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

variable "queue_name" {
  description = "The queue's name; the dead-letter queue is named after it, with -dlq."
  type        = string
  default     = "lambda-gitops-events"
  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,49}$", var.queue_name))
    error_message = "queue_name: 1 to 49 letters, digits, - and _."
  }
}

variable "controller_role_name" {
  description = "The IAM role the controller runs as (deploy/iam-policy.json's); empty: attach the ReceiveChangeEvents policy yourself."
  type        = string
  default     = ""
}

variable "max_receive_count" {
  description = "Receipts after which a message the controller cannot read (malformed) moves to the dead-letter queue."
  type        = number
  default     = 5
}

resource "aws_sqs_queue" "dead_letter" {
  name                      = "${var.queue_name}-dlq"
  message_retention_seconds = 1209600 # 14 days, to look at what could not be read
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "events" {
  name = var.queue_name
  # Longer than a targeted reconcile takes: a message is deleted once its function's reconcile
  # has finished, within this time, or it is received again.
  visibility_timeout_seconds = 60
  # An event older than a day is worth nothing: the resync has long covered it.
  message_retention_seconds = 86400
  receive_wait_time_seconds = 20
  # EventBridge can send to SSE-SQS queues (not to the aws/sqs KMS key).
  sqs_managed_sse_enabled = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter.arn
    maxReceiveCount     = var.max_receive_count
  })
}

resource "aws_cloudwatch_event_rule" "lambda_changes" {
  name           = "${var.queue_name}-lambda-changes"
  description    = "Lambda's version and alias calls, as CloudTrail records them, for lambda-gitops."
  event_bus_name = "default"
  # Each operation by its bare name (older records) and by its name with an API version
  # (UpdateAlias20150331): a prefix ending in "20", so that DeleteFunctionConcurrency or
  # CreateFunctionUrlConfig never match. A call Lambda refused (errorCode) changed nothing.
  event_pattern = <<-PATTERN
    {
      "source": ["aws.lambda"],
      "detail-type": ["AWS API Call via CloudTrail"],
      "detail": {
        "eventSource": ["lambda.amazonaws.com"],
        "eventName": [
          "CreateFunction", {"prefix": "CreateFunction20"},
          "UpdateFunctionCode", {"prefix": "UpdateFunctionCode20"},
          "UpdateFunctionConfiguration", {"prefix": "UpdateFunctionConfiguration20"},
          "PublishVersion", {"prefix": "PublishVersion20"},
          "DeleteFunction", {"prefix": "DeleteFunction20"},
          "CreateAlias", {"prefix": "CreateAlias20"},
          "UpdateAlias", {"prefix": "UpdateAlias20"},
          "DeleteAlias", {"prefix": "DeleteAlias20"}
        ],
        "errorCode": [{"exists": false}]
      }
    }
  PATTERN
}

resource "aws_cloudwatch_event_target" "queue" {
  rule      = aws_cloudwatch_event_rule.lambda_changes.name
  target_id = "lambda-gitops-queue"
  arn       = aws_sqs_queue.events.arn
}

# Only this rule may send to the queue: the events service, for this rule's ARN alone.
resource "aws_sqs_queue_policy" "events" {
  queue_url = aws_sqs_queue.events.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "ChangeEventsFromTheRuleOnly"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.events.arn
      Condition = { ArnEquals = { "aws:SourceArn" = aws_cloudwatch_event_rule.lambda_changes.arn } }
    }]
  })
}

# What the controller needs of the queue, and nothing more: receive, delete what it has handled
# (DeleteMessageBatch is allowed by sqs:DeleteMessage), and read its visibility timeout and
# redrive policy. The same statement as ReceiveChangeEvents in deploy/iam-policy.json.
resource "aws_iam_role_policy" "receive" {
  count = var.controller_role_name == "" ? 0 : 1
  name  = "${var.queue_name}-receive"
  role  = var.controller_role_name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "ReceiveChangeEvents"
      Effect   = "Allow"
      Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
      Resource = aws_sqs_queue.events.arn
    }]
  })
}

output "queue_url" {
  description = "The controller's events.queue_urls (or --events-queue-url)."
  value       = aws_sqs_queue.events.id
}

output "queue_arn" {
  value = aws_sqs_queue.events.arn
}

output "dead_letter_queue_url" {
  description = "Where malformed messages end up; alarm on its ApproximateNumberOfMessagesVisible."
  value       = aws_sqs_queue.dead_letter.id
}

output "rule_arn" {
  value = aws_cloudwatch_event_rule.lambda_changes.arn
}
