#!/usr/bin/env python3
"""Writes a deterministic, realistic IaC tree for the IaC benchmark: Terraform and CloudFormation.

    python3 bench/gen_iac.py OUT --files 1000 [--seed 11]

OUT gets (all text written here, seeded, no network):

  terraform/modules/network/            aws_vpc.this (count), subnets (for_each), calls ./flow-logs
  terraform/modules/network/flow-logs/  log group (retention from the caller), IAM role, aws_flow_log
  terraform/modules/client-vpn/         aws_ec2_client_vpn_endpoint, connection logging on or off
  terraform/modules/site-vpn/           aws_vpn_connection, each tunnel's logging on or off
  terraform/<env>/<region>/             root modules: main.tf, variables.tf, terraform.tfvars
  cloudformation/<env>-<region>-N.yaml|json   templates with the same mix

A root calls `../../modules/network` once per entry of its `vpcs` map (`for_each` over a `local`
filtered from the tfvars), passing the flow-log switch, traffic type and retention (30, 365 or null:
never expire); some roots also declare a VPC of their own (`count`, its id through
`try(aws_vpc.shared[0].id, "")`), adopt the default VPC, and call the VPN modules. Templates use
Parameters with defaults, Conditions, short-form (YAML) and long-form (JSON) intrinsics.

The generator also counts what it declared, so a benchmark can say what each tool should report:
`expected` in the returned summary (and printed here). Not run by the tests.
"""
import argparse
import json
import os
import random
import shutil

ENV_STAGES = ["prod", "staging", "dev"]
TEAMS = ["payments", "search", "identity", "ledger", "media", "edge", "data", "mobile", "billing",
         "catalog", "risk", "growth", "support", "infra", "ml"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "ap-northeast-1"]
VPC_KEYS = ["core", "data", "edge"]
RETENTIONS = [30, 365, None]
MODULE_FILES = 6  # network (3), flow-logs (1), client-vpn (1), site-vpn (1)
ROOT_FILES = 3    # main.tf, variables.tf, terraform.tfvars
ACCOUNT = "111122223333"


def hcl(value):
    """A Python value as an HCL expression (tfvars)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(hcl(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {hcl(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


NETWORK_MAIN = '''\
locals {
  vpc_id = try(aws_vpc.this[0].id, "")
  private_subnets = {
    for index, cidr in var.private_subnets : format("private-%d", index) => cidr
  }
  tags = merge(var.tags, { Module = "network" })
}

resource "aws_vpc" "this" {
  count = var.create_vpc ? 1 : 0

  cidr_block           = var.cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = merge(local.tags, { Name = var.name })
}

resource "aws_subnet" "private" {
  for_each = var.create_vpc ? local.private_subnets : {}

  vpc_id            = local.vpc_id
  cidr_block        = each.value
  availability_zone = element(var.azs, index(keys(local.private_subnets), each.key) % length(var.azs))
  tags              = merge(local.tags, { Name = "${var.name}-${each.key}" })
}

module "flow_logs" {
  source = "./flow-logs"
  count  = var.create_vpc && var.flow_log_enabled ? 1 : 0

  name              = var.name
  vpc_id            = local.vpc_id
  traffic_type      = var.flow_log_traffic_type
  retention_in_days = var.flow_log_retention_days
  tags              = local.tags
}
'''

NETWORK_VARIABLES = '''\
variable "name" {
  type = string
}

variable "create_vpc" {
  type    = bool
  default = true
}

variable "cidr" {
  type    = string
  default = "10.0.0.0/16"
}

variable "azs" {
  type    = list(string)
  default = ["a", "b"]
}

variable "private_subnets" {
  type    = list(string)
  default = []
}

variable "flow_log_enabled" {
  description = "Send the VPC's traffic to a CloudWatch log group"
  type        = bool
  default     = false
}

variable "flow_log_traffic_type" {
  type    = string
  default = "ALL"
}

variable "flow_log_retention_days" {
  description = "Days to keep flow logs; null keeps them forever"
  type        = number
  default     = 365
}

variable "tags" {
  type    = map(string)
  default = {}
}
'''

NETWORK_OUTPUTS = '''\
output "vpc_id" {
  value = local.vpc_id
}

output "private_subnet_ids" {
  value = [for subnet in aws_subnet.private : subnet.id]
}

output "flow_log_id" {
  value = try(module.flow_logs[0].flow_log_id, null)
}
'''

FLOW_LOGS_MAIN = '''\
variable "name" {
  type = string
}

variable "vpc_id" {
  type = string
}

variable "traffic_type" {
  type    = string
  default = "ALL"
}

variable "retention_in_days" {
  type    = number
  default = 365
}

variable "tags" {
  type    = map(string)
  default = {}
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/vpc-flow-log/${var.name}"
  retention_in_days = var.retention_in_days
  tags              = var.tags
}

resource "aws_iam_role" "this" {
  name = "${var.name}-flow-logs"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "vpc-flow-logs.amazonaws.com" }
    }]
  })
}

resource "aws_flow_log" "this" {
  vpc_id                   = var.vpc_id
  traffic_type             = upper(var.traffic_type)
  log_destination_type     = "cloud-watch-logs"
  log_destination          = aws_cloudwatch_log_group.this.arn
  iam_role_arn             = aws_iam_role.this.arn
  max_aggregation_interval = 60
  tags                     = var.tags
}

output "flow_log_id" {
  value = aws_flow_log.this.id
}

output "log_group_arn" {
  value = aws_cloudwatch_log_group.this.arn
}
'''

CLIENT_VPN_MAIN = '''\
variable "name" {
  type    = string
  default = "client-vpn"
}

variable "vpc_id" {
  type    = string
  default = null
}

variable "client_cidr" {
  type    = string
  default = "172.16.0.0/16"
}

variable "connection_logging" {
  type    = bool
  default = true
}

variable "log_retention_days" {
  type    = number
  default = 365
}

resource "aws_cloudwatch_log_group" "connections" {
  count = var.connection_logging ? 1 : 0

  name              = "/aws/client-vpn/${var.name}"
  retention_in_days = var.log_retention_days
}

resource "aws_ec2_client_vpn_endpoint" "this" {
  description            = var.name
  server_certificate_arn = "arn:aws:acm:us-east-1:%(account)s:certificate/server"
  client_cidr_block      = var.client_cidr
  vpc_id                 = var.vpc_id
  split_tunnel           = true

  authentication_options {
    type                       = "certificate-authentication"
    root_certificate_chain_arn = "arn:aws:acm:us-east-1:%(account)s:certificate/root"
  }

  connection_log_options {
    enabled              = var.connection_logging
    cloudwatch_log_group = try(aws_cloudwatch_log_group.connections[0].name, null)
  }
}
''' % {"account": ACCOUNT}

SITE_VPN_MAIN = '''\
variable "name" {
  type = string
}

variable "vpc_id" {
  type    = string
  default = null
}

variable "customer_gateway_ip" {
  type    = string
  default = "198.51.100.10"
}

variable "tunnel_logging" {
  description = "Log each tunnel: [tunnel 1, tunnel 2]"
  type        = list(bool)
  default     = [true, true]
}

variable "log_retention_days" {
  type    = number
  default = 365
}

resource "aws_customer_gateway" "this" {
  bgp_asn    = 65000
  ip_address = var.customer_gateway_ip
  type       = "ipsec.1"
}

resource "aws_vpn_gateway" "this" {
  vpc_id = var.vpc_id
}

resource "aws_cloudwatch_log_group" "tunnels" {
  name              = "/aws/vpn/${var.name}"
  retention_in_days = var.log_retention_days
}

resource "aws_vpn_connection" "this" {
  customer_gateway_id  = aws_customer_gateway.this.id
  vpn_gateway_id       = aws_vpn_gateway.this.id
  type                 = "ipsec.1"
  static_routes_only   = true
  tunnel1_ike_versions = ["ikev2"]
  tunnel2_ike_versions = ["ikev2"]

  tunnel1_log_options {
    cloudwatch_log_options {
      log_enabled       = var.tunnel_logging[0]
      log_group_arn     = aws_cloudwatch_log_group.tunnels.arn
      log_output_format = "json"
    }
  }

  tunnel2_log_options {
    cloudwatch_log_options {
      log_enabled       = var.tunnel_logging[1]
      log_group_arn     = aws_cloudwatch_log_group.tunnels.arn
      log_output_format = "json"
    }
  }
}
'''

ROOT_VARIABLES = '''\
variable "env" {
  type = string
}

variable "region" {
  type = string
}

variable "vpcs" {
  description = "VPCs of this environment, by role"
  type = map(object({
    cidr         = string
    enabled      = bool
    flow_logs    = bool
    traffic_type = string
    retention    = number
    subnets      = list(string)
  }))
  default = {}
}

variable "create_shared_vpc" {
  type    = bool
  default = false
}

variable "shared_vpc_flow_logs" {
  type    = bool
  default = true
}

variable "shared_log_retention" {
  type    = number
  default = 365
}

variable "adopt_default_vpc" {
  type    = bool
  default = false
}

variable "default_vpc_flow_logs" {
  type    = bool
  default = false
}

variable "client_vpn" {
  type = object({
    enabled = bool
    logging = bool
  })
  default = { enabled = false, logging = true }
}

variable "vpn_sites" {
  type = map(object({
    ip      = string
    logging = list(bool)
  }))
  default = {}
}

variable "tags" {
  type    = map(string)
  default = {}
}
'''

ROOT_MAIN = '''\
terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region = var.region
}

locals {
  name = "${var.env}-${var.region}"
  tags = merge(var.tags, {
    Environment = var.env
    Region      = var.region
    ManagedBy   = "terraform"
  })
  vpcs          = { for key, vpc in var.vpcs : key => vpc if vpc.enabled }
  shared_vpc_id = try(aws_vpc.shared[0].id, "")
}

module "network" {
  source   = "../../modules/network"
  for_each = local.vpcs

  name                    = "${local.name}-${each.key}"
  cidr                    = each.value.cidr
  private_subnets         = each.value.subnets
  flow_log_enabled        = each.value.flow_logs
  flow_log_traffic_type   = each.value.traffic_type
  flow_log_retention_days = each.value.retention
  tags                    = local.tags
}

resource "aws_vpc" "shared" {
  count = var.create_shared_vpc ? 1 : 0

  cidr_block = cidrsubnet("10.200.0.0/14", 2, 1)
  tags       = merge(local.tags, { Name = "${local.name}-shared" })
}

resource "aws_cloudwatch_log_group" "shared" {
  count = var.create_shared_vpc && var.shared_vpc_flow_logs ? 1 : 0

  name              = "/aws/vpc-flow-log/${local.name}-shared"
  retention_in_days = var.shared_log_retention
  tags              = local.tags
}

resource "aws_flow_log" "shared" {
  count = var.create_shared_vpc && var.shared_vpc_flow_logs ? 1 : 0

  vpc_id               = local.shared_vpc_id
  traffic_type         = "ALL"
  log_destination_type = "cloud-watch-logs"
  log_destination      = aws_cloudwatch_log_group.shared[0].arn
  iam_role_arn         = "arn:aws:iam::%(account)s:role/flow-logs"
}

resource "aws_default_vpc" "default" {
  count = var.adopt_default_vpc ? 1 : 0

  tags = { Name = "default" }
}

resource "aws_flow_log" "default" {
  count = var.adopt_default_vpc && var.default_vpc_flow_logs ? 1 : 0

  vpc_id          = aws_default_vpc.default[0].id
  traffic_type    = "REJECT"
  log_destination = "arn:aws:s3:::%(account)s-flow-logs"

  log_destination_type = "s3"
}

module "client_vpn" {
  source = "../../modules/client-vpn"
  count  = var.client_vpn.enabled ? 1 : 0

  name               = "${local.name}-remote"
  vpc_id             = try(module.network["core"].vpc_id, null)
  connection_logging = var.client_vpn.logging
}

module "site_vpn" {
  source   = "../../modules/site-vpn"
  for_each = var.vpn_sites

  name                = "${local.name}-${each.key}"
  vpc_id              = try(module.network["core"].vpc_id, null)
  customer_gateway_ip = each.value.ip
  tunnel_logging      = each.value.logging
}

output "vpc_ids" {
  value = { for key, network in module.network : key => network.vpc_id }
}
''' % {"account": ACCOUNT}


def root_settings(rng, index):
    """One root module's tfvars, and what it declares."""
    vpcs = {}
    for n, key in enumerate(VPC_KEYS[: rng.randint(1, 3)]):
        flow_logs = rng.random() < 0.7
        vpcs[key] = {
            "cidr": f"10.{(index * 3 + n) % 200}.0.0/16",
            # A disabled entry is filtered out by the root's `local.vpcs`: no VPC at all.
            "enabled": n == 0 or rng.random() < 0.9,
            "flow_logs": flow_logs,
            "traffic_type": rng.choices(["ALL", "REJECT", "ACCEPT"], [6, 2, 2])[0],
            "retention": rng.choice(RETENTIONS),
            "subnets": [f"10.{(index * 3 + n) % 200}.{s}.0/24" for s in range(rng.randint(1, 3))],
        }
    first = index == 0  # the first root calls every module, so none is read on its own
    settings = {
        "vpcs": vpcs,
        "create_shared_vpc": first or rng.random() < 0.4,
        "shared_vpc_flow_logs": rng.random() < 0.5,
        "shared_log_retention": rng.choice([30, 365, 400]),
        "adopt_default_vpc": rng.random() < 0.15,
        "default_vpc_flow_logs": rng.random() < 0.5,
        "client_vpn": {"enabled": first or rng.random() < 0.3, "logging": rng.random() < 0.7},
        "vpn_sites": {f"site{s}": {"ip": f"198.51.100.{(index + s) % 250 + 1}",
                                   "logging": [rng.random() < 0.8, rng.random() < 0.7]}
                      for s in range(1 if first else rng.choice([0, 0, 1, 2]))},
    }
    return settings


def root_expectation(s):
    """VPCs a root declares, and which of them lack a flow log (a) at all or (b) of rejected traffic."""
    e = {"vpcs": 0, "no_flow_log": 0, "accept_only": 0, "default_vpcs": 0, "default_no_flow_log": 0,
         "log_groups": 0, "log_groups_short": 0, "log_groups_forever": 0}
    for vpc in s["vpcs"].values():
        if not vpc["enabled"]:
            continue
        e["vpcs"] += 1
        if not vpc["flow_logs"]:
            e["no_flow_log"] += 1
        else:
            e["log_groups"] += 1
            e["log_groups_short"] += vpc["retention"] == 30
            e["log_groups_forever"] += vpc["retention"] is None
            e["accept_only"] += vpc["traffic_type"] == "ACCEPT"
    if s["create_shared_vpc"]:
        e["vpcs"] += 1
        if s["shared_vpc_flow_logs"]:
            e["log_groups"] += 1
            e["log_groups_short"] += s["shared_log_retention"] == 30
        else:
            e["no_flow_log"] += 1
    if s["adopt_default_vpc"]:
        e["default_vpcs"] += 1
        e["default_no_flow_log"] += not s["default_vpc_flow_logs"]
    if s["client_vpn"]["enabled"] and s["client_vpn"]["logging"]:
        e["log_groups"] += 1
    e["log_groups"] += len(s["vpn_sites"])
    return e


def yaml_scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    return json.dumps(v)


SHORT_FORMS = {"Ref": "!Ref", "Fn::Sub": "!Sub", "Fn::Equals": "!Equals", "Fn::If": "!If",
               "Fn::Not": "!Not", "Fn::Select": "!Select", "Fn::GetAZs": "!GetAZs"}


def yaml_lines(value, indent):
    """A template value as YAML lines, intrinsics in their short form (`!Ref`, `!GetAtt A.B`)."""
    pad = "  " * indent
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            inline = yaml_inline(v)
            if inline is not None:
                out.append(f"{pad}{k}: {inline}")
            else:
                out.append(f"{pad}{k}:")
                out.extend(yaml_lines(v, indent + 1))
    elif isinstance(value, list):
        for v in value:
            inline = yaml_inline(v)
            if inline is not None:
                out.append(f"{pad}- {inline}")
            else:
                nested = yaml_lines(v, indent + 1)
                out.append(f"{pad}- {nested[0].lstrip()}")
                out.extend(nested[1:])
    return out


def yaml_inline(v):
    """The one-line YAML form of a scalar or an intrinsic, or None for a block."""
    if isinstance(v, dict) and len(v) == 1:
        (k, arg), = v.items()
        if k == "Fn::GetAtt":
            return f"!GetAtt {arg[0]}.{arg[1]}"
        if k in SHORT_FORMS:
            if isinstance(arg, list):
                parts = [yaml_inline(a) for a in arg]
                if all(p is not None for p in parts):
                    return f"{SHORT_FORMS[k]} [{', '.join(parts)}]"
                return None
            return f"{SHORT_FORMS[k]} {yaml_scalar(arg) if isinstance(arg, str) and k != 'Ref' else arg}"
    if isinstance(v, (dict, list)):
        if not v:
            return "{}" if isinstance(v, dict) else "[]"
        return None
    return yaml_scalar(v)


def template(rng, index, env, region):
    """One CloudFormation template and what it declares."""
    e = {"vpcs": 0, "no_flow_log": 0, "accept_only": 0, "default_vpcs": 0, "default_no_flow_log": 0,
         "log_groups": 0, "log_groups_short": 0, "log_groups_forever": 0}
    flow_logs_default = rng.random() < 0.8
    retention_default = rng.choice([30, 365])
    params = {
        "Environment": {"Type": "String", "Default": env, "AllowedValues": ENV_STAGES + [env] * (env not in ENV_STAGES)},
        "EnableFlowLogs": {"Type": "String", "Default": "true" if flow_logs_default else "false",
                           "AllowedValues": ["true", "false"]},
        "FlowLogRetentionDays": {"Type": "Number", "Default": retention_default},
        "CreateBastionVpc": {"Type": "String", "Default": "false", "AllowedValues": ["true", "false"]},
    }
    conditions = {
        "FlowLogsOn": {"Fn::Equals": [{"Ref": "EnableFlowLogs"}, "true"]},
        "BastionVpc": {"Fn::Equals": [{"Ref": "CreateBastionVpc"}, "true"]},
        "IsProd": {"Fn::Equals": [{"Ref": "Environment"}, "prod"]},
    }
    resources = {
        "FlowLogRole": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "sts:AssumeRole",
                "Principal": {"Service": "vpc-flow-logs.amazonaws.com"}}]}}},
    }
    for n in range(rng.randint(1, 3)):
        vpc = f"Vpc{n}"
        e["vpcs"] += 1
        resources[vpc] = {"Type": "AWS::EC2::VPC", "Properties": {
            "CidrBlock": f"10.{(index + n) % 200}.0.0/16", "EnableDnsSupport": True,
            "Tags": [{"Key": "Name", "Value": {"Fn::Sub": "${AWS::StackName}-" + vpc.lower()}}]}}
        resources[f"{vpc}Subnet"] = {"Type": "AWS::EC2::Subnet", "Properties": {
            "VpcId": {"Ref": vpc}, "CidrBlock": f"10.{(index + n) % 200}.1.0/24",
            "AvailabilityZone": {"Fn::Select": [0, {"Fn::GetAZs": ""}]}}}
        mode = rng.choices(["conditional", "always", "none"], [4, 4, 2])[0]
        logged = mode == "always" or (mode == "conditional" and flow_logs_default)
        if mode == "none" or not logged:
            e["no_flow_log"] += 1
        if mode == "none":
            continue
        traffic = rng.choices(["ALL", "REJECT", "ACCEPT"], [6, 2, 2])[0]
        retention = rng.choice(["param", 30, 365, None])
        group = {"Type": "AWS::Logs::LogGroup", "Properties": {
            "LogGroupName": {"Fn::Sub": "/aws/vpc-flow-log/${AWS::StackName}-" + vpc.lower()}}}
        if retention == "param":
            group["Properties"]["RetentionInDays"] = {"Ref": "FlowLogRetentionDays"}
            retention = retention_default
        elif retention is not None:
            group["Properties"]["RetentionInDays"] = retention
        flow = {"Type": "AWS::EC2::FlowLog", "Properties": {
            "ResourceType": "VPC",
            "ResourceId": {"Ref": vpc} if n % 2 == 0 else {"Fn::GetAtt": [vpc, "VpcId"]},
            "TrafficType": traffic,
            "LogDestinationType": "cloud-watch-logs",
            "LogGroupName": {"Ref": f"{vpc}FlowLogGroup"},
            "DeliverLogsPermissionArn": {"Fn::GetAtt": ["FlowLogRole", "Arn"]}}}
        if mode == "conditional":
            group["Condition"] = "FlowLogsOn"
            flow["Condition"] = "FlowLogsOn"
        resources[f"{vpc}FlowLogGroup"] = group
        resources[f"{vpc}FlowLog"] = flow
        if logged:
            e["log_groups"] += 1
            e["log_groups_short"] += retention == 30
            e["log_groups_forever"] += retention is None
            e["accept_only"] += traffic == "ACCEPT"
    # A VPC behind a false condition does not exist.
    resources["BastionVpc"] = {"Type": "AWS::EC2::VPC", "Condition": "BastionVpc",
                               "Properties": {"CidrBlock": "10.250.0.0/24"}}
    if rng.random() < 0.3:
        logging = rng.random() < 0.7
        if logging:
            resources["ClientVpnLogGroup"] = {"Type": "AWS::Logs::LogGroup", "Properties": {
                "RetentionInDays": {"Fn::If": ["IsProd", 365, 90]}}}
            e["log_groups"] += 1
            e["log_groups_short"] += env != "prod"
        options = {"Enabled": logging}
        if logging:
            options["CloudwatchLogGroup"] = {"Ref": "ClientVpnLogGroup"}
        resources["ClientVpn"] = {"Type": "AWS::EC2::ClientVpnEndpoint", "Properties": {
            "ClientCidrBlock": "172.16.0.0/16",
            "ServerCertificateArn": f"arn:aws:acm:{region}:{ACCOUNT}:certificate/server",
            "AuthenticationOptions": [{"Type": "certificate-authentication", "MutualAuthentication": {
                "ClientRootCertificateChainArn": f"arn:aws:acm:{region}:{ACCOUNT}:certificate/root"}}],
            "ConnectionLogOptions": options, "VpcId": {"Ref": "Vpc0"}}}
    if rng.random() < 0.3:
        resources["TunnelLogGroup"] = {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 365}}
        e["log_groups"] += 1
        tunnels = [{"LogOptions": {"CloudwatchLogOptions": {
            "LogEnabled": rng.random() < 0.8, "LogGroupArn": {"Fn::GetAtt": ["TunnelLogGroup", "Arn"]},
            "LogOutputFormat": "json"}}} for _ in range(2)]
        resources["CustomerGateway"] = {"Type": "AWS::EC2::CustomerGateway", "Properties": {
            "BgpAsn": 65000, "IpAddress": f"203.0.113.{index % 250 + 1}", "Type": "ipsec.1"}}
        resources["VpnGateway"] = {"Type": "AWS::EC2::VPNGateway", "Properties": {"Type": "ipsec.1"}}
        resources["Vpn"] = {"Type": "AWS::EC2::VPNConnection", "Properties": {
            "CustomerGatewayId": {"Ref": "CustomerGateway"}, "VpnGatewayId": {"Ref": "VpnGateway"},
            "Type": "ipsec.1", "StaticRoutesOnly": True, "VpnTunnelOptionsSpecifications": tunnels}}
    doc = {"AWSTemplateFormatVersion": "2010-09-09",
           "Description": f"Network of {env} in {region} (template {index})",
           "Parameters": params, "Conditions": conditions, "Resources": resources,
           "Outputs": {"VpcId": {"Value": {"Ref": "Vpc0"}}}}
    return doc, e


def layout(files):
    """How many root modules and templates make `files` files in all."""
    roots = max(1, int((files * 0.8 - MODULE_FILES) // ROOT_FILES))
    templates = max(1, files - MODULE_FILES - ROOT_FILES * roots)
    return roots, templates


def root_dirs(count):
    """`count` distinct (env, region) folders, environments first."""
    envs = [f"{team}-{stage}" for team in TEAMS for stage in ENV_STAGES]
    k = 0
    while len(envs) * len(REGIONS) < count:
        k += 1
        envs += [f"{team}{k}-{stage}" for team in TEAMS for stage in ENV_STAGES]
    return [(envs[i // len(REGIONS)], REGIONS[i % len(REGIONS)]) for i in range(count)]


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def generate(out, files, seed=11):
    """Write the tree under `out` (emptied first); return the file counts and the expected findings."""
    if os.path.exists(out):
        shutil.rmtree(out)
    rng = random.Random(seed)
    roots, templates = layout(files)
    tf = os.path.join(out, "terraform")
    modules = os.path.join(tf, "modules")
    write(os.path.join(modules, "network", "main.tf"), NETWORK_MAIN)
    write(os.path.join(modules, "network", "variables.tf"), NETWORK_VARIABLES)
    write(os.path.join(modules, "network", "outputs.tf"), NETWORK_OUTPUTS)
    write(os.path.join(modules, "network", "flow-logs", "main.tf"), FLOW_LOGS_MAIN)
    write(os.path.join(modules, "client-vpn", "main.tf"), CLIENT_VPN_MAIN)
    write(os.path.join(modules, "site-vpn", "main.tf"), SITE_VPN_MAIN)
    expected = {"terraform": {}, "cloudformation": {}}

    def add(kind, e):
        for k, v in e.items():
            expected[kind][k] = expected[kind].get(k, 0) + int(v)

    for index, (env, region) in enumerate(root_dirs(roots)):
        settings = root_settings(rng, index)
        d = os.path.join(tf, env, region)
        write(os.path.join(d, "main.tf"), ROOT_MAIN)
        write(os.path.join(d, "variables.tf"), ROOT_VARIABLES)
        tfvars = [f"env    = {hcl(env)}", f"region = {hcl(region)}", "", "vpcs = {"]
        for key, vpc in settings["vpcs"].items():
            tfvars.append(f"  {key} = {hcl(vpc)}")
        tfvars.append("}")
        tfvars.append("")
        for key in ("create_shared_vpc", "shared_vpc_flow_logs", "shared_log_retention", "adopt_default_vpc",
                    "default_vpc_flow_logs", "client_vpn"):
            tfvars.append(f"{key} = {hcl(settings[key])}")
        tfvars.append("vpn_sites = {")
        for key, site in settings["vpn_sites"].items():
            tfvars.append(f"  {key} = {hcl(site)}")
        tfvars.append("}")
        tfvars.append(f'tags = {{ Team = {hcl(env.split("-")[0])}, CostCenter = "{1000 + index}" }}')
        write(os.path.join(d, "terraform.tfvars"), "\n".join(tfvars) + "\n")
        add("terraform", root_expectation(settings))
    cfn = os.path.join(out, "cloudformation")
    for index, (env, region) in enumerate(root_dirs(templates)):
        doc, e = template(rng, index, env.rsplit("-", 1)[1], region)
        if index % 3 == 2:
            write(os.path.join(cfn, f"{env}-{region}-{index}.json"), json.dumps(doc, indent=2) + "\n")
        else:
            write(os.path.join(cfn, f"{env}-{region}-{index}.yaml"), "\n".join(yaml_lines(doc, 0)) + "\n")
        add("cloudformation", e)
    tf_files = sum(len([f for f in fs if f.endswith((".tf", ".tfvars"))]) for _, _, fs in os.walk(tf))
    return {"files": tf_files + templates, "terraform_files": tf_files, "root_modules": roots,
            "templates": templates, "expected": expected}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--files", type=int, default=100, help="files in all (Terraform and CloudFormation)")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    print(json.dumps(generate(args.out, args.files, args.seed), indent=2))


if __name__ == "__main__":
    main()
