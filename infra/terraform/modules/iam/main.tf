# One role per workload, each allowed only what that workload does: no "*" action, a "*"
# resource only where an API has no narrower one (noted next to it), no AWS administrator policy.
# Service roles that a single module owns (EMR service, ECS task execution, RDS monitoring, VPC
# flow logs) live in that module, next to the resource that uses them.

locals {
  arn_prefix = {
    airflow = "arn:${var.partition}:airflow:${var.region}:${var.account_id}"
    glue    = "arn:${var.partition}:glue:${var.region}:${var.account_id}"
    logs    = "arn:${var.partition}:logs:${var.region}:${var.account_id}"
    emr     = "arn:${var.partition}:elasticmapreduce:${var.region}:${var.account_id}"
  }

  buckets = var.bucket_arns

  s3_read_actions  = ["s3:GetObject", "s3:GetObjectVersion"]
  s3_write_actions = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
  s3_list_actions  = ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"]

  # Key use only through the named services: a role holding the key cannot decrypt arbitrary
  # ciphertext it obtained some other way.
  kms_use_actions = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]
  via = {
    s3      = "s3.${var.region}.amazonaws.com"
    glue    = "glue.${var.region}.amazonaws.com"
    sqs     = "sqs.${var.region}.amazonaws.com"
    logs    = "logs.${var.region}.amazonaws.com"
    secrets = "secretsmanager.${var.region}.amazonaws.com"
  }

  glue_catalog = "${local.arn_prefix.glue}:catalog"
  glue_databases = {
    for layer, name in var.glue_database_names : layer => "${local.arn_prefix.glue}:database/${name}"
  }
  glue_tables = {
    for layer, name in var.glue_database_names : layer => "${local.arn_prefix.glue}:table/${name}/*"
  }

  mwaa_environment_arn = "${local.arn_prefix.airflow}:environment/${var.mwaa_environment_name}"

  trust = {
    airflow = {
      Effect    = "Allow"
      Principal = { Service = ["airflow.amazonaws.com", "airflow-env.amazonaws.com"] }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = var.account_id } }
    }
    spark = {
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }
    mlflow = {
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = var.account_id } }
    }
    governance = {
      Effect    = "Allow"
      Principal = { AWS = var.governance_principal_arns }
      Action    = "sts:AssumeRole"
    }
  }

  descriptions = {
    airflow    = "MWAA execution role: schedules creditlake DAGs, reads landing, publishes quality reports"
    spark      = "EMR instance profile role: Spark jobs and dbt-spark read landing and write the lake through the Glue catalog"
    mlflow     = "MLflow server task role: reads and writes model artifacts"
    governance = "Read-only: quality reports and the (tokenised) marts; never bronze, quarantine, landing or the PII key"
  }
}

# Airflow (MWAA execution role) ---------------------------------------------------------------

locals {
  airflow_statements = [
    {
      Sid      = "PublishEnvironmentMetrics"
      Effect   = "Allow"
      Action   = ["airflow:PublishMetrics"]
      Resource = [local.mwaa_environment_arn]
    },
    {
      Sid      = "ReadDagsRequirementsAndStartupScript"
      Effect   = "Allow"
      Action   = concat(local.s3_read_actions, ["s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketPublicAccessBlock"])
      Resource = [local.buckets.airflow, "${local.buckets.airflow}/*"]
    },
    {
      # MWAA checks that public access to the account is blocked; the API has no resource.
      Sid      = "CheckAccountPublicAccessBlock"
      Effect   = "Allow"
      Action   = ["s3:GetAccountPublicAccessBlock"]
      Resource = ["*"]
    },
    {
      Sid      = "ReadLandingForSensorsAndIngestion"
      Effect   = "Allow"
      Action   = concat(local.s3_read_actions, ["s3:ListBucket", "s3:GetBucketLocation"])
      Resource = [local.buckets.landing, "${local.buckets.landing}/*"]
    },
    {
      Sid      = "PublishQualityReports"
      Effect   = "Allow"
      Action   = concat(local.s3_read_actions, local.s3_write_actions)
      Resource = ["${local.buckets.lake}/reports/*"]
    },
    {
      Sid      = "ListReportsPrefix"
      Effect   = "Allow"
      Action   = ["s3:ListBucket"]
      Resource = [local.buckets.lake]
      Condition = {
        StringLike = { "s3:prefix" = ["reports/*"] }
      }
    },
    {
      Sid    = "WriteEnvironmentLogs"
      Effect = "Allow"
      Action = [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:DescribeLogGroups",
        "logs:GetLogEvents",
        "logs:GetLogGroupFields",
        "logs:GetLogRecord",
        "logs:GetQueryResults",
        "logs:PutLogEvents",
      ]
      Resource = ["${local.arn_prefix.logs}:log-group:airflow-${var.mwaa_environment_name}-*"]
    },
    {
      # CloudWatch metrics have no resource ARNs; the namespace condition narrows it instead.
      Sid       = "PutEnvironmentMetrics"
      Effect    = "Allow"
      Action    = ["cloudwatch:PutMetricData"]
      Resource  = ["*"]
      Condition = { StringEquals = { "cloudwatch:namespace" = "AmazonMWAA" } }
    },
    {
      # MWAA's Celery queue lives in an AWS-owned account, hence the account wildcard.
      Sid    = "UseCeleryQueue"
      Effect = "Allow"
      Action = [
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:ReceiveMessage",
        "sqs:SendMessage",
      ]
      Resource = ["arn:${var.partition}:sqs:${var.region}:*:airflow-celery-*"]
    },
    {
      Sid       = "UseLakeKeyThroughS3SqsAndLogs"
      Effect    = "Allow"
      Action    = local.kms_use_actions
      Resource  = [var.lake_key_arn]
      Condition = { StringEquals = { "kms:ViaService" = [local.via.s3, local.via.sqs, local.via.logs] } }
    },
    {
      Sid      = "ReadPiiKeyAndMlflowCredentials"
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
      Resource = [var.pii_key_secret_arn, var.mlflow_admin_secret_arn]
    },
    {
      Sid       = "DecryptSecrets"
      Effect    = "Allow"
      Action    = ["kms:Decrypt"]
      Resource  = [var.secrets_key_arn]
      Condition = { StringEquals = { "kms:ViaService" = local.via.secrets } }
    },
  ]
}

# Spark (EMR instance profile) ----------------------------------------------------------------

locals {
  spark_statements = [
    {
      Sid      = "ReadLanding"
      Effect   = "Allow"
      Action   = concat(local.s3_read_actions, local.s3_list_actions)
      Resource = [local.buckets.landing, "${local.buckets.landing}/*"]
    },
    {
      Sid      = "ReadWriteLake"
      Effect   = "Allow"
      Action   = concat(local.s3_read_actions, local.s3_write_actions, local.s3_list_actions)
      Resource = [local.buckets.lake, "${local.buckets.lake}/*"]
    },
    {
      Sid      = "WriteClusterLogs"
      Effect   = "Allow"
      Action   = ["s3:PutObject", "s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"]
      Resource = [local.buckets.access_logs, "${local.buckets.access_logs}/emr/*"]
    },
    {
      Sid       = "UseLakeKeyThroughS3AndGlue"
      Effect    = "Allow"
      Action    = local.kms_use_actions
      Resource  = [var.lake_key_arn]
      Condition = { StringEquals = { "kms:ViaService" = [local.via.s3, local.via.glue] } }
    },
    {
      Sid       = "UseLogsKeyThroughS3"
      Effect    = "Allow"
      Action    = ["kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]
      Resource  = [var.logs_key_arn]
      Condition = { StringEquals = { "kms:ViaService" = local.via.s3 } }
    },
    {
      Sid    = "GlueCatalogAsMetastore"
      Effect = "Allow"
      Action = [
        "glue:BatchCreatePartition",
        "glue:BatchDeletePartition",
        "glue:BatchGetPartition",
        "glue:CreatePartition",
        "glue:CreateTable",
        "glue:DeletePartition",
        "glue:DeleteTable",
        "glue:GetDatabase",
        "glue:GetDatabases",
        "glue:GetPartition",
        "glue:GetPartitions",
        "glue:GetTable",
        "glue:GetTables",
        "glue:GetUserDefinedFunctions",
        "glue:UpdatePartition",
        "glue:UpdateTable",
      ]
      Resource = concat(
        [local.glue_catalog, "${local.arn_prefix.glue}:database/default"],
        values(local.glue_databases),
        values(local.glue_tables),
      )
    },
    {
      # Cluster IDs are assigned at creation, after this role must exist: scoped to the account.
      Sid    = "DescribeOwnCluster"
      Effect = "Allow"
      Action = [
        "elasticmapreduce:DescribeCluster",
        "elasticmapreduce:ListBootstrapActions",
        "elasticmapreduce:ListInstanceGroups",
        "elasticmapreduce:ListInstances",
        "elasticmapreduce:ListSteps",
      ]
      Resource = ["${local.arn_prefix.emr}:cluster/*"]
    },
  ]
}

# MLflow server (ECS task role) ---------------------------------------------------------------

locals {
  mlflow_statements = [
    {
      Sid      = "ReadWriteArtifacts"
      Effect   = "Allow"
      Action   = concat(local.s3_read_actions, local.s3_write_actions)
      Resource = ["${local.buckets.ml}/artifacts/*"]
    },
    {
      Sid       = "ListArtifacts"
      Effect    = "Allow"
      Action    = ["s3:ListBucket", "s3:GetBucketLocation"]
      Resource  = [local.buckets.ml]
      Condition = { StringLike = { "s3:prefix" = ["artifacts/*", "artifacts"] } }
    },
    {
      Sid       = "UseLakeKeyThroughS3"
      Effect    = "Allow"
      Action    = local.kms_use_actions
      Resource  = [var.lake_key_arn]
      Condition = { StringEquals = { "kms:ViaService" = local.via.s3 } }
    },
  ]
}

# Governance (read-only) ----------------------------------------------------------------------

locals {
  governance_readable_prefixes = ["reports/", "warehouse/marts/"]

  governance_statements = [
    {
      Sid      = "ReadQualityReportsAndMarts"
      Effect   = "Allow"
      Action   = local.s3_read_actions
      Resource = [for prefix in local.governance_readable_prefixes : "${local.buckets.lake}/${prefix}*"]
    },
    {
      Sid       = "ListQualityReportsAndMarts"
      Effect    = "Allow"
      Action    = ["s3:ListBucket", "s3:GetBucketLocation"]
      Resource  = [local.buckets.lake]
      Condition = { StringLike = { "s3:prefix" = [for prefix in local.governance_readable_prefixes : "${prefix}*"] } }
    },
    {
      Sid      = "ReadMartsCatalog"
      Effect   = "Allow"
      Action   = ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions"]
      Resource = [local.glue_catalog, local.glue_databases.marts, local.glue_tables.marts]
    },
    {
      Sid       = "DecryptThroughS3AndGlue"
      Effect    = "Allow"
      Action    = ["kms:Decrypt", "kms:DescribeKey"]
      Resource  = [var.lake_key_arn]
      Condition = { StringEquals = { "kms:ViaService" = [local.via.s3, local.via.glue] } }
    },
    {
      # Belt and braces: even a broader policy attached later cannot open these.
      Sid    = "NeverRawOrPreMaskLayers"
      Effect = "Deny"
      Action = ["s3:GetObject", "s3:GetObjectVersion"]
      Resource = [
        "${local.buckets.landing}/*",
        "${local.buckets.lake}/bronze/*",
        "${local.buckets.lake}/quarantine/*",
      ]
    },
    {
      Sid      = "NeverBronzeCatalog"
      Effect   = "Deny"
      Action   = ["glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions"]
      Resource = [local.glue_databases.bronze, local.glue_tables.bronze]
    },
    {
      Sid      = "NeverThePiiKey"
      Effect   = "Deny"
      Action   = ["secretsmanager:GetSecretValue"]
      Resource = [var.pii_key_secret_arn]
    },
    {
      Sid      = "NeverDecryptSecrets"
      Effect   = "Deny"
      Action   = ["kms:Decrypt"]
      Resource = [var.secrets_key_arn]
    },
  ]

  statements = {
    airflow    = local.airflow_statements
    spark      = local.spark_statements
    mlflow     = local.mlflow_statements
    governance = local.governance_statements
  }
}

resource "aws_iam_role" "this" {
  for_each = local.trust

  name                 = var.role_names[each.key]
  description          = local.descriptions[each.key]
  max_session_duration = 3600
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [each.value]
  })

  tags = { Workload = each.key }
}

resource "aws_iam_role_policy" "this" {
  for_each = local.statements

  name = "${each.key}-least-privilege"
  role = aws_iam_role.this[each.key].id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = each.value
  })
}

resource "aws_iam_instance_profile" "spark" {
  name = var.role_names.spark
  role = aws_iam_role.this["spark"].name
}
