# Amazon MWAA runs creditlake's DAGs from the Airflow bucket. It is reachable only from inside the
# VPC (PRIVATE_ONLY), writes every log stream to CloudWatch, and gets creditlake's settings from a
# startup script Terraform generates from the other modules' outputs, so deploying needs no code
# change: the same DAGs read S3, Spark Connect and MLflow instead of local folders.

locals {
  startup_script = templatefile("${path.module}/startup.sh.tftpl", {
    environment             = var.creditlake_environment
    mlflow_admin_secret_arn = var.mlflow_admin_secret_arn
  })
}

resource "aws_s3_object" "startup_script" {
  bucket       = var.source_bucket_name
  key          = "startup.sh"
  content      = local.startup_script
  content_type = "text/x-shellscript"
  kms_key_id   = var.kms_key_arn
  # The bucket is versioned; MWAA is pinned to this exact version below.
  server_side_encryption = "aws:kms"
}

resource "aws_mwaa_environment" "this" {
  name                  = var.name
  airflow_version       = var.airflow_version
  environment_class     = var.environment_class
  min_workers           = var.min_workers
  max_workers           = var.max_workers
  execution_role_arn    = var.execution_role_arn
  kms_key               = var.kms_key_arn
  source_bucket_arn     = var.source_bucket_arn
  dag_s3_path           = "dags/"
  requirements_s3_path  = var.requirements_s3_path
  plugins_s3_path       = var.plugins_s3_path
  webserver_access_mode = "PRIVATE_ONLY"
  endpoint_management   = "SERVICE"

  startup_script_s3_path           = aws_s3_object.startup_script.key
  startup_script_s3_object_version = aws_s3_object.startup_script.version_id

  airflow_configuration_options = {
    "core.load_examples"           = "false"
    "core.default_timezone"        = "utc"
    "webserver.expose_config"      = "false"
    "scheduler.catchup_by_default" = "false"
  }

  network_configuration {
    subnet_ids         = var.subnet_ids
    security_group_ids = var.security_group_ids
  }

  logging_configuration {
    dag_processing_logs {
      enabled   = true
      log_level = var.log_level
    }
    scheduler_logs {
      enabled   = true
      log_level = var.log_level
    }
    task_logs {
      enabled   = true
      log_level = var.log_level
    }
    webserver_logs {
      enabled   = true
      log_level = var.log_level
    }
    worker_logs {
      enabled   = true
      log_level = var.log_level
    }
  }

  tags = { Name = var.name }
}
