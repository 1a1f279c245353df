package app

import (
	"context"
	"errors"
	"strings"

	"overcast"
	ec2api "overcast/internal/api/ec2"
	"overcast/internal/autoscaling"
	"overcast/internal/awsproto"
	"overcast/internal/ec2"
)

// autoscalingEC2 is EC2 seen in Auto Scaling's terms: its groups launch
// and terminate instances through EC2's own API, as the account's root.
type autoscalingEC2 struct{ ec2 *ec2.Service }

var _ autoscaling.EC2 = autoscalingEC2{}

func asCaller(ctx context.Context, account, region string) context.Context {
	return overcast.WithCaller(ctx, overcast.RootCaller(account, region))
}

func (a autoscalingEC2) Subnet(ctx context.Context, account, region, id string) (autoscaling.Subnet, error) {
	sn, err := a.ec2.Subnet(ctx, account, region, id)
	if err != nil {
		return autoscaling.Subnet{}, notFoundAs(err, ec2.ErrSubnetNotFound, autoscaling.ErrSubnetNotFound, id)
	}
	return autoscaling.Subnet{ID: sn.ID, AvailabilityZone: sn.AvailabilityZone}, nil
}

func (a autoscalingEC2) RunInstance(ctx context.Context, account, region string, l autoscaling.Launch) (autoscaling.Instance, error) {
	in := &ec2api.RunInstancesRequest{ImageId: &l.ImageID, InstanceType: &l.InstanceType, MinCount: new(int32(1)), MaxCount: new(int32(1)),
		SecurityGroupIds: l.SecurityGroups, ClientToken: &l.ClientToken}
	if l.UserData != "" {
		in.UserData = &l.UserData
	}
	if l.SubnetID != "" {
		in.SubnetId = &l.SubnetID
	} else if l.AvailabilityZone != "" {
		in.Placement = &ec2api.Placement{AvailabilityZone: &l.AvailabilityZone}
	}
	if l.IamInstanceProfile != "" {
		profile := &ec2api.IamInstanceProfileSpecification{Name: &l.IamInstanceProfile}
		if _, ok := overcast.ParseARN(l.IamInstanceProfile); ok {
			profile = &ec2api.IamInstanceProfileSpecification{Arn: &l.IamInstanceProfile}
		}
		in.IamInstanceProfile = profile
	}
	reserved := map[string]string{} // aws:autoscaling:groupName, which users may not set
	spec := ec2api.TagSpecification{ResourceType: new("instance")}
	for k, v := range l.Tags {
		if strings.HasPrefix(k, "aws:") {
			reserved[k] = v
			continue
		}
		spec.Tags = append(spec.Tags, ec2api.Tag{Key: new(k), Value: new(v)})
	}
	if len(spec.Tags) > 0 {
		in.TagSpecifications = ec2api.TagSpecificationList{spec}
	}
	r, err := a.ec2.RunInstances(ec2.WithReservedTags(asCaller(ctx, account, region), reserved), in)
	if err != nil {
		return autoscaling.Instance{}, err
	}
	i := r.Instances[0]
	return autoscaling.Instance{ID: *i.InstanceId, State: *i.State.Name, AvailabilityZone: *i.Placement.AvailabilityZone,
		SubnetID: *i.SubnetId}, nil
}

func (a autoscalingEC2) TerminateInstance(ctx context.Context, account, region, id string) error {
	_, err := a.ec2.TerminateInstances(asCaller(ctx, account, region), &ec2api.TerminateInstancesRequest{InstanceIds: []string{id}})
	var e *awsproto.Error
	if errors.As(err, &e) && e.Code == "InvalidInstanceID.NotFound" {
		return autoscaling.ErrInstanceNotFound
	}
	return err
}

func (a autoscalingEC2) Instance(ctx context.Context, account, region, id string) (autoscaling.Instance, error) {
	i, err := a.ec2.Instance(ctx, account, region, id)
	if err != nil {
		return autoscaling.Instance{}, notFoundAs(err, ec2.ErrInstanceNotFound, autoscaling.ErrInstanceNotFound, id)
	}
	return autoscaling.Instance{ID: i.ID, State: i.State, AvailabilityZone: i.AvailabilityZone, SubnetID: i.SubnetID}, nil
}

func (a autoscalingEC2) LaunchTemplate(ctx context.Context, account, region, id, name string) (autoscaling.LaunchTemplate, error) {
	lt, err := a.ec2.LaunchTemplate(ctx, account, region, id, name)
	if err != nil {
		return autoscaling.LaunchTemplate{}, notFoundAs(err, ec2.ErrLaunchTemplateNotFound, autoscaling.ErrLaunchTemplateNotFound, id+name)
	}
	profile := lt.ProfileARN
	if profile == "" {
		profile = lt.ProfileName
	}
	return autoscaling.LaunchTemplate{ID: lt.ID, Name: lt.Name, Settings: autoscaling.Launch{ImageID: lt.ImageID,
		InstanceType: lt.InstanceType, UserData: lt.UserData, IamInstanceProfile: profile, SecurityGroups: lt.SecurityGroupIDs,
		Tags: lt.InstanceTags}}, nil
}
