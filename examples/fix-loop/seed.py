"""Seeds an AWS emulator with the gaps `examples/fix-loop/run.sh` fixes, in us-east-1 and eu-west-1:
a VPC without a flow log (whose would-be log group exists, keeping ten years), a VPC logging to a
group kept 30 days, and a VPC whose flow-log group was deleted. Prints the VPC ids as JSON.

Usage: python seed.py http://127.0.0.1:PORT
"""
import boto3, json, sys
kw = dict(endpoint_url=sys.argv[1], aws_access_key_id="testing", aws_secret_access_key="testing")
out = {}
for region in ["us-east-1", "eu-west-1"]:
    ec2 = boto3.client("ec2", region_name=region, **kw)
    logs = boto3.client("logs", region_name=region, **kw)
    bare = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    # The group the plan will name for this VPC exists already, keeping ten years.
    logs.create_log_group(logGroupName=f"/aws/vpc/flow-logs/{bare}")
    logs.put_retention_policy(logGroupName=f"/aws/vpc/flow-logs/{bare}", retentionInDays=3653)
    short = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    logs.create_log_group(logGroupName="/net/short")
    logs.put_retention_policy(logGroupName="/net/short", retentionInDays=30)
    ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[short], TrafficType="ALL",
        LogDestinationType="cloud-watch-logs", LogGroupName="/net/short",
        DeliverLogsPermissionArn="arn:aws:iam::123456789012:role/flow-logs")
    gone = ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
    logs.create_log_group(logGroupName="/net/gone")
    ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[gone], TrafficType="ALL",
        LogDestinationType="cloud-watch-logs", LogGroupName="/net/gone",
        DeliverLogsPermissionArn="arn:aws:iam::123456789012:role/flow-logs")
    logs.delete_log_group(logGroupName="/net/gone")
    out[region] = {"bare": bare, "short": short, "gone": gone}
print(json.dumps(out))
