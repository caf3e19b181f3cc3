# EXPECTED TO FAIL. infra/scripts/test.sh runs this file on its own, from live/
# (terraform test -test-directory=tests/bad_input -var-file=../envs/prod.tfvars), and passes only
# if the plan is rejected with each variable's own message, which it prints: this is what a user
# sees for a prod.tfvars with these mistakes. The per-variable checks are in ../prod.tftest.hcl.
mock_provider "aws" {
  source = "../tests/mocks"
}

run "prod_tfvars_with_mistakes" {
  command = plan

  variables {
    landing_retention_days = 0
    bucket_prefix          = "Example-CreditLake-Prod"
    aws_account_id         = "1111-2222-3333"
    mlflow_image           = "111122223333.dkr.ecr.ap-southeast-1.amazonaws.com/creditlake/mlflow:latest"
    airflow_version        = "2.10.3"
    vpc_cidr               = "8.8.0.0/16"
  }
}
