// Package applicationautoscaling implements Application Auto Scaling for
// ECS services: scalable targets (a service's desired count between a
// minimum and a maximum), step and target tracking scaling policies whose
// CloudWatch alarms it creates as AWS does, the alarm actions that change
// the desired count, and the scaling activities they leave.
package applicationautoscaling

import (
	"context"
	"errors"
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
func (s *Service) API() service.API { return service.API{Binding: api.Bind(s)} }

const (
	// targetsTable holds the scalable targets, keyed by scope and
	// targetID.
	targetsTable = "applicationautoscaling.targets"
	// policiesTable holds the scaling policies, keyed by scope, targetID
	// and policy name.
	policiesTable = "applicationautoscaling.policies"
	// activitiesTable holds scaling activities, keyed by scope, targetID
	// and a time-ordered id.
	activitiesTable = "applicationautoscaling.activities"
)

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
	return targetID{Namespace: deref(namespace), ResourceID: deref(resourceID), Dimension: deref(dimension)}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// page is a Describe operation's page request: at most max records after
// the token, the key the previous page ended at.
type page struct {
	max, limit int32
	token      *string
}

// errPageFull ends a scan once a page has one record more than it shows.
var errPageFull = errors.New("page full")

// inNamespace is what a Describe operation answers: a page of the records
// of table in the caller's scope and the namespace that keep accepts, in
// key order or, when newestFirst, the reverse, as view shows them, and
// the token of the next page if there is one.
func inNamespace[T, V any](ctx context.Context, st store.Store, table string, namespace *string, newestFirst bool, pg page,
	keep func(T) bool, view func(T) V) ([]V, *string, error) {
	prefix := overcast.ScopeOf(ctx).Key(deref(namespace) + "|")
	opt := store.ScanOptions{Prefix: prefix, Reverse: newestFirst}
	if pg.token != nil {
		if !strings.HasPrefix(*pg.token, deref(namespace)+"|") {
			return nil, nil, api.NewInvalidNextTokenException("Invalid token")
		}
		opt.After = overcast.ScopeOf(ctx).Key(*pg.token)
	}
	size := int(pg.limit)
	if pg.max > 0 && pg.max < pg.limit {
		size = int(pg.max)
	}
	out := []V{}
	var next *string
	err := st.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, table, opt, func(key string, v T, _ int64) error {
			if !keep(v) {
				return nil
			}
			if len(out) == size {
				return errPageFull
			}
			out = append(out, view(v))
			next = new(strings.TrimPrefix(key, overcast.ScopeOf(ctx).Prefix()))
			return nil
		})
	})
	if errors.Is(err, errPageFull) {
		return out, next, nil
	}
	return out, nil, err
}

// timeKey orders records by time in a key.
func timeKey(t time.Time) string { return fmt.Sprintf("%020d", t.UnixNano()) }
