# Shared mock data for `mock_provider "aws" { source = ... }` in every terraform test.
#
# The mocked provider still validates arguments, and a few arguments must be ARNs; the values it
# would invent for computed attributes are random strings. These defaults give those attributes
# well-formed (fake) ARNs so a mocked apply of one resource can feed the next.

mock_resource "aws_kms_key" {
  defaults = {
    arn    = "arn:aws:kms:ap-southeast-1:111122223333:key/00000000-0000-0000-0000-000000000000"
    key_id = "00000000-0000-0000-0000-000000000000"
  }
}

mock_resource "aws_secretsmanager_secret" {
  defaults = {
    arn = "arn:aws:secretsmanager:ap-southeast-1:111122223333:secret:creditlake-mock-AbCdEf"
  }
}

mock_resource "aws_iam_role" {
  defaults = {
    arn = "arn:aws:iam::111122223333:role/creditlake-mock"
  }
}

mock_resource "aws_iam_instance_profile" {
  defaults = {
    arn = "arn:aws:iam::111122223333:instance-profile/creditlake-mock"
  }
}

mock_resource "aws_cloudwatch_log_group" {
  defaults = {
    arn = "arn:aws:logs:ap-southeast-1:111122223333:log-group:creditlake-mock"
  }
}

mock_resource "aws_lb" {
  defaults = {
    arn      = "arn:aws:elasticloadbalancing:ap-southeast-1:111122223333:loadbalancer/app/creditlake-mock/0123456789abcdef"
    dns_name = "internal-creditlake-mock-123456789.ap-southeast-1.elb.amazonaws.com"
    zone_id  = "Z1LMS91P8CMLE5"
  }
}

mock_resource "aws_lb_target_group" {
  defaults = {
    arn = "arn:aws:elasticloadbalancing:ap-southeast-1:111122223333:targetgroup/creditlake-mock/0123456789abcdef"
  }
}

mock_resource "aws_ecs_cluster" {
  defaults = {
    arn = "arn:aws:ecs:ap-southeast-1:111122223333:cluster/creditlake-mock"
  }
}

mock_resource "aws_ecs_task_definition" {
  defaults = {
    arn = "arn:aws:ecs:ap-southeast-1:111122223333:task-definition/creditlake-mock:1"
  }
}

mock_resource "aws_db_instance" {
  defaults = {
    arn      = "arn:aws:rds:ap-southeast-1:111122223333:db:creditlake-mock"
    address  = "creditlake-mock.abcdefghijkl.ap-southeast-1.rds.amazonaws.com"
    endpoint = "creditlake-mock.abcdefghijkl.ap-southeast-1.rds.amazonaws.com:5432"
    port     = 5432
    master_user_secret = [{
      kms_key_id    = "arn:aws:kms:ap-southeast-1:111122223333:key/00000000-0000-0000-0000-000000000000"
      secret_arn    = "arn:aws:secretsmanager:ap-southeast-1:111122223333:secret:rds!db-mock-AbCdEf"
      secret_status = "active"
    }]
  }
}

mock_resource "aws_emr_cluster" {
  defaults = {
    arn               = "arn:aws:elasticmapreduce:ap-southeast-1:111122223333:cluster/j-MOCK"
    master_public_dns = "ip-10-40-0-10.ap-southeast-1.compute.internal"
  }
}

mock_resource "aws_mwaa_environment" {
  defaults = {
    arn           = "arn:aws:airflow:ap-southeast-1:111122223333:environment/creditlake-mock"
    webserver_url = "mock.airflow.ap-southeast-1.on.aws"
  }
}

mock_resource "aws_s3_object" {
  defaults = {
    version_id = "mockversion"
  }
}

mock_resource "aws_security_group" {
  defaults = {
    arn = "arn:aws:ec2:ap-southeast-1:111122223333:security-group/sg-0mock"
  }
}

mock_resource "aws_vpc" {
  defaults = {
    arn      = "arn:aws:ec2:ap-southeast-1:111122223333:vpc/vpc-0mock"
    owner_id = "111122223333"
  }
}
