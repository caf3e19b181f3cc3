# Secrets Manager entries, created empty. No secret value appears in code, in variables or in the
# Terraform state: an operator puts each value once with the AWS CLI (see README), and the
# database password is generated and rotated by RDS itself (the ml module's managed master
# password). Each secret's resource policy names who may read it.
#
# Names are <name_prefix>/<name>, the name creditlake's secrets backend reads with
# CREDITLAKE_SECRETS_BACKEND=aws and CREDITLAKE_SECRETS_PREFIX=<name_prefix>: the PII key is
# creditlake's secret "pii-key" (creditlake.secrets.PII_KEY).

locals {
  secrets = {
    pii_key = {
      description = "HMAC key of creditlake's PII tokens (Settings.pii_key reads <prefix>/pii-key with CREDITLAKE_SECRETS_BACKEND=aws): at least 32 random bytes, hex. Never rotate in place: tokens must stay joinable across history."
      readers     = var.pii_key_reader_arns
    }
    mlflow_admin = {
      description = "MLflow basic-auth admin as JSON {\"username\": ..., \"password\": ...}; the server creates the user from it on first start."
      readers     = var.mlflow_credential_reader_arns
    }
  }
}

resource "aws_secretsmanager_secret" "this" {
  #checkov:skip=CKV2_AWS_57:Neither value can rotate automatically: a new PII key would orphan every existing token, and MLflow keeps its admin password in its own user store (rotate through its API).
  for_each = local.secrets

  name                    = "${var.name_prefix}/${replace(each.key, "_", "-")}"
  description             = each.value.description
  kms_key_id              = var.secrets_key_arn
  recovery_window_in_days = var.recovery_window_in_days

  tags = { Secret = each.key }
}

resource "aws_secretsmanager_secret_policy" "this" {
  for_each = local.secrets

  secret_arn = aws_secretsmanager_secret.this[each.key].arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "OnlyNamedReaders"
      Effect    = "Deny"
      Principal = "*"
      Action    = ["secretsmanager:GetSecretValue"]
      Resource  = "*"
      Condition = { ArnNotEquals = { "aws:PrincipalArn" = each.value.readers } }
    }]
  })
}
