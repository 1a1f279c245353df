// Package applicationautoscaling implements Application Auto Scaling for
// ECS services: scalable targets (a service's desired count between a
// minimum and a maximum), step and target tracking scaling policies whose
// CloudWatch alarms it creates as AWS does, the alarm actions that change
// the desired count, and the scaling activities they leave.
package applicationautoscaling

import (
	"context"
	"fmt"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/applicationautoscaling"
	"overcast/internal/controller"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Service is the Application Auto Scaling API and the runner of its
// policies' alarm actions.
type Service struct {
	api.UnimplementedServer
	service.Base
	alarms    Alarms
	services  ECSServices
	scheduled *controller.Controller // runs scheduled actions when due
}

var _ api.Server = (*Service)(nil)

// ECSServices reads and changes an ECS service's desired count, in the
// scope of the caller in ctx. The app adapts ECS.
type ECSServices interface {
	// DesiredCount is the service's desired count; found is false when
	// the cluster or the service does not exist.
	DesiredCount(ctx context.Context, cluster, service string) (count int32, found bool, err error)
	SetDesiredCount(ctx context.Context, cluster, service string, count int32) error
}

// Alarms creates and deletes the CloudWatch alarms of target tracking
// policies, in the scope of the caller in ctx. The app adapts CloudWatch.
type Alarms interface {
	PutAlarm(ctx context.Context, a Alarm) error
	DeleteAlarms(ctx context.Context, names []string) error
}

// Alarm is a metric alarm a target tracking policy owns.
type Alarm struct {
	Name, Description     string
	Namespace, MetricName string
	Dimensions            []Dimension
	Statistic, Unit       string
	Period                int32 // seconds
	EvaluationPeriods     int32
	Threshold             float64
	ComparisonOperator    string
	// Actions are run when the alarm is in ALARM: the policy's ARN.
	Actions []string
}

// Dimension is a metric dimension.
type Dimension struct{ Name, Value string }

// New returns the service; alarms and services are how it reaches
// CloudWatch and ECS.
func New(env *service.Env, alarms Alarms, services ECSServices) *Service {
	s := &Service{Base: env.Base(), alarms: alarms, services: services}
	s.scheduled = env.Controllers.AddFunc("applicationautoscaling-scheduled", s.reconcileScheduled, store.TableKeysFunc(s.Store, scheduledTable))
	return s
}

// API is the service's API for the gateway.
func (s *Service) API() service.API { return service.API{Binding: api.Bind(s), Authz: s.authzTable()} }

// What overcast scales: ECS services' desired counts.
const (
	namespaceECS     = "ecs"
	dimensionDesired = "ecs:service:DesiredCount"
	// defaultCooldown is ECS's default for every cooldown, in seconds.
	defaultCooldown = 300
)

// targetID names a scalable target within a scope: its three coordinates.
type targetID struct {
	Namespace  string `json:"namespace"`
	ResourceID string `json:"resourceId"`
	Dimension  string `json:"dimension"`
}

func (id targetID) key(sc overcast.Scope) string {
	return sc.Key(id.Namespace + "|" + id.Dimension + "|" + id.ResourceID + "|")
}

func (id targetID) String() string {
	return fmt.Sprintf("service namespace: %s, resource ID: %s, scalable dimension: %s", id.Namespace, id.ResourceID, id.Dimension)
}

// ecsService splits "service/<cluster>/<service>".
func (id targetID) ecsService() (cluster, service string, ok bool) {
	parts := strings.Split(id.ResourceID, "/")
	if len(parts) != 3 || parts[0] != "service" || parts[1] == "" || parts[2] == "" {
		return "", "", false
	}
	return parts[1], parts[2], true
}

// check is AWS's validation of a target's coordinates, for what overcast
// scales.
func (id targetID) check() error {
	if id.Namespace != namespaceECS {
		return api.NewValidationException("Unsupported service namespace: %s. overcast scales ECS services only.", id.Namespace)
	}
	if _, _, ok := id.ecsService(); !ok {
		return api.NewValidationException("Unsupported resource ID: %s. ECS resource IDs have the form service/<cluster-name>/<service-name>.", id.ResourceID)
	}
	if id.Dimension != dimensionDesired {
		return api.NewValidationException("Unsupported scalable dimension: %s for service namespace %s.", id.Dimension, id.Namespace)
	}
	return nil
}

func newTargetID(namespace, resourceID, dimension *string) targetID {
	return targetID{Namespace: service.Deref(namespace), ResourceID: service.Deref(resourceID), Dimension: service.Deref(dimension)}
}

// timeKey orders records by time in a key.
func timeKey(t time.Time) string { return fmt.Sprintf("%020d", t.UnixNano()) }
