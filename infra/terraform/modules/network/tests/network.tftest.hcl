# Offline: the AWS provider is mocked, so these runs plan and "apply" without an account.
mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name_prefix         = "creditlake-test"
  region              = "ap-southeast-1"
  cidr_block          = "10.40.0.0/16"
  availability_zones  = ["ap-southeast-1a", "ap-southeast-1b"]
  logs_key_arn        = "arn:aws:kms:ap-southeast-1:111122223333:key/logs"
  mlflow_client_cidrs = ["10.99.0.0/16"]
}

run "private_subnets_only" {
  command = plan

  assert {
    condition     = toset([for subnet in aws_subnet.private : subnet.cidr_block]) == toset(["10.40.0.0/20", "10.40.16.0/20"])
    error_message = "Expected one /20 private subnet per zone."
  }

  assert {
    condition     = alltrue([for subnet in aws_subnet.private : !subnet.map_public_ip_on_launch])
    error_message = "No subnet may hand out public addresses."
  }
}

run "no_open_ingress_private_routes_logged_traffic" {
  command = apply

  assert {
    condition = alltrue(concat(
      [for rule in aws_vpc_security_group_ingress_rule.flows : rule.cidr_ipv4 == null && rule.referenced_security_group_id != null],
      [for rule in aws_vpc_security_group_ingress_rule.mlflow_clients : rule.cidr_ipv4 != "0.0.0.0/0"],
      [aws_vpc_security_group_ingress_rule.endpoints_from_vpc.cidr_ipv4 == "10.40.0.0/16"],
      [aws_vpc_security_group_ingress_rule.airflow_self.cidr_ipv4 == null],
    ))
    error_message = "Ingress must come from other security groups, the VPC range or listed client ranges, never 0.0.0.0/0."
  }

  assert {
    condition     = toset([for rule in aws_vpc_security_group_ingress_rule.flows : rule.from_port]) == toset([443, 5000, 5432, 9443, 10001, 15002])
    error_message = "Only the HTTPS, MLflow, PostgreSQL, EMR service, Thrift and Spark Connect ports are opened between groups."
  }

  assert {
    condition     = alltrue([for rule in aws_vpc_security_group_egress_rule.s3_gateway : rule.cidr_ipv4 == null && rule.from_port == 443])
    error_message = "Egress to S3 goes to the gateway endpoint's prefix list on 443 only."
  }

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.mlflow_clients) == 1
    error_message = "The listed client range must be admitted to the MLflow load balancer."
  }

  assert {
    condition     = aws_vpc_endpoint.s3.vpc_endpoint_type == "Gateway" && aws_vpc_endpoint.s3.service_name == "com.amazonaws.ap-southeast-1.s3"
    error_message = "S3 must be reached through a gateway endpoint."
  }

  assert {
    condition     = aws_vpc_endpoint.s3.route_table_ids == toset([aws_route_table.private.id])
    error_message = "The S3 endpoint must serve the private route table."
  }

  assert {
    condition     = alltrue([for endpoint in aws_vpc_endpoint.interface : endpoint.private_dns_enabled && endpoint.security_group_ids == toset([aws_security_group.this["endpoints"].id])])
    error_message = "Interface endpoints must use private DNS and the endpoints security group."
  }

  assert {
    condition     = aws_flow_log.this.traffic_type == "ALL" && aws_flow_log.this.log_destination == aws_cloudwatch_log_group.flow_logs.arn
    error_message = "All VPC traffic must be logged to the flow-log group."
  }

  assert {
    condition     = aws_cloudwatch_log_group.flow_logs.kms_key_id == var.logs_key_arn && aws_cloudwatch_log_group.flow_logs.retention_in_days == 365
    error_message = "Flow logs must be encrypted with the logs key and kept a year."
  }

  assert {
    condition = alltrue([
      for statement in jsondecode(aws_iam_role_policy.flow_logs.policy).Statement :
      alltrue([for action in statement.Action : !strcontains(action, "*")])
    ])
    error_message = "The flow-log role's actions must be spelled out."
  }
}

run "rejects_bad_input" {
  command = plan

  variables {
    mlflow_client_cidrs = ["0.0.0.0/0"]
    availability_zones  = ["ap-southeast-1a"]
  }

  # Each listed variable must reject its bad value; any other error fails the run.
  expect_failures = [var.mlflow_client_cidrs, var.availability_zones]
}
