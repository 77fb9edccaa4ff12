// A small CDK app whose synthesized templates (cdk.out/) netaudit scans before deploy: one stack per
// case, each with the constructs a network audit trail depends on.
// Re-synthesize with `npm ci && node app.js` (no AWS account or credentials needed).
const path = require("node:path");
const { App, Stack } = require("aws-cdk-lib");
const ec2 = require("aws-cdk-lib/aws-ec2");
const logs = require("aws-cdk-lib/aws-logs");

// What `cdk synth` turns on by default: each resource's construct path in its Metadata.
const app = new App({
  outdir: path.join(__dirname, "cdk.out"),
  analyticsReporting: false,
  context: { "aws:cdk:enable-path-metadata": true, "aws:cdk:enable-asset-metadata": true },
});

// Small VPCs: one isolated subnet, no NAT gateways, so the templates stay readable.
function smallVpc(scope, id, extra = {}) {
  return new ec2.Vpc(scope, id, {
    ipAddresses: ec2.IpAddresses.cidr("10.0.0.0/16"),
    maxAzs: 1,
    natGateways: 0,
    subnetConfiguration: [{ name: "isolated", subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    restrictDefaultSecurityGroup: false,
    ...extra,
  });
}

// PASS: all traffic to a log group kept for a year. The default security group restriction stays on
// here, so cdk.out also holds a Lambda asset folder the scanner has to ignore.
const network = new Stack(app, "Network");
const flowLogGroup = new logs.LogGroup(network, "FlowLogGroup", {
  retention: logs.RetentionDays.ONE_YEAR,
});
smallVpc(network, "Vpc", {
  restrictDefaultSecurityGroup: true,
  flowLogs: {
    all: {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    },
  },
});

// FAIL: no flow log at all.
const bare = new Stack(app, "BareNetwork");
smallVpc(bare, "Vpc");

// A flow log with a traffic filter: rejected traffic only (what EC2.6 asks for by default), and
// accepted traffic only (misses the rejected packets), each to a log group kept one week (FAIL
// CloudWatch.16).
const filtered = new Stack(app, "FilteredNetwork");
const shortLived = new logs.LogGroup(filtered, "ShortLivedGroup", {
  retention: logs.RetentionDays.ONE_WEEK,
});
for (const [id, trafficType] of [
  ["RejectOnlyVpc", ec2.FlowLogTrafficType.REJECT],
  ["AcceptOnlyVpc", ec2.FlowLogTrafficType.ACCEPT],
]) {
  smallVpc(filtered, id, {
    flowLogs: {
      filtered: { destination: ec2.FlowLogDestination.toCloudWatchLogs(shortLived), trafficType },
    },
  });
}

// Client VPN: one endpoint logging connections (CDK creates its log group), one with logging off.
const remote = new Stack(app, "RemoteAccess");
const remoteVpc = smallVpc(remote, "Vpc", {
  flowLogs: { all: { destination: ec2.FlowLogDestination.toCloudWatchLogs() } },
});
const certificates = {
  serverCertificateArn: "arn:aws:acm:eu-west-1:111122223333:certificate/11111111-2222-3333-4444-555555555555",
  clientCertificateArn: "arn:aws:acm:eu-west-1:111122223333:certificate/66666666-7777-8888-9999-000000000000",
};
remoteVpc.addClientVpnEndpoint("LoggedEndpoint", { cidr: "10.100.0.0/22", ...certificates });
remoteVpc.addClientVpnEndpoint("DarkEndpoint", { cidr: "10.101.0.0/22", logging: false, ...certificates });

// Site-to-Site VPN (L1 construct: the L2 one has no tunnel log options): the first tunnel logs to a
// group kept a year, the second does not log.
const sites = new Stack(app, "SiteToSite");
const tunnelGroup = new logs.LogGroup(sites, "TunnelLogGroup", {
  retention: logs.RetentionDays.ONE_YEAR,
});
const gateway = new ec2.CfnVPNGateway(sites, "Gateway", { type: "ipsec.1" });
const customer = new ec2.CfnCustomerGateway(sites, "Branch", {
  type: "ipsec.1",
  bgpAsn: 65000,
  ipAddress: "203.0.113.10",
});
new ec2.CfnVPNConnection(sites, "HalfLoggedVpn", {
  type: "ipsec.1",
  customerGatewayId: customer.ref,
  vpnGatewayId: gateway.ref,
  staticRoutesOnly: true,
  vpnTunnelOptionsSpecifications: [
    {
      logOptions: {
        cloudwatchLogOptions: {
          logEnabled: true,
          logGroupArn: tunnelGroup.logGroupArn,
          logOutputFormat: "json",
        },
      },
    },
    {},
  ],
});

app.synth();
