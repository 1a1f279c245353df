package elbv2

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"overcast"
	api "overcast/internal/api/elbv2"
	"overcast/internal/service/servicetest"
)

// loopbackNetwork is EC2 as a default VPC on 127.16.0.0/16 with one
// running instance.
type loopbackNetwork struct{}

func (loopbackNetwork) Subnet(_ context.Context, _, _, id string) (Subnet, error) {
	return Subnet{ID: id, VPCID: "vpc-1", AvailabilityZone: "us-east-1" + id[len(id)-1:], CIDR: "127.16.0.0/20"}, nil
}

func (loopbackNetwork) VPC(_ context.Context, _, _, id string) (VPC, error) {
	if id != "vpc-1" {
		return VPC{}, ErrVPCNotFound
	}
	return VPC{ID: id, CIDR: "127.16.0.0/16", Default: true}, nil
}

func (loopbackNetwork) Instance(_ context.Context, _, _, id string) (Instance, error) {
	if id != "i-1" {
		return Instance{}, ErrInstanceNotFound
	}
	return Instance{ID: id, State: "running", VPCID: "vpc-1", PrivateIP: "127.16.0.9", AvailabilityZone: "us-east-1a"}, nil
}

func (loopbackNetwork) AttachInterface(context.Context, string, string, string, []string, string) (Interface, error) {
	return Interface{ID: "eni-1", PrivateIP: "127.16.0.5"}, nil
}

func (loopbackNetwork) ReleaseInterface(context.Context, string, string, string) error { return nil }

// TestGoMethodsForECS drives the methods ECS services use: register by
// target group ARN alone, read health, deregister into draining.
func TestGoMethodsForECS(t *testing.T) {
	env := servicetest.Env(t)
	s := New(env, Options{Network: loopbackNetwork{}})
	t.Cleanup(func() { s.Close() })
	ctx := overcast.WithCaller(context.Background(), overcast.RootCaller("000000000000", "us-east-1"))
	out, err := s.CreateTargetGroup(ctx, &api.CreateTargetGroupInput{Name: new("svc"), Protocol: new("HTTP"), Port: new(int32(8080)),
		VpcId: new("vpc-1")})
	if err != nil {
		t.Fatal(err)
	}
	arn := *out.TargetGroups[0].TargetGroupArn
	// ECS calls without a caller in its context: the ARN says where.
	bg := context.Background()
	if err := s.Register(bg, arn, Target{ID: "i-1", Port: 32768}, Target{ID: "i-1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Deregister(bg, arn, Target{ID: "i-1"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.TargetHealth(bg, arn)
	if err != nil {
		t.Fatal(err)
	}
	want := []TargetHealth{
		{Target{"i-1", 32768}, "unused", "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer"},
		{Target{"i-1", 8080}, "draining", "Target.DeregistrationInProgress", "Target deregistration is in progress"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("target health (-want +got):\n%s", diff)
	}
	if err := s.Register(bg, arn, Target{ID: "i-2"}); err == nil || !isCode(err, "InvalidTarget") {
		t.Errorf("registering an unknown instance: got %v, want InvalidTarget", err)
	}
}
