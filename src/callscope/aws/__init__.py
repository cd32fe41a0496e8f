"""AWS entry points: the Lambda handler that consumes the SQS queue."""

from __future__ import annotations

from callscope.aws.lambda_handler import handle_sqs_event, lambda_handler

__all__ = ["handle_sqs_event", "lambda_handler"]
