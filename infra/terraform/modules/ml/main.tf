# MLflow for a lender: a PostgreSQL backend store (RDS, encrypted, private, TLS-only, its master
# password generated and rotated by RDS in Secrets Manager), artifacts in the ML bucket served
# through the tracking server, and the server itself on ECS Fargate behind an internal HTTPS load
# balancer with MLflow's basic authentication on.

locals {
  db_name  = "mlflow"
  db_user  = "mlflow"
  port     = 5000
  hostname = var.mlflow_hostname

  # The container's entry point: builds the database URI from the injected secret (URL-quoting
  # the password, doubling % for configparser), writes the auth config to tmpfs, then becomes the
  # MLflow server. The password never appears on a command line or in Terraform.
  entrypoint = <<-PY
    import os, urllib.parse
    quote = lambda value: urllib.parse.quote(value, safe="")
    uri = "postgresql://%s:%s@%s:%s/%s?sslmode=require" % (
        quote(os.environ["DB_USER"]), quote(os.environ["DB_PASSWORD"]),
        os.environ["DB_HOST"], os.environ["DB_PORT"], os.environ["DB_NAME"])
    path = "/tmp/mlflow/basic_auth.ini"
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as ini:
        ini.write("[mlflow]\ndefault_permission = NO_PERMISSIONS\n"
                  "database_uri = " + uri.replace("%", "%%") + "\n"
                  "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n")
    os.environ["MLFLOW_AUTH_CONFIG_PATH"] = path
    os.environ["MLFLOW_BACKEND_STORE_URI"] = uri
    del os.environ["DB_PASSWORD"]
    os.execvp("mlflow", ["mlflow", "server", "--app-name", "basic-auth",
                         "--host", "0.0.0.0", "--port", os.environ["MLFLOW_PORT"],
                         "--artifacts-destination", os.environ["ARTIFACTS_DESTINATION"],
                         "--serve-artifacts", "--allowed-hosts", os.environ["ALLOWED_HOSTS"]])
  PY

  db_secret_arn = aws_db_instance.this.master_user_secret[0].secret_arn

  image = regex("^(?P<account>[0-9]{12})\\.dkr\\.ecr\\.(?P<region>[a-z0-9-]+)\\.amazonaws\\.com(?:\\.cn)?/(?P<repository>[^@]+)@", var.mlflow_image)
}

# Database -----------------------------------------------------------------------------------

resource "aws_db_subnet_group" "this" {
  name       = "${var.name_prefix}-mlflow"
  subnet_ids = var.subnet_ids
}

resource "aws_db_parameter_group" "this" {
  name   = "${var.name_prefix}-mlflow-postgres${var.db_engine_version}"
  family = "postgres${var.db_engine_version}"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
  parameter {
    name  = "log_connections"
    value = "1"
  }
  parameter {
    name  = "log_disconnections"
    value = "1"
  }
}

resource "aws_iam_role" "rds_monitoring" {
  name        = "${var.name_prefix}-rds-monitoring"
  description = "RDS enhanced monitoring of the MLflow database"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "monitoring.rds.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = var.account_id } }
    }]
  })
}

resource "aws_iam_role_policy_attachment" "rds_monitoring" {
  role       = aws_iam_role.rds_monitoring.name
  policy_arn = "arn:${var.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "this" {
  identifier     = "${var.name_prefix}-mlflow"
  engine         = "postgres"
  engine_version = var.db_engine_version
  instance_class = var.db_instance_class
  db_name        = local.db_name
  username       = local.db_user

  manage_master_user_password   = true
  master_user_secret_kms_key_id = var.secrets_key_arn

  allocated_storage     = var.db_allocated_storage_gb
  max_allocated_storage = var.db_allocated_storage_gb * 5
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = var.lake_key_arn

  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [var.security_group_ids.database]
  publicly_accessible    = false
  multi_az               = var.db_multi_az
  parameter_group_name   = aws_db_parameter_group.this.name

  iam_database_authentication_enabled = true
  backup_retention_period             = var.db_backup_retention_days
  copy_tags_to_snapshot               = true
  deletion_protection                 = var.deletion_protection
  skip_final_snapshot                 = false
  final_snapshot_identifier           = "${var.name_prefix}-mlflow-final"
  auto_minor_version_upgrade          = true
  enabled_cloudwatch_logs_exports     = ["postgresql", "upgrade"]

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = var.lake_key_arn
  performance_insights_retention_period = 7
  monitoring_interval                   = 60
  monitoring_role_arn                   = aws_iam_role.rds_monitoring.arn

  tags = { Name = "${var.name_prefix}-mlflow" }

  depends_on = [aws_iam_role_policy_attachment.rds_monitoring]
}

# MLflow server ------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "server" {
  name              = "/creditlake/${var.name_prefix}/mlflow-server"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_key_arn
}

resource "aws_iam_role" "execution" {
  name        = var.execution_role_name
  description = "ECS task execution role of the MLflow server: pulls the image, writes logs, injects its secrets"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = var.account_id } }
    }]
  })
}

resource "aws_iam_role_policy" "execution" {
  name = "pull-log-inject-secrets"
  role = aws_iam_role.execution.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # ECR issues registry-wide tokens; the API has no resource to narrow to.
        Sid      = "EcrAuthToken"
        Effect   = "Allow"
        Action   = ["ecr:GetAuthorizationToken"]
        Resource = ["*"]
      },
      {
        Sid      = "PullMlflowImage"
        Effect   = "Allow"
        Action   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
        Resource = ["arn:${var.partition}:ecr:${local.image.region}:${local.image.account}:repository/${local.image.repository}"]
      },
      {
        Sid      = "WriteServerLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${aws_cloudwatch_log_group.server.arn}:*"]
      },
      {
        Sid      = "InjectDatabaseAndAdminSecrets"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = [local.db_secret_arn, var.mlflow_admin_secret_arn]
      },
      {
        Sid       = "DecryptSecrets"
        Effect    = "Allow"
        Action    = ["kms:Decrypt"]
        Resource  = [var.secrets_key_arn]
        Condition = { StringEquals = { "kms:ViaService" = "secretsmanager.${var.region}.amazonaws.com" } }
      },
    ]
  })
}

resource "aws_ecs_cluster" "this" {
  name = "${var.name_prefix}-mlflow"

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_task_definition" "server" {
  family                   = "${var.name_prefix}-mlflow"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 1024
  memory                   = 2048
  task_role_arn            = var.task_role_arn
  execution_role_arn       = aws_iam_role.execution.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "ARM64"
  }

  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([{
    name                   = "mlflow"
    image                  = var.mlflow_image
    essential              = true
    readonlyRootFilesystem = true
    user                   = "1000:1000"
    command                = ["python", "-c", local.entrypoint]
    portMappings           = [{ containerPort = local.port, protocol = "tcp" }]
    mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
    environment = [
      { name = "DB_HOST", value = aws_db_instance.this.address },
      { name = "DB_PORT", value = tostring(aws_db_instance.this.port) },
      { name = "DB_NAME", value = local.db_name },
      { name = "MLFLOW_PORT", value = tostring(local.port) },
      { name = "ARTIFACTS_DESTINATION", value = var.artifacts_uri },
      # The public name, plus private addresses for the load balancer's health checks.
      { name = "ALLOWED_HOSTS", value = "${local.hostname},10.*,172.*,192.168.*,localhost" },
      { name = "HOME", value = "/tmp" },
    ]
    secrets = [
      { name = "DB_USER", valueFrom = "${local.db_secret_arn}:username::" },
      { name = "DB_PASSWORD", valueFrom = "${local.db_secret_arn}:password::" },
      { name = "MLFLOW_AUTH_ADMIN_USERNAME", valueFrom = "${var.mlflow_admin_secret_arn}:username::" },
      { name = "MLFLOW_AUTH_ADMIN_PASSWORD", valueFrom = "${var.mlflow_admin_secret_arn}:password::" },
    ]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.server.name
        "awslogs-region"        = var.region
        "awslogs-stream-prefix" = "mlflow"
      }
    }
  }])
}

resource "aws_lb" "this" {
  #checkov:skip=CKV_AWS_91:ALB access logs can only be written to SSE-S3 buckets and every creditlake bucket is SSE-KMS; the MLflow server logs each request to its KMS-encrypted log group instead.
  #checkov:skip=CKV2_AWS_28:Internal load balancer reachable only from the VPC's Airflow and Spark security groups (and listed client ranges); WAF protects internet-facing endpoints.
  name                       = "${var.name_prefix}-mlflow"
  internal                   = true
  load_balancer_type         = "application"
  subnets                    = var.subnet_ids
  security_groups            = [var.security_group_ids.alb]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
}

resource "aws_lb_target_group" "server" {
  #checkov:skip=CKV_AWS_378:TLS ends at the internal load balancer; the hop to the task stays in private subnets and only the load balancer's security group may open it.
  name        = "${var.name_prefix}-mlflow"
  port        = local.port
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = var.vpc_id

  health_check {
    path                = "/health"
    matcher             = "200"
    interval            = 30
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.server.arn
  }
}

resource "aws_ecs_service" "server" {
  name                   = "mlflow"
  cluster                = aws_ecs_cluster.this.id
  task_definition        = aws_ecs_task_definition.server.arn
  desired_count          = var.desired_count
  launch_type            = "FARGATE"
  platform_version       = "LATEST"
  enable_execute_command = false
  propagate_tags         = "SERVICE"

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [var.security_group_ids.task]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.server.arn
    container_name   = "mlflow"
    container_port   = local.port
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  depends_on = [aws_lb_listener.https]
}

resource "aws_route53_record" "mlflow" {
  count = var.private_zone_id == null ? 0 : 1

  zone_id = var.private_zone_id
  name    = local.hostname
  type    = "A"

  alias {
    name                   = aws_lb.this.dns_name
    zone_id                = aws_lb.this.zone_id
    evaluate_target_health = true
  }
}
