"""An environment with no AWS credentials anywhere boto3 looks, for the S3 configuration tests."""

from __future__ import annotations

#: No AWS credentials anywhere boto3 looks (files and instance metadata); the tests also drop
#: every ``AWS_*`` variable of their own environment.
NO_AWS = {
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
    "AWS_CONFIG_FILE": "/nonexistent/config",
    "AWS_EC2_METADATA_DISABLED": "true",
}
