# Offline: the AWS provider is mocked, so these runs plan and "apply" without an account.
mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name_prefix = "creditlake-test"
  account_id  = "111122223333"
  region      = "ap-southeast-1"
  vpc_id      = "vpc-0123456789abcdef0"
  subnet_ids  = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  security_group_ids = {
    alb      = "sg-0000000000000000a"
    task     = "sg-0000000000000000b"
    database = "sg-0000000000000000c"
  }
  lake_key_arn            = "arn:aws:kms:ap-southeast-1:111122223333:key/lake"
  secrets_key_arn         = "arn:aws:kms:ap-southeast-1:111122223333:key/secrets"
  logs_key_arn            = "arn:aws:kms:ap-southeast-1:111122223333:key/logs"
  artifacts_uri           = "s3://acme-test-ml/artifacts"
  task_role_arn           = "arn:aws:iam::111122223333:role/creditlake-test-mlflow"
  execution_role_name     = "creditlake-test-mlflow-exec"
  mlflow_admin_secret_arn = "arn:aws:secretsmanager:ap-southeast-1:111122223333:secret:creditlake-test/mlflow-admin-GhIjKl"
  mlflow_image            = "111122223333.dkr.ecr.ap-southeast-1.amazonaws.com/creditlake/mlflow@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
  mlflow_hostname         = "mlflow.test.internal"
  certificate_arn         = "arn:aws:acm:ap-southeast-1:111122223333:certificate/00000000-0000-0000-0000-000000000000"
}

run "database_private_and_encrypted" {
  command = plan

  assert {
    condition     = !aws_db_instance.this.publicly_accessible
    error_message = "The MLflow database must not be publicly accessible."
  }

  assert {
    condition     = aws_db_instance.this.storage_encrypted && aws_db_instance.this.kms_key_id == var.lake_key_arn
    error_message = "The MLflow database must be encrypted with the lake key."
  }

  assert {
    condition     = aws_db_instance.this.manage_master_user_password && aws_db_instance.this.master_user_secret_kms_key_id == var.secrets_key_arn && aws_db_instance.this.password == null
    error_message = "RDS must generate and keep the master password in Secrets Manager; no password in code or state."
  }

  assert {
    condition     = anytrue([for parameter in aws_db_parameter_group.this.parameter : parameter.name == "rds.force_ssl" && parameter.value == "1"])
    error_message = "The database must refuse connections without TLS."
  }

  assert {
    condition     = aws_db_instance.this.deletion_protection && !aws_db_instance.this.skip_final_snapshot && aws_db_instance.this.backup_retention_period >= 7
    error_message = "The database must be protected from deletion and backed up."
  }

  assert {
    condition     = aws_db_instance.this.vpc_security_group_ids == toset([var.security_group_ids.database])
    error_message = "Only the database security group may front the database."
  }
}

run "server_private_with_auth_and_narrow_roles" {
  command = apply

  assert {
    condition     = aws_lb.this.internal && aws_lb.this.drop_invalid_header_fields
    error_message = "The MLflow load balancer must be internal and drop invalid headers."
  }

  assert {
    condition     = aws_lb_listener.https.protocol == "HTTPS" && aws_lb_listener.https.certificate_arn == var.certificate_arn && startswith(aws_lb_listener.https.ssl_policy, "ELBSecurityPolicy-TLS13")
    error_message = "Clients must reach MLflow over TLS 1.2+ only."
  }

  assert {
    condition     = alltrue([for network in aws_ecs_service.server.network_configuration : !network.assign_public_ip])
    error_message = "MLflow tasks must not get public addresses."
  }

  assert {
    condition = alltrue([
      jsondecode(aws_ecs_task_definition.server.container_definitions)[0].command[0] == "python",
      strcontains(jsondecode(aws_ecs_task_definition.server.container_definitions)[0].command[2], "\"--app-name\", \"basic-auth\""),
      strcontains(jsondecode(aws_ecs_task_definition.server.container_definitions)[0].command[2], "sslmode=require"),
      strcontains(jsondecode(aws_ecs_task_definition.server.container_definitions)[0].command[2], "\"--artifacts-destination\", os.environ[\"ARTIFACTS_DESTINATION\"]"),
      contains(jsondecode(aws_ecs_task_definition.server.container_definitions)[0].environment, { name = "ARTIFACTS_DESTINATION", value = var.artifacts_uri }),
    ])
    error_message = "The server must start with MLflow's basic-auth app, a TLS database URI and artifacts proxied to S3."
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.server.container_definitions)[0].readonlyRootFilesystem
    error_message = "The MLflow container's root filesystem must be read-only."
  }

  assert {
    condition = toset([for secret in jsondecode(aws_ecs_task_definition.server.container_definitions)[0].secrets : secret.name]) == toset(["DB_USER", "DB_PASSWORD", "MLFLOW_AUTH_ADMIN_USERNAME", "MLFLOW_AUTH_ADMIN_PASSWORD"]) && !anytrue([
      for variable in jsondecode(aws_ecs_task_definition.server.container_definitions)[0].environment : strcontains(lower(variable.name), "password")
    ])
    error_message = "Credentials must be injected from Secrets Manager, never as plain environment values."
  }

  assert {
    condition     = output.tracking_uri == "https://mlflow.test.internal"
    error_message = "tracking_uri (MLFLOW_TRACKING_URI) must be https://<mlflow_hostname>."
  }

  assert {
    condition = alltrue(flatten([
      for statement in jsondecode(aws_iam_role_policy.execution.policy).Statement : [
        for action in statement.Action : !strcontains(action, "*")
      ]
    ]))
    error_message = "The task execution role's actions must be spelled out."
  }

  assert {
    condition     = contains(flatten([for statement in jsondecode(aws_iam_role_policy.execution.policy).Statement : statement.Resource]), "arn:aws:ecr:ap-southeast-1:111122223333:repository/creditlake/mlflow")
    error_message = "The execution role may pull only the MLflow repository."
  }
}

run "rejects_bad_input" {
  command = plan

  variables {
    mlflow_image    = "111122223333.dkr.ecr.ap-southeast-1.amazonaws.com/creditlake/mlflow:latest"
    certificate_arn = "arn:aws:iam::111122223333:server-certificate/mlflow"
  }

  # Each listed variable must reject its bad value; any other error fails the run.
  expect_failures = [var.mlflow_image, var.certificate_arn]
}
