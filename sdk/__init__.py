"""openlv's Python SDK. `boto3_client()` gives a boto3 `lookoutvision` client built from openlv's service model."""

from sdk.boto import boto3_client, data_path

__all__ = ["boto3_client", "data_path"]
