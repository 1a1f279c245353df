// Package ec2 implements the small part of Amazon EC2 that ECS on EC2,
// Elastic Beanstalk and Auto Scaling lean on: a default VPC with default
// subnets and security group per account and region, security groups and
// their rules, tags, a catalogue of instance types and images, instances
// and network interfaces.
//
// There are no virtual machines: an instance is a virtual host, a record
// whose state a controller drives through AWS's state machine, and whose
// capacity ECS accounts for. Every address the API reports lives in
// 127.0.0.0/8, which Linux routes to loopback, so an instance's or a task
// interface's private IP is reachable from the host as is. No public
// addresses exist: an address that pretends to be on the internet while
// being loopback would mislead tools that pick the public one.
package ec2

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"strings"

	"overcast"
	api "overcast/internal/api/ec2"
	"overcast/internal/awsproto"
	"overcast/internal/controller"
	"overcast/internal/service"
)

// Service is the EC2 API, and the instances and network interfaces other
// services (ECS, Elastic Beanstalk, Auto Scaling) use.
type Service struct {
	api.UnimplementedServer
	service.Base
	profiles InstanceProfiles
	// firstBlock is where default VPCs start (Options.FirstBlock).
	firstBlock int

	// lifecycle moves each instance through AWS's state machine
	// (pending → running, stopping → stopped, shutting-down → terminated)
	// and forgets terminated instances an hour after they ended.
	lifecycle *controller.Controller
}

var _ api.Server = (*Service)(nil)

// InstanceProfiles is what RunInstances needs from IAM: the instance
// profile an IamInstanceProfile names, by ARN or by name, in the caller's
// account. A nil InstanceProfiles accepts any profile unchecked.
type InstanceProfiles interface {
	// InstanceProfileARN returns the ARN of the named profile (nameOrARN is
	// a name or an ARN), or ok false when the account has no such profile.
	InstanceProfileARN(ctx context.Context, account, nameOrARN string) (arn string, ok bool, err error)
}

// Options are what the app tells EC2 beyond the environment.
type Options struct {
	Profiles InstanceProfiles // may be nil (see InstanceProfiles)
	// FirstBlock is the second octet of the first /16 of loopback handed
	// to a default VPC (127.<FirstBlock>.0.0/16); 0 means 16. Test servers
	// sharing one Docker engine each take their own, so that two of them
	// never give containers the same address and port.
	FirstBlock int
}

// New returns the service.
func New(env *service.Env, opts Options) *Service {
	s := &Service{Base: env.Base(), profiles: opts.Profiles, firstBlock: cmp.Or(opts.FirstBlock, defaultFirstBlock)}
	s.lifecycle = env.Controllers.AddFunc("ec2-instances", s.reconcileInstance, s.changingInstances)
	return s
}

// API is EC2's API for the gateway.
func (s *Service) API() service.API { return service.API{Binding: api.Bind(s), Authz: authzTable} }

const updateAttempts = 10

type scope = overcast.Scope

// tableOf is the table a resource ID's records live in, by its prefix.
func tableOf(id string) (string, bool) {
	prefix, _, _ := strings.Cut(id, "-")
	switch prefix {
	case "vpc":
		return vpcsTable, true
	case "subnet":
		return subnetsTable, true
	case "sg":
		return groupsTable, true
	case "i":
		return instancesTable, true
	case "eni":
		return interfacesTable, true
	}
	return "", false
}

// resourceType is the name DescribeTags reports for a resource ID.
func resourceType(id string) string {
	switch prefix, _, _ := strings.Cut(id, "-"); prefix {
	case "vpc":
		return "vpc"
	case "subnet":
		return "subnet"
	case "sg":
		return "security-group"
	case "i":
		return "instance"
	case "eni":
		return "network-interface"
	}
	return ""
}

// errors shaped like AWS's: EC2 models none, so they are all awsproto
// errors in the EC2 envelope.

func badRequest(code, format string, args ...any) error {
	return awsproto.Errorf(http.StatusBadRequest, code, format, args...)
}

func invalidParameterValue(format string, args ...any) error {
	return badRequest("InvalidParameterValue", format, args...)
}

func missingParameter(name string) error {
	return badRequest("MissingParameter", "The request must contain the parameter %s", name)
}

// notFound is the "<Kind>ID.NotFound" error for ids: AWS names one ID or
// lists several.
func notFound(code, what string, ids []string) error {
	if len(ids) == 1 {
		return badRequest(code, "The %s ID '%s' does not exist", what, ids[0])
	}
	return badRequest(code, "The %s IDs '%s' do not exist", what, strings.Join(ids, ", "))
}

// malformed is the "<Kind>ID.Malformed" error for an ID that is not one:
// AWS names the prefix it expects, except for instance IDs.
func malformed(code, id, prefix string) error {
	if prefix == "i" {
		return badRequest(code, `Invalid id: "%s"`, id)
	}
	return badRequest(code, `Invalid id: "%s" (expecting "%s-...")`, id, prefix)
}

// checkIDs reports the first of ids that is not a well-formed ID with
// prefix: AWS's IDs are the prefix, a hyphen and 8 or 17 hex digits.
func checkIDs(ids []string, prefix, code string) error {
	for _, id := range ids {
		if !wellFormed(id, prefix) {
			return malformed(code, id, prefix)
		}
	}
	return nil
}

func wellFormed(id, prefix string) bool {
	hex, ok := strings.CutPrefix(id, prefix+"-")
	if !ok || (len(hex) != 8 && len(hex) != 17) {
		return false
	}
	for _, c := range hex {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// awsCode is the AWS error code of err, or "" for other errors.
func awsCode(err error) string {
	var e *awsproto.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
