package applicationautoscaling

import (
	"context"
	"strings"
	"testing"

	"overcast"
	api "overcast/internal/api/applicationautoscaling"
	"overcast/internal/authz/authztest"
	"overcast/internal/service/servicetest"
)

func TestAuthzTable(t *testing.T) {
	s := New(servicetest.Env(t), fakeAlarms{}, &fakeECS{desired: 2})
	ctx := overcast.WithCaller(context.Background(), overcast.RootCaller(authztest.Scope.AccountID, authztest.Scope.Region))
	target := func() *api.RegisterScalableTargetRequest {
		return &api.RegisterScalableTargetRequest{ServiceNamespace: new(namespaceECS), ResourceId: new("service/prod/web"),
			ScalableDimension: new(dimensionDesired), MinCapacity: new(int32(1)), MaxCapacity: new(int32(4))}
	}
	out, err := s.RegisterScalableTarget(ctx, target())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(*out.ScalableTargetARN, "arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/") {
		t.Fatalf("target ARN %s: not of the test's scope", *out.ScalableTargetARN)
	}
	authztest.Run(t, s.authzTable(), []authztest.Case{
		{Op: "PutScalingPolicy", In: &api.PutScalingPolicyRequest{ServiceNamespace: new(namespaceECS), ResourceId: new("service/prod/web"),
			ScalableDimension: new(dimensionDesired)}, Action: "application-autoscaling:PutScalingPolicy", Resources: []string{*out.ScalableTargetARN}},
		{Name: "existing", Op: "RegisterScalableTarget", In: target(), Resources: []string{*out.ScalableTargetARN}},
		{Name: "new", Op: "RegisterScalableTarget", In: &api.RegisterScalableTargetRequest{ServiceNamespace: new(namespaceECS),
			ResourceId: new("service/prod/api"), ScalableDimension: new(dimensionDesired)}, Resources: []string{"*"}},
	})
}
