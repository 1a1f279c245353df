// Package cloudtrail is AWS CloudTrail: a Recorder that turns every API
// call the gateway serves into a CloudTrail event, the event history
// LookupEvents searches (90 days), and trails that deliver events as
// gzipped log files to S3 and to CloudWatch Logs.
package cloudtrail

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	api "overcast/internal/api/cloudtrail"
	"overcast/internal/authz"
	"overcast/internal/awsproto"
	"overcast/internal/controller"
	"overcast/internal/service"
	"overcast/internal/store"
)

// ObjectWriter is what trails need of S3, which CloudTrail calls as its
// service principal (cloudtrail.amazonaws.com) for the trail sourceARN:
// the bucket's policy must allow it, as in AWS. Errors are S3's API
// errors (NoSuchBucket, AccessDenied, ...).
type ObjectWriter interface {
	GetBucketAcl(ctx context.Context, principal, sourceARN, bucket string) error
	PutObject(ctx context.Context, principal, sourceARN, bucket, key string, body io.Reader, size int64) error
}

// LogWriter is what trails need of CloudWatch Logs: appending records to
// a stream of a log group, creating the stream when it is new.
type LogWriter interface {
	Append(ctx context.Context, account, region, group, stream string, events []LogEvent) error
}

// LogEvent is one record sent to CloudWatch Logs.
type LogEvent struct {
	Time    time.Time
	Message string
}

// Options are what CloudTrail is built with besides its Env.
type Options struct {
	Objects ObjectWriter
	Logs    LogWriter
	// Record turns recording on: without it, Interceptor is nil and the
	// event history stays empty (for measuring its cost).
	Record bool
	// DeliveryInterval is how often trails deliver; 0 is AWS's 5 minutes.
	DeliveryInterval time.Duration
	// Tables are the services' authorization tables, by service ID: the
	// resources each call touches, for LookupEvents' Resources.
	Tables map[string]*authz.Table
}

// retention is how long the event history keeps an event.
const retention = 90 * 24 * time.Hour

// Service is CloudTrail.
type Service struct {
	api.UnimplementedServer
	service.Base
	history  store.Store // the events (service.Env.History); s.Store has the trails
	objects  ObjectWriter
	logs     LogWriter
	recorder *Recorder
	delivery *controller.Periodic
}

var _ api.Server = (*Service)(nil)

// New returns CloudTrail; with opts.Record, its Recorder is running.
func New(env *service.Env, opts Options) *Service {
	s := &Service{Base: env.Base(), history: env.History, objects: opts.Objects, logs: opts.Logs}
	if opts.Record {
		s.recorder = NewRecorder(env.Store, env.History, env.DataDir, env.IDs, env.Clock.Now, env.Logger, opts.Tables)
	}
	interval := opts.DeliveryInterval
	if interval <= 0 {
		interval = 5 * time.Minute
	}
	s.delivery = env.Controllers.Every("cloudtrail-delivery", interval, s.deliver)
	env.Controllers.Every("cloudtrail-retention", time.Hour, s.trim)
	env.Controllers.EveryLocal("cloudtrail-history-move", 0, s.moveHistory) // once, at start
	return s
}

// API is what the gateway serves.
func (s *Service) API() service.API { return service.API{Binding: api.Bind(s), Authz: &authzTable} }

// Interceptor is the recorder the gateway must run outermost around every
// call; nil when recording is off.
func (s *Service) Interceptor() awsproto.Interceptor {
	if s.recorder == nil {
		return nil
	}
	return s.recorder.Intercept
}

// Flush returns once every call answered before it is in the event
// history (tests, and delivery, which wants what was answered).
func (s *Service) Flush() {
	if s.recorder != nil {
		s.recorder.Flush()
	}
}

// changedTrails is called after a trail changed: which calls the
// recorder keeps depends on the trails' selectors.
func (s *Service) changedTrails(ctx context.Context) {
	if s.recorder != nil {
		s.recorder.ReloadSelectors(ctx)
	}
}

// Close writes the events still queued: shutting down loses none.
func (s *Service) Close() error {
	if s.recorder == nil {
		return nil
	}
	return s.recorder.Close()
}

// ctError is one of CloudTrail's errors: its model gives them no message
// member, but AWS sends one.
func ctError(code, format string, args ...any) error {
	return &awsproto.Error{Code: code, Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

func trailNotFound(arn, account string) error {
	return ctError("TrailNotFoundException", "Unknown trail: %s for the user: %s", arn, account)
}
