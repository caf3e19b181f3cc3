# Offline: the AWS provider is mocked, so these runs plan without an account.
mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  account_id = "111122223333"
  region     = "ap-southeast-1"
  role_names = {
    airflow    = "creditlake-test-airflow"
    spark      = "creditlake-test-spark"
    mlflow     = "creditlake-test-mlflow"
    governance = "creditlake-test-governance"
  }
  bucket_arns = {
    landing     = "arn:aws:s3:::acme-test-landing"
    lake        = "arn:aws:s3:::acme-test-lake"
    ml          = "arn:aws:s3:::acme-test-ml"
    airflow     = "arn:aws:s3:::acme-test-airflow"
    access_logs = "arn:aws:s3:::acme-test-access-logs"
  }
  lake_key_arn            = "arn:aws:kms:ap-southeast-1:111122223333:key/lake"
  logs_key_arn            = "arn:aws:kms:ap-southeast-1:111122223333:key/logs"
  secrets_key_arn         = "arn:aws:kms:ap-southeast-1:111122223333:key/secrets"
  pii_key_secret_arn      = "arn:aws:secretsmanager:ap-southeast-1:111122223333:secret:creditlake-test/pii-key-AbCdEf"
  mlflow_admin_secret_arn = "arn:aws:secretsmanager:ap-southeast-1:111122223333:secret:creditlake-test/mlflow-admin-GhIjKl"
  glue_database_names = {
    bronze       = "bronze"
    staging      = "staging"
    intermediate = "intermediate"
    marts        = "marts"
  }
  mwaa_environment_name     = "creditlake-test"
  governance_principal_arns = ["arn:aws:iam::111122223333:role/risk-governance"]
}

run "least_privilege_per_workload" {
  command = plan

  assert {
    condition     = toset(keys(aws_iam_role.this)) == toset(["airflow", "spark", "mlflow", "governance"])
    error_message = "Expected one role each for airflow, spark, mlflow and governance."
  }

  assert {
    condition     = toset(keys(aws_iam_role_policy.this)) == toset(keys(aws_iam_role.this))
    error_message = "Every role needs exactly its own least-privilege policy."
  }

  assert {
    condition     = aws_iam_role.this["governance"].name == "creditlake-test-governance"
    error_message = "Role names must come from role_names."
  }

  assert {
    condition     = jsondecode(aws_iam_role.this["governance"].assume_role_policy).Statement[0].Principal.AWS == ["arn:aws:iam::111122223333:role/risk-governance"]
    error_message = "Only the listed governance principals may assume the governance role."
  }

  assert {
    condition = alltrue(flatten([
      for policy in aws_iam_role_policy.this : [
        for statement in jsondecode(policy.policy).Statement : [
          for action in flatten([statement.Action]) : action != "*" && !endswith(action, ":*")
        ]
      ]
    ]))
    error_message = "No IAM statement may use a '*' or '<service>:*' action."
  }

  assert {
    condition = alltrue(flatten([
      for policy in aws_iam_role_policy.this : [
        for statement in jsondecode(policy.policy).Statement : [
          for action in flatten([statement.Action]) : !strcontains(action, "*")
        ]
      ]
    ]))
    error_message = "Actions are spelled out in full (no partial wildcards such as s3:Get*)."
  }

  assert {
    condition = alltrue(flatten([
      for policy in aws_iam_role_policy.this : [
        for statement in jsondecode(policy.policy).Statement :
        contains(["s3:GetAccountPublicAccessBlock", "cloudwatch:PutMetricData"], one(flatten([statement.Action])))
        if contains(flatten([statement.Resource]), "*")
      ]
    ]))
    error_message = "A '*' resource is allowed only for APIs without resource ARNs (s3:GetAccountPublicAccessBlock, cloudwatch:PutMetricData)."
  }

  assert {
    condition = toset(flatten([
      for statement in jsondecode(aws_iam_role_policy.this["governance"].policy).Statement :
      flatten([statement.Resource]) if statement.Effect == "Allow" && contains(flatten([statement.Action]), "s3:GetObject")
    ])) == toset(["arn:aws:s3:::acme-test-lake/reports/*", "arn:aws:s3:::acme-test-lake/warehouse/marts/*"])
    error_message = "Governance may read objects only under reports/ and warehouse/marts/."
  }

  assert {
    condition = !anytrue(flatten([
      for statement in jsondecode(aws_iam_role_policy.this["governance"].policy).Statement : [
        for resource in flatten([statement.Resource]) :
        strcontains(resource, "bronze") || strcontains(resource, "secret") || resource == var.secrets_key_arn
      ] if statement.Effect == "Allow"
    ]))
    error_message = "Governance must not be allowed anything on bronze, a secret or the secrets key."
  }

  assert {
    condition = anytrue([
      for statement in jsondecode(aws_iam_role_policy.this["governance"].policy).Statement :
      statement.Effect == "Deny" && contains(flatten([statement.Resource]), "arn:aws:s3:::acme-test-lake/bronze/*")
    ])
    error_message = "Governance must be explicitly denied bronze objects."
  }

  assert {
    condition = anytrue([
      for statement in jsondecode(aws_iam_role_policy.this["governance"].policy).Statement :
      statement.Effect == "Deny" && contains(flatten([statement.Resource]), var.pii_key_secret_arn) && contains(flatten([statement.Action]), "secretsmanager:GetSecretValue")
    ])
    error_message = "Governance must be explicitly denied the PII key."
  }

  assert {
    condition = alltrue(flatten([
      for statement in jsondecode(aws_iam_role_policy.this["governance"].policy).Statement : [
        for action in flatten([statement.Action]) : startswith(action, "s3:Get") || startswith(action, "s3:List") || startswith(action, "glue:Get") || contains(["kms:Decrypt", "kms:DescribeKey"], action)
      ] if statement.Effect == "Allow"
    ]))
    error_message = "Governance may only read (s3:Get*/List*, glue:Get*, kms:Decrypt)."
  }

  assert {
    condition = [
      for workload, policy in aws_iam_role_policy.this : workload
      if anytrue([for statement in jsondecode(policy.policy).Statement : statement.Effect == "Allow" && contains(flatten([statement.Resource]), var.pii_key_secret_arn)])
    ] == ["airflow"]
    error_message = "Only the Airflow role may read the PII key secret."
  }

  assert {
    condition = anytrue([
      for statement in jsondecode(aws_iam_role_policy.this["spark"].policy).Statement :
      contains(flatten([statement.Resource]), "arn:aws:s3:::acme-test-lake/*") && contains(flatten([statement.Action]), "s3:PutObject")
    ])
    error_message = "Spark must be able to write the lake."
  }

  assert {
    condition = !anytrue([
      for statement in jsondecode(aws_iam_role_policy.this["spark"].policy).Statement :
      contains(flatten([statement.Resource]), "arn:aws:s3:::acme-test-landing/*") && contains(flatten([statement.Action]), "s3:PutObject")
    ])
    error_message = "Spark must not write landing: it is kept exactly as delivered."
  }
}

run "rejects_bad_input" {
  command = plan

  variables {
    governance_principal_arns = []
  }

  # Each listed variable must reject its bad value; any other error fails the run.
  expect_failures = [var.governance_principal_arns]
}
