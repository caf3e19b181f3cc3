# One long-running EMR cluster serves both kinds of Spark work creditlake has:
# - jobs (landing -> bronze, behaviour features) reach it through Spark Connect on the primary
#   node (CREDITLAKE_SPARK_MASTER=sc://<primary>:15002), so the same DataFrame-API code runs as
#   on a laptop and only configuration changes;
# - dbt-spark connects to the Spark Thrift Server on port 10001.
# Both use the Glue Data Catalog as the Hive metastore. A cluster was chosen over EMR Serverless
# because Serverless offers neither a Thrift endpoint for dbt nor a Spark Connect endpoint; managed
# scaling keeps its idle cost to the primary node and the minimum of core nodes.

locals {
  thrift_port  = 10001
  connect_port = 15002

  glue_metastore = {
    "hive.metastore.client.factory.class" = "com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory"
  }

  configurations = [
    { Classification = "spark-hive-site", Properties = local.glue_metastore },
    { Classification = "hive-site", Properties = local.glue_metastore },
    {
      Classification = "spark-defaults"
      Properties = {
        "spark.sql.session.timeZone"            = "UTC"
        "spark.sql.parquet.outputTimestampType" = "TIMESTAMP_MICROS"
        "spark.sql.catalogImplementation"       = "hive"
      }
    },
  ]

  server_steps = {
    "Start Spark Thrift Server (dbt-spark)" = [
      "sudo", "/usr/lib/spark/sbin/start-thriftserver.sh",
      "--hiveconf", "hive.server2.thrift.port=${local.thrift_port}",
    ]
    "Start Spark Connect server (creditlake jobs)" = [
      "sudo", "/usr/lib/spark/sbin/start-connect-server.sh",
      "--conf", "spark.connect.grpc.binding.port=${local.connect_port}",
    ]
  }
}

resource "aws_emr_security_configuration" "this" {
  name = "${var.name_prefix}-spark"
  configuration = jsonencode({
    EncryptionConfiguration = {
      EnableAtRestEncryption    = true
      EnableInTransitEncryption = true
      AtRestEncryptionConfiguration = {
        S3EncryptionConfiguration = {
          EncryptionMode = "SSE-KMS"
          AwsKmsKey      = var.lake_key_arn
        }
        LocalDiskEncryptionConfiguration = {
          EncryptionKeyProviderType = "AwsKms"
          AwsKmsKey                 = var.lake_key_arn
          EnableEbsEncryption       = true
        }
      }
      InTransitEncryptionConfiguration = {
        TLSCertificateConfiguration = {
          CertificateProviderType = "PEM"
          S3Object                = var.tls_certificates_s3_uri
        }
      }
    }
    InstanceMetadataServiceConfiguration = {
      MinimumInstanceMetadataServiceVersion = 2
      HttpPutResponseHopLimit               = 1
    }
  })
}

# EMR service role ---------------------------------------------------------------------------

resource "aws_iam_role" "service" {
  name        = "${var.name_prefix}-emr-service"
  description = "EMR service role: manages the cluster's instances in tagged subnets and security groups"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "elasticmapreduce.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = var.account_id } }
    }]
  })
}

# AWS's scoped service policy: it acts only on resources tagged
# for-use-with-amazon-emr-managed-policies=true (the network module tags subnets and groups).
resource "aws_iam_role_policy_attachment" "service" {
  role       = aws_iam_role.service.name
  policy_arn = "arn:${var.partition}:iam::aws:policy/service-role/AmazonEMRServicePolicy_v2"
}

resource "aws_iam_role_policy" "service_pass_role" {
  name = "pass-spark-instance-role"
  role = aws_iam_role.service.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "PassOnlyTheSparkInstanceRole"
      Effect    = "Allow"
      Action    = ["iam:PassRole"]
      Resource  = [var.spark_role_arn]
      Condition = { StringEquals = { "iam:PassedToService" = "ec2.amazonaws.com" } }
    }]
  })
}

# Cluster ------------------------------------------------------------------------------------

resource "aws_emr_cluster" "this" {
  #checkov:skip=CKV2_AWS_7:Its security groups come from the network module, where no rule admits 0.0.0.0/0 (asserted by network.tftest.hcl); checkov does not follow module outputs.
  name                              = "${var.name_prefix}-spark"
  release_label                     = var.release_label
  applications                      = ["Hadoop", "Hive", "Spark"]
  service_role                      = aws_iam_role.service.arn
  security_configuration            = aws_emr_security_configuration.this.name
  log_uri                           = var.log_uri
  log_encryption_kms_key_id         = var.logs_key_arn
  termination_protection            = var.termination_protection
  keep_job_flow_alive_when_no_steps = true
  visible_to_all_users              = true
  configurations_json               = jsonencode(local.configurations)

  ec2_attributes {
    subnet_id                         = var.subnet_id
    emr_managed_master_security_group = var.security_group_ids.master
    emr_managed_slave_security_group  = var.security_group_ids.core
    service_access_security_group     = var.security_group_ids.service
    instance_profile                  = var.instance_profile_arn
  }

  master_instance_group {
    instance_type = var.master_instance_type

    ebs_config {
      size                 = var.ebs_size_gb
      type                 = "gp3"
      volumes_per_instance = 1
    }
  }

  core_instance_group {
    instance_type  = var.core_instance_type
    instance_count = var.core_instance_count

    ebs_config {
      size                 = var.ebs_size_gb
      type                 = "gp3"
      volumes_per_instance = 1
    }
  }

  dynamic "step" {
    for_each = local.server_steps

    content {
      name              = step.key
      action_on_failure = "CONTINUE"

      hadoop_jar_step {
        jar  = "command-runner.jar"
        args = step.value
      }
    }
  }

  lifecycle {
    # Steps run once at start; EMR's later step history must not force a new cluster.
    ignore_changes = [step]
  }

  tags = { Name = "${var.name_prefix}-spark" }

  depends_on = [aws_iam_role_policy_attachment.service, aws_iam_role_policy.service_pass_role]
}

resource "aws_emr_managed_scaling_policy" "this" {
  cluster_id = aws_emr_cluster.this.id

  compute_limits {
    unit_type              = "Instances"
    minimum_capacity_units = var.core_instance_count + 1
    maximum_capacity_units = var.max_capacity_units
  }
}
