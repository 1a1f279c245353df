package iam

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	api "overcast/internal/api/iam"
	"overcast/internal/store"
)

const defaultMaxSessionDuration = 3600

// roleOut describes a role. ListRoles leaves out tags, the permissions
// boundary and last use (full false), as AWS's does.
func roleOut(acct string, r roleRec, full bool) *api.Role {
	out := &api.Role{Path: new(r.Path), RoleName: new(r.Name), RoleId: new(r.ID),
		Arn: new(roles.arn(acct, r.Path, r.Name)), CreateDate: new(r.Created),
		AssumeRolePolicyDocument: new(encodeDocument(r.Trust)), Description: r.Description,
		MaxSessionDuration: new(r.MaxSession)}
	if full {
		out.Tags = apiTags(r.Tags)
		out.PermissionsBoundary = boundaryOut(r.Boundary)
		out.RoleLastUsed = &api.RoleLastUsed{}
	}
	return out
}

// roleSummary is a role as lists show one.
func roleSummary(_ store.Tx, acct string, r roleRec) (api.Role, error) {
	return *roleOut(acct, r, false), nil
}

func (s *Service) CreateRole(ctx context.Context, in *api.CreateRoleRequest) (*api.CreateRoleResponse, error) {
	if err := checkTagKeys(in.Tags); err != nil {
		return nil, err
	}
	if err := trustPolicyRules.check(*in.AssumeRolePolicyDocument); err != nil {
		return nil, err
	}
	acct := accountOf(ctx)
	r := roleRec{named: roles.newNamed(s, *in.RoleName, in.Path), Trust: *in.AssumeRolePolicyDocument,
		Description: in.Description, MaxSession: defaultMaxSessionDuration, Tags: toTags(in.Tags),
		Boundary: orDefault(in.PermissionsBoundary, "")}
	if in.MaxSessionDuration != nil {
		r.MaxSession = *in.MaxSessionDuration
	}
	if err := createWithBoundary(ctx, s, roleHolder, r); err != nil {
		return nil, err
	}
	return &api.CreateRoleResponse{Role: roleOut(acct, r, true)}, nil
}

func (s *Service) GetRole(ctx context.Context, in *api.GetRoleRequest) (*api.GetRoleResponse, error) {
	r, err := roles.read(ctx, s, *in.RoleName)
	if err != nil {
		return nil, err
	}
	return &api.GetRoleResponse{Role: roleOut(accountOf(ctx), r, true)}, nil
}

func (s *Service) UpdateRole(ctx context.Context, in *api.UpdateRoleRequest) (*api.UpdateRoleResponse, error) {
	err := roles.modify(ctx, s, *in.RoleName, func(_ store.Tx, r *roleRec) error {
		if in.Description != nil {
			r.Description = in.Description
		}
		if in.MaxSessionDuration != nil {
			r.MaxSession = *in.MaxSessionDuration
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdateRoleResponse{}, nil
}

func (s *Service) UpdateRoleDescription(ctx context.Context, in *api.UpdateRoleDescriptionRequest) (*api.UpdateRoleDescriptionResponse, error) {
	var updated roleRec
	err := roles.modify(ctx, s, *in.RoleName, func(_ store.Tx, r *roleRec) error {
		r.Description = in.Description
		updated = *r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdateRoleDescriptionResponse{Role: roleOut(accountOf(ctx), updated, true)}, nil
}

func (s *Service) UpdateAssumeRolePolicy(ctx context.Context, in *api.UpdateAssumeRolePolicyRequest) error {
	if err := trustPolicyRules.check(*in.PolicyDocument); err != nil {
		return err
	}
	return roles.modify(ctx, s, *in.RoleName, func(_ store.Tx, r *roleRec) error {
		if r.ServiceLinked != "" {
			return protectedRole(r.Name)
		}
		r.Trust = *in.PolicyDocument
		return nil
	})
}

func (s *Service) DeleteRole(ctx context.Context, in *api.DeleteRoleRequest) error {
	acct := accountOf(ctx)
	return roles.remove(ctx, s, *in.RoleName, func(tx store.Tx, r roleRec) error {
		if r.ServiceLinked != "" {
			return protectedRole(r.Name)
		}
		err := cmp.Or(mustFirstIf(len(r.InstanceProfiles) > 0, "remove roles from instance profile"), policiesInUse(&r))
		if err != nil {
			return err
		}
		return releaseAttachments(tx, acct, roles.resource, r.Name, r.Attached, r.Boundary)
	})
}

// Service-linked roles.

// serviceLinkedRole is how AWS names and equips the role a service creates
// for itself.
type serviceLinkedRole struct {
	name        string
	policy      string // AWS managed policy attached to it, if overcast has it
	description string
	suffix      bool // whether CustomSuffix is allowed
}

const awsPolicyPrefix = "arn:aws:iam::aws:policy/"

var serviceLinkedRoles = map[string]serviceLinkedRole{
	"ecs.amazonaws.com": {name: "AWSServiceRoleForECS", policy: awsPolicyPrefix + "aws-service-role/AmazonECSServiceRolePolicy",
		description: "Role to enable Amazon ECS to manage your cluster."},
	"elasticloadbalancing.amazonaws.com": {name: "AWSServiceRoleForElasticLoadBalancing",
		policy:      awsPolicyPrefix + "aws-service-role/AWSElasticLoadBalancingServiceRolePolicy",
		description: "Allows ELB to call AWS services on your behalf."},
	"autoscaling.amazonaws.com": {name: "AWSServiceRoleForAutoScaling", policy: awsPolicyPrefix + "aws-service-role/AutoScalingServiceRolePolicy",
		description: "Default Service-Linked Role enables access to AWS Services and Resources used or managed by Auto Scaling", suffix: true},
	"ecs.application-autoscaling.amazonaws.com": {name: "AWSServiceRoleForApplicationAutoScaling_ECSService",
		policy: awsPolicyPrefix + "aws-service-role/AWSApplicationAutoscalingECSServicePolicy"},
	"elasticbeanstalk.amazonaws.com": {name: "AWSServiceRoleForElasticBeanstalk",
		policy: awsPolicyPrefix + "aws-service-role/AWSElasticBeanstalkServiceRolePolicy"},
	"managedupdates.elasticbeanstalk.amazonaws.com": {name: "AWSServiceRoleForElasticBeanstalkManagedUpdates"},
	"spot.amazonaws.com":                            {name: "AWSServiceRoleForEC2Spot"},
	"spotfleet.amazonaws.com":                       {name: "AWSServiceRoleForEC2SpotFleet"},
	"replication.ecr.amazonaws.com":                 {name: "AWSServiceRoleForECRReplication"},
	"logger.cloudfront.amazonaws.com":               {name: "AWSServiceRoleForCloudFrontLogger"},
	"codestar-notifications.amazonaws.com":          {name: "AWSServiceRoleForCodeStarNotifications"},
	"codeguru-reviewer.amazonaws.com":               {name: "AWSServiceRoleForAmazonCodeGuruReviewer"},
	"ssm.amazonaws.com":                             {name: "AWSServiceRoleForAmazonSSM"},
	"events.amazonaws.com":                          {name: "AWSServiceRoleForCloudWatchEvents"},
}

// serviceLinkedRoleFor returns the role a service gets. Services not in the
// table get the name AWS's pattern gives them (foo-bar.amazonaws.com:
// AWSServiceRoleForFooBar) so that tools written for newer services work.
func serviceLinkedRoleFor(service string) (serviceLinkedRole, bool) {
	if slr, ok := serviceLinkedRoles[service]; ok {
		return slr, true
	}
	label, ok := strings.CutSuffix(service, ".amazonaws.com")
	if !ok || label == "" || strings.Contains(label, ".") {
		return serviceLinkedRole{}, false
	}
	var b strings.Builder
	b.WriteString("AWSServiceRoleFor")
	for _, part := range strings.Split(label, "-") {
		if part != "" {
			r := []rune(part)
			b.WriteString(string(unicode.ToUpper(r[0])) + string(r[1:]))
		}
	}
	return serviceLinkedRole{name: b.String(), suffix: true}, true
}

func (s *Service) CreateServiceLinkedRole(ctx context.Context, in *api.CreateServiceLinkedRoleRequest) (*api.CreateServiceLinkedRoleResponse, error) {
	service := *in.AWSServiceName
	slr, ok := serviceLinkedRoleFor(service)
	if !ok {
		return nil, api.NewInvalidInputException("Invalid ServiceName %s. Service principal must end with .amazonaws.com", service)
	}
	name := slr.name
	if in.CustomSuffix != nil {
		if !slr.suffix {
			return nil, api.NewInvalidInputException("Custom suffix is not allowed for %s", service)
		}
		name += "_" + *in.CustomSuffix
	}
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":[%q]},"Action":["sts:AssumeRole"]}]}`, service)
	description := in.Description
	if description == nil && slr.description != "" {
		description = new(slr.description)
	}
	acct := accountOf(ctx)
	r := roleRec{named: roles.newNamed(s, name, new("/aws-service-role/"+service+"/")), Trust: trust,
		Description: description, MaxSession: defaultMaxSessionDuration, ServiceLinked: service}
	if _, ok := s.managed.byARN[slr.policy]; ok {
		r.Attached = []string{slr.policy}
	}
	err := s.update(ctx, func(tx store.Tx) error {
		taken, err := roles.table.exists(tx, acct, name)
		if err != nil {
			return err
		}
		if taken {
			return api.NewInvalidInputException("Service role name %s has been taken in this account, please try a different suffix.", name)
		}
		if err := roles.table.create(tx, acct, r); err != nil {
			return err
		}
		return forEachAttachment(r.Attached, "", func(arn, usage string) error {
			return addAttachment(tx, acct, arn, usage, roles.resource, name)
		})
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateServiceLinkedRoleResponse{Role: roleOut(acct, r, false)}, nil
}

// DeleteServiceLinkedRole deletes the role at once; AWS does it in the
// background, so the answer is a task whose status says it succeeded.
func (s *Service) DeleteServiceLinkedRole(ctx context.Context, in *api.DeleteServiceLinkedRoleRequest) (*api.DeleteServiceLinkedRoleResponse, error) {
	acct := accountOf(ctx)
	var taskID string
	err := roles.remove(ctx, s, *in.RoleName, func(tx store.Tx, r roleRec) error {
		if r.ServiceLinked == "" {
			return api.NewInvalidInputException("Role %s is not a service-linked role.", r.Name)
		}
		if err := mustFirstIf(len(r.InstanceProfiles) > 0, "remove roles from instance profile"); err != nil {
			return err
		}
		if err := releaseAttachments(tx, acct, roles.resource, r.Name, r.Attached, r.Boundary); err != nil {
			return err
		}
		taskID = "task/aws-service-role/" + r.ServiceLinked + "/" + r.Name + "/" + s.IDs.UUID()
		_, err := store.PutJSON(tx, deletionTasksTable, taskID, deletionTask{Account: acct, Status: api.DeletionTaskStatusTypeSUCCEEDED}, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteServiceLinkedRoleResponse{DeletionTaskId: &taskID}, nil
}

func (s *Service) GetServiceLinkedRoleDeletionStatus(ctx context.Context, in *api.GetServiceLinkedRoleDeletionStatusRequest) (*api.GetServiceLinkedRoleDeletionStatusResponse, error) {
	var task deletionTask
	err := s.Store.View(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, deletionTasksTable, *in.DeletionTaskId, &task)
		if errors.Is(err, store.ErrNotFound) || (err == nil && task.Account != accountOf(ctx)) {
			return api.NewNoSuchEntityException("Deletion task %s cannot be found.", *in.DeletionTaskId)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.GetServiceLinkedRoleDeletionStatusResponse{Status: new(task.Status)}, nil
}
