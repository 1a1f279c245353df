package autoscaling

import (
	"context"

	"overcast"
	api "overcast/internal/api/autoscaling"
	"overcast/internal/authz"
	"overcast/internal/store"
)

// authzTable is how IAM authorizes Auto Scaling's operations (the Service
// Authorization Reference's "Amazon EC2 Auto Scaling"): on the group a
// call names, or whose instance it names, or on the launch configuration.
// Their ARNs have a UUID: a group or launch configuration that does not
// exist (yet) is its ARN with "*" for it. It is the Service's own because
// only the store knows the UUIDs. Describe* take no resource.
func (s *Service) authzTable() *authz.Table {
	group := authz.Rule{Resources: s.named("AutoScalingGroupName", groupsTable, groupARN)}
	instanceGroup := authz.Rule{Resources: s.instanceGroup}
	launchConfiguration := authz.Rule{Resources: s.named("LaunchConfigurationName", launchConfigsTable, launchConfigurationARN)}
	return &authz.Table{Prefix: "autoscaling", Rules: map[string]authz.Rule{
		"CreateAutoScalingGroup":              group,
		"UpdateAutoScalingGroup":              group,
		"DeleteAutoScalingGroup":              group,
		"SetDesiredCapacity":                  group,
		"PutScalingPolicy":                    group,
		"DeletePolicy":                        group,
		"ExecutePolicy":                       group,
		"SetInstanceHealth":                   instanceGroup,
		"TerminateInstanceInAutoScalingGroup": instanceGroup,
		"CreateLaunchConfiguration":           launchConfiguration,
		"DeleteLaunchConfiguration":           launchConfiguration,
		"CreateOrUpdateTags": {Resources: func(ctx context.Context, as authz.Scope, in any) []string {
			if in, ok := in.(*api.CreateOrUpdateTagsType); ok {
				return s.taggedGroups(ctx, as, in.Tags)
			}
			return nil
		}},
		"DeleteTags": {Resources: func(ctx context.Context, as authz.Scope, in any) []string {
			if in, ok := in.(*api.DeleteTagsType); ok {
				return s.taggedGroups(ctx, as, in.Tags)
			}
			return nil
		}},
	}}
}

// named is Rule.Resources for the group or launch configuration (in
// table) an input's field names.
func (s *Service) named(field, table string, arn func(sc overcast.Scope, uuid, name string) string) func(context.Context, authz.Scope, any) []string {
	return func(ctx context.Context, as authz.Scope, in any) []string {
		if name := authz.Field(in, field); name != "" {
			return []string{s.storedARN(ctx, as.Local(), table, name, arn)}
		}
		return nil
	}
}

// storedARN is the ARN of the record name of table, or arn of it with
// "*" for its UUID when there is none.
func (s *Service) storedARN(ctx context.Context, sc overcast.Scope, table, name string, arn func(sc overcast.Scope, uuid, name string) string) string {
	var rec struct{ ARN string }
	err := s.Store.View(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, table, sc.Key(name), &rec)
		return err
	})
	if err != nil || rec.ARN == "" {
		return arn(sc, "*", name)
	}
	return rec.ARN
}

// instanceGroup is the group of the instance an input's InstanceId names.
func (s *Service) instanceGroup(ctx context.Context, as authz.Scope, in any) []string {
	id := authz.Field(in, "InstanceId")
	if id == "" {
		return nil
	}
	sc := as.Local()
	var name string
	err := s.Store.View(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, membersTable, sc.Key(id), &name)
		return err
	})
	if err != nil {
		return nil
	}
	return []string{s.storedARN(ctx, sc, groupsTable, name, groupARN)}
}

// taggedGroups are the groups the tags of a tagging call are for.
func (s *Service) taggedGroups(ctx context.Context, as authz.Scope, tags api.Tags) []string {
	var out []string
	for _, t := range tags {
		if t.ResourceId != nil && *t.ResourceId != "" {
			out = append(out, s.storedARN(ctx, as.Local(), groupsTable, *t.ResourceId, groupARN))
		}
	}
	return out
}
