# One security group per workload. Rules are separate resources so EMR can add the rules it
# manages to its own groups without Terraform removing them. No rule admits 0.0.0.0/0: every
# source is another group of this VPC, the VPC's own range, or a listed client range.

locals {
  groups = {
    endpoints     = "Interface VPC endpoints: HTTPS from inside the VPC"
    airflow       = "MWAA scheduler, workers and web server"
    spark_master  = "EMR primary node: Spark Thrift (dbt) and Spark Connect (jobs) for Airflow"
    spark_core    = "EMR core and task nodes"
    spark_service = "EMR service access (required for clusters in private subnets)"
    mlflow_alb    = "Internal load balancer in front of the MLflow server"
    mlflow_task   = "MLflow server tasks on ECS Fargate"
    database      = "PostgreSQL backend store of MLflow"
  }

  ports = {
    https         = 443
    spark_thrift  = 10001
    spark_connect = 15002
    mlflow        = 5000
    postgres      = 5432
    emr_service   = 9443
  }

  # source group -> destination group -> port; the same list writes both ends of each rule.
  group_flows = [
    { from = "airflow", to = "spark_master", port = local.ports.spark_thrift },
    { from = "airflow", to = "spark_master", port = local.ports.spark_connect },
    { from = "airflow", to = "mlflow_alb", port = local.ports.https },
    { from = "spark_master", to = "mlflow_alb", port = local.ports.https },
    { from = "spark_core", to = "mlflow_alb", port = local.ports.https },
    { from = "mlflow_alb", to = "mlflow_task", port = local.ports.mlflow },
    { from = "mlflow_task", to = "database", port = local.ports.postgres },
    { from = "spark_master", to = "spark_service", port = local.ports.emr_service },
  ]
  group_flow_map = { for flow in local.group_flows : "${flow.from}-${flow.to}-${flow.port}" => flow }

  # Groups whose members call AWS APIs (interface endpoints in the VPC, S3 through the gateway).
  aws_api_callers = toset(["airflow", "spark_master", "spark_core", "mlflow_task"])
}

resource "aws_security_group" "this" {
  #checkov:skip=CKV2_AWS_5:Attached by the spark (EMR), ml (ALB, ECS, RDS) and orchestration (MWAA) modules through this module's outputs, which checkov's graph does not follow.
  for_each = local.groups

  name                   = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  description            = each.value
  vpc_id                 = aws_vpc.this.id
  revoke_rules_on_delete = true

  tags = { Name = "${var.name_prefix}-${replace(each.key, "_", "-")}" }
}

resource "aws_vpc_security_group_ingress_rule" "flows" {
  for_each = local.group_flow_map

  security_group_id            = aws_security_group.this[each.value.to].id
  referenced_security_group_id = aws_security_group.this[each.value.from].id
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  description                  = "${each.value.from} to ${each.value.to} on ${each.value.port}"
}

resource "aws_vpc_security_group_egress_rule" "flows" {
  for_each = local.group_flow_map

  security_group_id            = aws_security_group.this[each.value.from].id
  referenced_security_group_id = aws_security_group.this[each.value.to].id
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  description                  = "${each.value.from} to ${each.value.to} on ${each.value.port}"
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_from_vpc" {
  security_group_id = aws_security_group.this["endpoints"].id
  cidr_ipv4         = var.cidr_block
  ip_protocol       = "tcp"
  from_port         = local.ports.https
  to_port           = local.ports.https
  description       = "HTTPS to AWS APIs from inside the VPC"
}

resource "aws_vpc_security_group_egress_rule" "aws_apis_in_vpc" {
  for_each = local.aws_api_callers

  security_group_id            = aws_security_group.this[each.value].id
  referenced_security_group_id = aws_security_group.this["endpoints"].id
  ip_protocol                  = "tcp"
  from_port                    = local.ports.https
  to_port                      = local.ports.https
  description                  = "HTTPS to the interface endpoints"
}

resource "aws_vpc_security_group_egress_rule" "s3_gateway" {
  for_each = local.aws_api_callers

  security_group_id = aws_security_group.this[each.value].id
  prefix_list_id    = aws_vpc_endpoint.s3.prefix_list_id
  ip_protocol       = "tcp"
  from_port         = local.ports.https
  to_port           = local.ports.https
  description       = "HTTPS to S3 through the gateway endpoint"
}

# MWAA requires its group to admit itself on all ports (scheduler, workers and web server talk
# to each other and to the environment's own endpoints).
resource "aws_vpc_security_group_ingress_rule" "airflow_self" {
  security_group_id            = aws_security_group.this["airflow"].id
  referenced_security_group_id = aws_security_group.this["airflow"].id
  ip_protocol                  = "-1"
  description                  = "MWAA components talk to each other"
}

resource "aws_vpc_security_group_egress_rule" "airflow_self" {
  security_group_id            = aws_security_group.this["airflow"].id
  referenced_security_group_id = aws_security_group.this["airflow"].id
  ip_protocol                  = "-1"
  description                  = "MWAA components talk to each other"
}

resource "aws_vpc_security_group_ingress_rule" "mlflow_clients" {
  for_each = toset(var.mlflow_client_cidrs)

  security_group_id = aws_security_group.this["mlflow_alb"].id
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = local.ports.https
  to_port           = local.ports.https
  description       = "MLflow UI and API from ${each.value}"
}
