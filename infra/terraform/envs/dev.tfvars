# Development values: a separate AWS account, smaller and cheaper. Nothing here is a secret.
environment        = "dev"
aws_account_id     = "444455556666"
region             = "ap-southeast-1"
availability_zones = ["ap-southeast-1a", "ap-southeast-1b"]
bucket_prefix      = "example-creditlake-dev"
vpc_cidr           = "10.41.0.0/16"

landing_retention_days            = 14
noncurrent_version_retention_days = 7
access_log_retention_days         = 90

governance_principal_arns = ["arn:aws:iam::444455556666:role/risk-governance-readers"]

emr_release_label           = "emr-7.10.0"
emr_tls_certificates_s3_uri = "s3://example-creditlake-dev-lake/config/emr-tls.zip"
emr_instance_type           = "m6g.large"
emr_core_instance_count     = 1
emr_max_capacity_units      = 3

airflow_version        = "3.0.6"
mwaa_environment_class = "mw1.small"
mwaa_max_workers       = 2

mlflow_image           = "444455556666.dkr.ecr.ap-southeast-1.amazonaws.com/creditlake/mlflow@sha256:1111111111111111111111111111111111111111111111111111111111111111"
mlflow_hostname        = "mlflow.dev.creditlake.internal"
mlflow_certificate_arn = "arn:aws:acm:ap-southeast-1:444455556666:certificate/11111111-1111-1111-1111-111111111111"
db_instance_class      = "db.t4g.small"

tags = { CostCentre = "credit-risk", Owner = "data-platform" }
