# Production values. Replace the example account, certificate, image digest and principals with
# your own; nothing here is a secret.
environment        = "prod"
aws_account_id     = "111122223333"
region             = "ap-southeast-1"
availability_zones = ["ap-southeast-1a", "ap-southeast-1b", "ap-southeast-1c"]
bucket_prefix      = "example-creditlake-prod"
vpc_cidr           = "10.40.0.0/16"

landing_retention_days            = 90
noncurrent_version_retention_days = 30
access_log_retention_days         = 400

governance_principal_arns = ["arn:aws:iam::111122223333:role/risk-governance-readers"]

emr_release_label           = "emr-7.10.0"
emr_tls_certificates_s3_uri = "s3://example-creditlake-prod-lake/config/emr-tls.zip"
emr_instance_type           = "m6g.xlarge"
emr_core_instance_count     = 2
emr_max_capacity_units      = 8

airflow_version        = "3.0.6"
mwaa_environment_class = "mw1.medium"
mwaa_max_workers       = 6

mlflow_image           = "111122223333.dkr.ecr.ap-southeast-1.amazonaws.com/creditlake/mlflow@sha256:0000000000000000000000000000000000000000000000000000000000000000"
mlflow_hostname        = "mlflow.creditlake.internal"
mlflow_certificate_arn = "arn:aws:acm:ap-southeast-1:111122223333:certificate/00000000-0000-0000-0000-000000000000"
db_instance_class      = "db.m7g.large"

tags = { CostCentre = "credit-risk", Owner = "data-platform" }
