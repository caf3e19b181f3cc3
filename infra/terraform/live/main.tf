# creditlake on AWS: the one root configuration of every environment. It composes the modules;
# what differs between dev and prod is only values: ../envs/<env>.tfvars (account, names, sizes)
# and ../envs/<env>.s3.tfbackend (where the state lives). Both environments get the same controls,
# so what is tested in dev is what runs in prod: the protective settings (deletion protection,
# Multi-AZ database, EMR termination protection, no force-destroy) are fixed here rather than left
# to a variable.

locals {
  name      = "creditlake-${var.environment}"
  partition = startswith(var.region, "cn-") ? "aws-cn" : (startswith(var.region, "us-gov-") ? "aws-us-gov" : "aws")

  role_names = {
    airflow    = "${local.name}-airflow"
    spark      = "${local.name}-spark"
    mlflow     = "${local.name}-mlflow"
    governance = "${local.name}-governance"
  }
  mlflow_execution_role_name = "${local.name}-mlflow-exec"
  # Role ARNs follow from their names, which lets the secrets name their readers without a
  # dependency cycle (the roles' policies name the secrets).
  role_arn = {
    for key, role in merge(local.role_names, { mlflow_execution = local.mlflow_execution_role_name }) :
    key => "arn:${local.partition}:iam::${var.aws_account_id}:role/${role}"
  }

  # creditlake's settings (creditlake/settings.py), one-to-one from the modules' outputs; the
  # PII key and MLflow credentials come from Secrets Manager at run time, never from here:
  # creditlake reads <CREDITLAKE_SECRETS_PREFIX>/pii-key, the name the secrets module gives it.
  creditlake_environment = {
    CREDITLAKE_HOME                 = "/usr/local/airflow/creditlake"
    CREDITLAKE_LANDING_URI          = module.lake_storage.landing_uri
    CREDITLAKE_CATALOG_TYPE         = "glue"
    CREDITLAKE_CATALOG_WAREHOUSE    = "s3://${module.lake_storage.bucket_names.lake}"
    CREDITLAKE_CATALOG_REGION       = var.region
    CREDITLAKE_SPARK_MASTER         = module.spark.spark_master
    MLFLOW_TRACKING_URI             = module.ml.tracking_uri
    CREDITLAKE_MLFLOW_ARTIFACT_ROOT = "mlflow-artifacts:/"
    CREDITLAKE_SECRETS_BACKEND      = "aws"
    CREDITLAKE_SECRETS_PREFIX       = module.secrets.secrets_prefix
  }
}

module "kms" {
  source = "../modules/kms"

  name_prefix = local.name
  account_id  = var.aws_account_id
  region      = var.region
  partition   = local.partition
}

module "network" {
  source = "../modules/network"

  name_prefix         = local.name
  region              = var.region
  cidr_block          = var.vpc_cidr
  availability_zones  = var.availability_zones
  logs_key_arn        = module.kms.logs_key_arn
  mlflow_client_cidrs = var.mlflow_client_cidrs
}

module "lake_storage" {
  source = "../modules/lake_storage"

  bucket_prefix                     = var.bucket_prefix
  account_id                        = var.aws_account_id
  partition                         = local.partition
  lake_key_arn                      = module.kms.lake_key_arn
  logs_key_arn                      = module.kms.logs_key_arn
  landing_retention_days            = var.landing_retention_days
  noncurrent_version_retention_days = var.noncurrent_version_retention_days
  access_log_retention_days         = var.access_log_retention_days
  force_destroy                     = false
}

module "catalog" {
  source = "../modules/catalog"

  lake_bucket_name = module.lake_storage.bucket_names.lake
  lake_key_arn     = module.kms.lake_key_arn
}

module "secrets" {
  source = "../modules/secrets"

  name_prefix                   = local.name
  secrets_key_arn               = module.kms.secrets_key_arn
  pii_key_reader_arns           = [local.role_arn.airflow]
  mlflow_credential_reader_arns = [local.role_arn.airflow, local.role_arn.mlflow_execution]
}

module "iam" {
  source = "../modules/iam"

  partition                 = local.partition
  account_id                = var.aws_account_id
  region                    = var.region
  role_names                = local.role_names
  bucket_arns               = module.lake_storage.bucket_arns
  lake_key_arn              = module.kms.lake_key_arn
  logs_key_arn              = module.kms.logs_key_arn
  secrets_key_arn           = module.kms.secrets_key_arn
  pii_key_secret_arn        = module.secrets.pii_key_secret_arn
  mlflow_admin_secret_arn   = module.secrets.mlflow_admin_secret_arn
  glue_database_names       = module.catalog.database_names
  mwaa_environment_name     = local.name
  governance_principal_arns = var.governance_principal_arns
}

module "spark" {
  source = "../modules/spark"

  name_prefix             = local.name
  account_id              = var.aws_account_id
  partition               = local.partition
  release_label           = var.emr_release_label
  subnet_id               = module.network.private_subnet_ids[0]
  instance_profile_arn    = module.iam.spark_instance_profile_arn
  spark_role_arn          = module.iam.spark_role_arn
  lake_key_arn            = module.kms.lake_key_arn
  logs_key_arn            = module.kms.logs_key_arn
  log_uri                 = module.lake_storage.emr_log_uri
  tls_certificates_s3_uri = var.emr_tls_certificates_s3_uri
  master_instance_type    = var.emr_instance_type
  core_instance_type      = var.emr_instance_type
  core_instance_count     = var.emr_core_instance_count
  max_capacity_units      = var.emr_max_capacity_units
  termination_protection  = true
  security_group_ids = {
    master  = module.network.security_group_ids.spark_master
    core    = module.network.security_group_ids.spark_core
    service = module.network.security_group_ids.spark_service
  }
}

module "ml" {
  source = "../modules/ml"

  name_prefix             = local.name
  account_id              = var.aws_account_id
  region                  = var.region
  partition               = local.partition
  vpc_id                  = module.network.vpc_id
  subnet_ids              = module.network.private_subnet_ids
  lake_key_arn            = module.kms.lake_key_arn
  secrets_key_arn         = module.kms.secrets_key_arn
  logs_key_arn            = module.kms.logs_key_arn
  artifacts_uri           = module.lake_storage.mlflow_artifacts_uri
  task_role_arn           = module.iam.mlflow_role_arn
  execution_role_name     = local.mlflow_execution_role_name
  mlflow_admin_secret_arn = module.secrets.mlflow_admin_secret_arn
  mlflow_image            = var.mlflow_image
  mlflow_hostname         = var.mlflow_hostname
  certificate_arn         = var.mlflow_certificate_arn
  private_zone_id         = var.private_zone_id
  db_instance_class       = var.db_instance_class
  db_multi_az             = true
  deletion_protection     = true
  security_group_ids = {
    alb      = module.network.security_group_ids.mlflow_alb
    task     = module.network.security_group_ids.mlflow_task
    database = module.network.security_group_ids.database
  }
}

module "orchestration" {
  source = "../modules/orchestration"

  name                    = local.name
  airflow_version         = var.airflow_version
  environment_class       = var.mwaa_environment_class
  max_workers             = var.mwaa_max_workers
  execution_role_arn      = module.iam.airflow_role_arn
  source_bucket_arn       = module.lake_storage.bucket_arns.airflow
  source_bucket_name      = module.lake_storage.bucket_names.airflow
  requirements_s3_path    = var.mwaa_requirements_s3_path
  subnet_ids              = slice(module.network.private_subnet_ids, 0, 2)
  security_group_ids      = [module.network.security_group_ids.airflow]
  kms_key_arn             = module.kms.lake_key_arn
  creditlake_environment  = local.creditlake_environment
  mlflow_admin_secret_arn = module.secrets.mlflow_admin_secret_arn
}
