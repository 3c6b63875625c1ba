"""The metrics sources a rollout's analysis asks: CloudWatch (metrics and alarms) and Prometheus.

Each adapter answers ``evaluate(check, window) -> CheckResult`` for the checks of
``controller.core.analysis`` it knows, and never raises for a failure of its source: that is an
``error`` outcome, which the rollout counts apart and never rolls back for.
"""
