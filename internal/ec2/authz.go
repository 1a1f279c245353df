package ec2

import (
	"strings"

	"overcast"
	api "overcast/internal/api/ec2"
	"overcast/internal/authz"
)

// authzTable is how IAM authorizes EC2's operations (the Service
// Authorization Reference's "Amazon EC2"): on the instances, security
// groups, subnets, network interfaces and launch templates a call names
// by ID. Describe* take no resource. RunInstances touches every resource
// the instance is made of, and the new instance as "instance/*".
var authzTable = &authz.Table{Prefix: "ec2", Rules: map[string]authz.Rule{
	"RunInstances":                  {Resources: authz.On(runInstancesResources)},
	"StartInstances":                {Resources: authz.Ref("InstanceIds", ofType("instance"))},
	"StopInstances":                 {Resources: authz.Ref("InstanceIds", ofType("instance"))},
	"TerminateInstances":            {Resources: authz.Ref("InstanceIds", ofType("instance"))},
	"AuthorizeSecurityGroupIngress": onSecurityGroup,
	"AuthorizeSecurityGroupEgress":  onSecurityGroup,
	"RevokeSecurityGroupIngress":    onSecurityGroup,
	"RevokeSecurityGroupEgress":     onSecurityGroup,
	"DeleteSecurityGroup":           onSecurityGroup,
	"CreateSecurityGroup":           {Resources: authz.Ref("VpcId", ofType("vpc"))},
	"CreateNetworkInterface":        {Resources: authz.Ref("SubnetId", ofType("subnet"))},
	"DeleteNetworkInterface":        {Resources: authz.Ref("NetworkInterfaceId", ofType("network-interface"))},
	"DeleteLaunchTemplate":          {Resources: authz.Ref("LaunchTemplateId", ofType("launch-template"))},
	"CreateTags":                    {Resources: authz.Ref("Resources", taggable)},
	"DeleteTags":                    {Resources: authz.Ref("Resources", taggable)},
}}

var onSecurityGroup = authz.Rule{Resources: authz.Ref("GroupId", ofType("security-group"))}

// ofType is the ARN of EC2's resources of a type, by ID.
func ofType(resourceType string) func(authz.Scope, string) string {
	return func(s authz.Scope, id string) string { return resourceARN(s.Local(), resourceType, id) }
}

// idTypes are the resource types of the ID prefixes of what CreateTags
// tags.
var idTypes = map[string]string{"i": "instance", "sg": "security-group", "subnet": "subnet", "vpc": "vpc",
	"eni": "network-interface", "lt": "launch-template", "ami": "image", "igw": "internet-gateway", "rtb": "route-table"}

// taggable is the ARN of the resource a tagging call names by ID.
func taggable(s authz.Scope, id string) string {
	prefix, _, _ := strings.Cut(id, "-")
	switch t, ok := idTypes[prefix]; {
	case t == "image":
		return imageARN(s, id)
	case ok:
		return resourceARN(s.Local(), t, id)
	}
	return resourceARN(s.Local(), prefix, id) // no resource of overcast's: the call fails
}

// imageARN is an AMI's ARN, which has no account.
func imageARN(s authz.Scope, id string) string {
	return overcast.NewARN("ec2", s.Region, "", "image/"+id).String()
}

func runInstancesResources(s authz.Scope, in *api.RunInstancesRequest) []string {
	sc := s.Local()
	out := []string{resourceARN(sc, "instance", "*")}
	if in.ImageId != nil {
		out = append(out, imageARN(s, *in.ImageId))
	}
	if in.SubnetId != nil {
		out = append(out, resourceARN(sc, "subnet", *in.SubnetId))
	}
	for _, g := range in.SecurityGroupIds {
		out = append(out, resourceARN(sc, "security-group", g))
	}
	if in.KeyName != nil {
		out = append(out, resourceARN(sc, "key-pair", *in.KeyName))
	}
	if lt := in.LaunchTemplate; lt != nil && lt.LaunchTemplateId != nil {
		out = append(out, resourceARN(sc, "launch-template", *lt.LaunchTemplateId))
	}
	return out
}
