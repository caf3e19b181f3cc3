# Offline: the AWS provider is mocked, so these runs plan and "apply" without an account.
mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name_prefix             = "creditlake-test"
  account_id              = "111122223333"
  release_label           = "emr-7.10.0"
  subnet_id               = "subnet-0123456789abcdef0"
  instance_profile_arn    = "arn:aws:iam::111122223333:instance-profile/creditlake-test-spark"
  spark_role_arn          = "arn:aws:iam::111122223333:role/creditlake-test-spark"
  lake_key_arn            = "arn:aws:kms:ap-southeast-1:111122223333:key/lake"
  logs_key_arn            = "arn:aws:kms:ap-southeast-1:111122223333:key/logs"
  log_uri                 = "s3://acme-test-access-logs/emr/"
  tls_certificates_s3_uri = "s3://acme-test-lake/config/emr-tls.zip"
  security_group_ids = {
    master  = "sg-0000000000000000a"
    core    = "sg-0000000000000000b"
    service = "sg-0000000000000000c"
  }
}

run "encrypted_cluster_on_the_glue_catalog" {
  command = plan

  assert {
    condition     = jsondecode(aws_emr_security_configuration.this.configuration).EncryptionConfiguration.AtRestEncryptionConfiguration.S3EncryptionConfiguration == { EncryptionMode = "SSE-KMS", AwsKmsKey = var.lake_key_arn }
    error_message = "EMR must write S3 with SSE-KMS and the lake key."
  }

  assert {
    condition     = jsondecode(aws_emr_security_configuration.this.configuration).EncryptionConfiguration.AtRestEncryptionConfiguration.LocalDiskEncryptionConfiguration.EnableEbsEncryption
    error_message = "EMR local disks and EBS volumes must be encrypted."
  }

  assert {
    condition     = jsondecode(aws_emr_security_configuration.this.configuration).EncryptionConfiguration.EnableInTransitEncryption
    error_message = "EMR must encrypt traffic between nodes."
  }

  assert {
    condition     = jsondecode(aws_emr_security_configuration.this.configuration).InstanceMetadataServiceConfiguration.MinimumInstanceMetadataServiceVersion == 2
    error_message = "EMR nodes must require IMDSv2."
  }

  assert {
    condition     = aws_emr_cluster.this.log_encryption_kms_key_id == var.logs_key_arn && aws_emr_cluster.this.log_uri == var.log_uri
    error_message = "Cluster logs must go to the log bucket, encrypted with the logs key."
  }

  assert {
    condition = alltrue([
      for classification in ["spark-hive-site", "hive-site"] : anytrue([
        for configuration in jsondecode(aws_emr_cluster.this.configurations_json) :
        configuration.Classification == classification && try(configuration.Properties["hive.metastore.client.factory.class"], "") == "com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory"
      ])
    ])
    error_message = "Spark and Hive must use the Glue Data Catalog as metastore."
  }

  assert {
    condition     = aws_emr_cluster.this.ec2_attributes[0].subnet_id == var.subnet_id && aws_emr_cluster.this.ec2_attributes[0].service_access_security_group == var.security_group_ids.service
    error_message = "The cluster must run in the private subnet with a service-access group."
  }

  assert {
    condition     = toset([for step in aws_emr_cluster.this.step : step.hadoop_jar_step[0].args[1]]) == toset(["/usr/lib/spark/sbin/start-thriftserver.sh", "/usr/lib/spark/sbin/start-connect-server.sh"])
    error_message = "The cluster must start the Thrift (dbt) and Spark Connect (jobs) servers."
  }

  assert {
    condition     = endswith(aws_iam_role_policy_attachment.service.policy_arn, "service-role/AmazonEMRServicePolicy_v2") && !strcontains(aws_iam_role_policy_attachment.service.policy_arn, "AdministratorAccess")
    error_message = "The EMR service role must use the scoped v2 service policy, never an administrator policy."
  }

  assert {
    condition     = jsondecode(aws_iam_role_policy.service_pass_role.policy).Statement[0].Resource == [var.spark_role_arn]
    error_message = "The EMR service role may pass only the Spark instance role."
  }
}

run "outputs_spark_connect_url" {
  command = apply

  assert {
    condition     = output.spark_master == "sc://ip-10-40-0-10.ap-southeast-1.compute.internal:15002"
    error_message = "spark_master (CREDITLAKE_SPARK_MASTER) must be the primary node's Spark Connect URL, got ${output.spark_master}."
  }

  assert {
    condition     = output.thrift_port == 10001
    error_message = "dbt-spark's Thrift port is 10001."
  }
}

run "rejects_bad_input" {
  command = plan

  variables {
    release_label           = "7.10"
    tls_certificates_s3_uri = "s3://acme-test-lake/config/cert.pem"
  }

  # Each listed variable must reject its bad value; any other error fails the run.
  expect_failures = [var.release_label, var.tls_certificates_s3_uri]
}
