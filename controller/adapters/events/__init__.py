"""The queues of change events: CloudTrail's Lambda calls, routed by EventBridge into SQS.

``port`` is what the consumer (``engine.events``) uses of a queue; ``sqs`` implements it over
boto3, with SQS's errors translated once into ``controller.errors.QueueError``.
"""
