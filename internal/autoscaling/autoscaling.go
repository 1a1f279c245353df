// Package autoscaling is EC2 Auto Scaling: launch configurations and
// groups whose controller keeps each group's instances, launched through
// EC2, at its desired capacity, balanced over its Availability Zones, and
// replaces the ones EC2 reports no longer running.
package autoscaling

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"overcast"
	api "overcast/internal/api/autoscaling"
	"overcast/internal/awsproto"
	"overcast/internal/controller"
	"overcast/internal/service"
	"overcast/internal/store"
)

const (
	launchConfigsTable = "autoscaling.launchconfigs"
	groupsTable        = "autoscaling.groups"
	// membersTable maps an instance's scoped key to its group's name: how
	// DescribeAutoScalingInstances and EC2's state changes find a group.
	membersTable    = "autoscaling.members"
	activitiesTable = "autoscaling.activities"

	updateAttempts = 10
	// healthCheckEvery is how often a settled group's instances are checked
	// against EC2 when no state change event has come first.
	healthCheckEvery = time.Minute
)

// EC2 is what Auto Scaling needs from EC2, in its own terms.
type EC2 interface {
	Subnet(ctx context.Context, account, region, id string) (Subnet, error)
	// RunInstance launches one instance; asking again with the same
	// ClientToken returns the instance the first call launched.
	RunInstance(ctx context.Context, account, region string, l Launch) (Instance, error)
	// TerminateInstance terminates an instance; one already gone is not an
	// error.
	TerminateInstance(ctx context.Context, account, region, id string) error
	Instance(ctx context.Context, account, region, id string) (Instance, error)
	// LaunchTemplate finds a template by ID or, without one, by name.
	LaunchTemplate(ctx context.Context, account, region, id, name string) (LaunchTemplate, error)
}

// ErrSubnetNotFound and ErrInstanceNotFound are what EC2's methods return
// (wrapped) for IDs naming nothing.
var (
	ErrSubnetNotFound   = errors.New("autoscaling: subnet not found")
	ErrInstanceNotFound = errors.New("autoscaling: instance not found")
)

// Subnet is a subnet as a group spreads over it.
type Subnet struct{ ID, AvailabilityZone string }

// GroupNameTag is the tag AWS gives every instance a group launches: its
// group's name, from the launch on.
const GroupNameTag = "aws:autoscaling:groupName"

// Launch is one instance to launch: the launch configuration's settings
// and where it goes.
type Launch struct {
	ImageID, InstanceType string
	// UserData is base64, as the API carries it.
	UserData           string
	IamInstanceProfile string // a name or an ARN
	SecurityGroups     []string
	// SubnetID, or, without one, AvailabilityZone's default subnet.
	SubnetID, AvailabilityZone string
	Tags                       map[string]string
	ClientToken                string
}

// Instance is an EC2 instance as a group sees it.
type Instance struct {
	ID, State, AvailabilityZone, SubnetID string
}

// Service is EC2 Auto Scaling.
type Service struct {
	api.UnimplementedServer
	service.Base
	ec2    EC2
	groups *controller.Controller
}

var _ api.Server = (*Service)(nil)

// New builds the service; its controller launches through ec2.
func New(env *service.Env, ec2 EC2) *Service {
	s := &Service{Base: env.Base(), ec2: ec2}
	s.groups = env.Controllers.Add(controller.Config{
		Name:       "autoscaling-groups",
		Reconciler: controller.ReconcilerFunc(s.reconcileGroup),
		Keys:       store.TableKeysFunc(s.Store, groupsTable),
		Watch:      []controller.Watch{{Pattern: instanceStateChanges, Keys: s.groupsOfEvent}},
	})
	return s
}

// API is what the gateway serves.
func (s *Service) API() service.API { return service.API{Binding: api.Bind(s), Authz: s.authzTable()} }

func validationError(format string, args ...any) error {
	return &awsproto.Error{Code: "ValidationError", Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

func groupNotFound(name string) error {
	return validationError("AutoScalingGroup name not found - AutoScalingGroup %s not found", name)
}

func launchConfigurationNotFound(name string) error {
	return validationError("Launch configuration name not found - Launch configuration %s not found", name)
}

func scopeOf(ctx context.Context) overcast.Scope { return overcast.ScopeOf(ctx) }

// eachInScope calls fn with every record of table in the caller's scope,
// in key order: what the Describe operations list from.
func eachInScope[T any](ctx context.Context, st store.Store, table string, fn func(T)) error {
	prefix := scopeOf(ctx).Prefix()
	return st.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, table, store.ScanOptions{Prefix: prefix}, func(_ string, v T, _ int64) error {
			fn(v)
			return nil
		})
	})
}
