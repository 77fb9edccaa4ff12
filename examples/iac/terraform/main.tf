# A pull request's network: one VPC whose flow log captures accepted traffic only (EC2.6 fails:
# rejected traffic is not logged), a Client VPN endpoint that logs connections to a group that
# never expires, and a lab VPC without flow logs whose gap is accepted until a date.

resource "aws_vpc" "app" {
  cidr_block = "10.20.0.0/16"
  tags = {
    Name = "app"
  }
}

resource "aws_cloudwatch_log_group" "flow" {
  name              = "/aws/vpc/flow-logs/app"
  retention_in_days = 365
}

resource "aws_flow_log" "app" {
  vpc_id          = aws_vpc.app.id
  traffic_type    = "ACCEPT"
  log_destination = aws_cloudwatch_log_group.flow.arn
  iam_role_arn    = "arn:aws:iam::111122223333:role/flow-logs"
}

resource "aws_cloudwatch_log_group" "client_vpn" {
  name = "/aws/client-vpn/app"
}

resource "aws_ec2_client_vpn_endpoint" "app" {
  server_certificate_arn = "arn:aws:acm:eu-west-1:111122223333:certificate/server"
  client_cidr_block      = "10.100.0.0/16"

  authentication_options {
    type                       = "certificate-authentication"
    root_certificate_chain_arn = "arn:aws:acm:eu-west-1:111122223333:certificate/root"
  }

  connection_log_options {
    enabled              = true
    cloudwatch_log_group = aws_cloudwatch_log_group.client_vpn.name
  }
}

# netaudit:exception EC2.6 owner=net-team ticket=SEC-12 expires=2028-03-31 reason="lab VPC, torn down weekly"
# netaudit:exception CIS.VPC.FLOWLOGS owner=net-team ticket=SEC-12 expires=2028-03-31 reason="lab VPC, torn down weekly"
resource "aws_vpc" "lab" {
  cidr_block = "10.21.0.0/16"
}
