package applicationautoscaling

import (
	"context"

	"overcast/internal/authz"
	"overcast/internal/store"
)

// authzTable is how IAM authorizes Application Auto Scaling's operations
// (the Service Authorization Reference's "Application Auto Scaling"): on
// the scalable target a call names by its namespace, resource ID and
// dimension, as its ARN (scalable-target/<random ID>). It is the
// Service's own because only the store knows that ID; registering a new
// target takes no resource. Describe* take none either.
func (s *Service) authzTable() *authz.Table {
	target := authz.Rule{Resources: s.targetARN}
	return &authz.Table{Prefix: "application-autoscaling", Rules: map[string]authz.Rule{
		"RegisterScalableTarget":   target,
		"DeregisterScalableTarget": target,
		"PutScalingPolicy":         target,
		"DeleteScalingPolicy":      target,
		"PutScheduledAction":       target,
		"DeleteScheduledAction":    target,
		"TagResource":              {Resources: authz.Ref("ResourceARN", nil)},
		"UntagResource":            {Resources: authz.Ref("ResourceARN", nil)},
		"ListTagsForResource":      {Resources: authz.Ref("ResourceARN", nil)},
	}}
}

// targetARN is the ARN of the scalable target an input names.
func (s *Service) targetARN(ctx context.Context, as authz.Scope, in any) []string {
	id := targetID{Namespace: authz.Field(in, "ServiceNamespace"), ResourceID: authz.Field(in, "ResourceId"),
		Dimension: authz.Field(in, "ScalableDimension")}
	var t target
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		t, _, err = getTarget(tx, as.Local(), id)
		return err
	})
	if err != nil || t.ARN == "" {
		return nil
	}
	return []string{t.ARN}
}
