// Package cloudwatch implements CloudWatch metrics and metric alarms:
// PutMetricData stores datapoints (with bounded retention), the statistics
// APIs aggregate them per period, and a controller evaluates every alarm on
// AWS's cadence, moving it between OK, ALARM and INSUFFICIENT_DATA with
// AWS's state reasons, history and "CloudWatch Alarm State Change" events.
// Other services publish their metrics (AWS/ECS, AWS/ApplicationELB)
// through Put.
package cloudwatch

import (
	"context"
	"time"

	"overcast"
	api "overcast/internal/api/cloudwatch"
	"overcast/internal/controller"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Service is the CloudWatch API and the metric sink of other services.
type Service struct {
	api.UnimplementedServer
	service.Base
	actions AlarmActions
	alarms  *controller.Controller
}

var _ api.Server = (*Service)(nil)

// AlarmActions runs an alarm's actions when its state changes, and its
// Auto Scaling actions again each period it stays in ALARM: the app
// hands in one that calls Application Auto Scaling policies (and, later,
// SNS topics). The event on the bus is published either way.
type AlarmActions interface {
	RunAlarmAction(ctx context.Context, actionARN string, change StateChange) error
}

// StateChange is an alarm's transition, as its actions see it.
type StateChange struct {
	Account, Region string
	AlarmName       string
	AlarmARN        string
	Previous, State string // OK, ALARM or INSUFFICIENT_DATA
	Reason          string
	// ReasonData is StateReasonData: JSON with the evaluated datapoints
	// ("recentDatapoints") and the threshold, when the alarm has them.
	ReasonData string
	Time       time.Time
}

// New returns the service; actions may be nil, when nothing runs alarm
// actions yet.
func New(env *service.Env, actions AlarmActions) *Service {
	s := &Service{Base: env.Base(), actions: actions}
	s.alarms = env.Controllers.AddFunc("cloudwatch-alarms", s.reconcileAlarm, store.TableKeysFunc(s.Store, alarmsTable))
	env.Controllers.Every("cloudwatch-retention", time.Hour, s.expireDatapoints)
	return s
}

// API is CloudWatch's API for the gateway.
func (s *Service) API() service.API { return service.API{Binding: api.Bind(s), Authz: authzTable} }

// retention bounds how long datapoints are kept: AWS keeps aggregated
// data for 15 months, a local stack needs the recent past.
const retention = 15 * 24 * time.Hour

// updateAttempts bounds the retries of a read-modify-write that lost a race.
const updateAttempts = 10

type scope = overcast.Scope
