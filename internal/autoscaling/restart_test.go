package autoscaling_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"overcast/internal/awstest"
)

// After a restart the group, read back from the store, still keeps its
// capacity: an instance stopped then fails the EC2 health check, is
// terminated and replaced.
func TestGroupResumesAfterRestart(t *testing.T) {
	srv, clk := awstest.StartAt(t, time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC))
	connect := func() fixture {
		cfg := awstest.KeepRequestBodies(srv.Config())
		return fixture{as: autoscaling.NewFromConfig(cfg), ec2: ec2.NewFromConfig(cfg), clk: clk}
	}
	f := connect()
	f.launchConfiguration(t, "lc", "")
	awstest.Call(t, f.as.CreateAutoScalingGroup, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("g"),
		LaunchConfigurationName: aws.String("lc"), MinSize: aws.Int32(2), MaxSize: aws.Int32(2), AvailabilityZones: []string{"us-east-1a", "us-east-1b"}})
	before := f.waitInService(t, "g", 2)

	srv.Restart(t)
	f = connect()
	victim := aws.ToString(before[0].InstanceId)
	awstest.Call(t, f.ec2.StopInstances, &ec2.StopInstancesInput{InstanceIds: []string{victim}})
	awstest.WaitFor(t, "a replacement for the stopped "+victim, func() bool {
		got := ids(f.group(t, "g").Instances)
		return len(got) == 2 && got[0] != victim && got[1] != victim
	})
	f.waitInService(t, "g", 2)
	if got := f.ec2Instance(t, victim).State.Name; got != ec2types.InstanceStateNameTerminated && got != ec2types.InstanceStateNameShuttingDown {
		t.Errorf("the stopped instance: got %s, want it terminated", got)
	}
}
