// Package events implements Amazon EventBridge (and CloudWatch Events, the
// same API): event buses, rules with event patterns or schedules, targets
// with input transformation, retry policies and dead-letter queues,
// PutEvents and TestEventPattern. The state changes every service
// publishes on the internal bus become AWS events on the default bus of
// their account and region.
//
// Delivery is at least once and survives a crash: the transaction that
// accepts an event writes one delivery record per matching target, and a
// controller drains them, retrying with back-off as the target's retry
// policy allows and then sending the event to the target's dead-letter
// queue.
package events

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"overcast"
	api "overcast/internal/api/events"
	"overcast/internal/awsproto"
	"overcast/internal/bus"
	"overcast/internal/clock"
	"overcast/internal/controller"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Store tables. The bus's own tables are events.outbox, events.cursor and
// events.meta: these names stay clear of them.
const (
	// busesTable holds custom event buses, keyed by scope and name.
	busesTable = "events.buses"
	// rulesTable holds rules with their targets, keyed by ruleKey.
	rulesTable = "events.rules"
	// tagsTable holds the tags of buses and rules, keyed by ARN.
	tagsTable = "events.tags"
	// deliveriesTable is the outbox of accepted events: one record per
	// event and target still to deliver.
	deliveriesTable = "events.deliveries"
	// schedulesTable holds when each scheduled rule fires next, keyed by
	// ruleKey.
	schedulesTable = "events.schedules"
)

const (
	defaultBus = "default"
	// servicePrincipal is who EventBridge acts as towards its targets.
	servicePrincipal  = "events.amazonaws.com"
	maxTargetsPerRule = 5
	updateAttempts    = 10
)

type scope = overcast.Scope

// Service is the EventBridge API and its delivery machinery.
type Service struct {
	api.UnimplementedServer
	service.Base
	clock   clock.Clock
	bus     *bus.Bus
	targets Targets

	deliveries *controller.Controller
	schedules  *controller.Controller

	mu sync.Mutex
	// ruleSets caches each bus's compiled rules, by busKey; gen counts
	// changes so that a set compiled from a snapshot older than a change
	// is not cached.
	ruleSets map[string]*ruleSet
	gen      uint64
}

var _ api.Server = (*Service)(nil)

// New returns the service; targets are how it reaches other services.
func New(env *service.Env, targets Targets) *Service {
	s := &Service{Base: env.Base(), clock: env.Clock, bus: env.Bus, targets: targets, ruleSets: map[string]*ruleSet{}}
	s.deliveries = env.Controllers.Add(controller.Config{
		Name:       "events-deliveries",
		Reconciler: controller.ReconcilerFunc(s.reconcileDelivery),
		Keys:       store.TableKeysFunc(s.Store, deliveriesTable),
		Workers:    4,
	})
	s.schedules = env.Controllers.AddFunc("events-schedules", s.reconcileSchedule,
		store.TableKeysFunc(s.Store, schedulesTable))
	// The internal bus's events become AWS events, in the process running
	// the controllers: replicas sharing a store would each forward them.
	if env.Bus != nil {
		env.Controllers.Subscribe("events-service-events", bus.Pattern{}, s.forward)
	}
	return s
}

// API is EventBridge's API for the gateway.
func (s *Service) API() service.API { return service.API{Binding: api.Bind(s), Authz: authzTable} }

// busRecord is a custom event bus; the default bus of each account and
// region exists without one.
type busRecord struct {
	Name        string    `json:"name"`
	ARN         string    `json:"arn"`
	Description string    `json:"description,omitempty"`
	Created     time.Time `json:"created"`
	Modified    time.Time `json:"modified"`
}

// ruleRecord is a rule and its targets.
type ruleRecord struct {
	Name         string       `json:"name"`
	Bus          string       `json:"bus"`
	ARN          string       `json:"arn"`
	EventPattern string       `json:"eventPattern,omitempty"`
	Schedule     string       `json:"schedule,omitempty"`
	State        string       `json:"state"`
	Description  string       `json:"description,omitempty"`
	RoleARN      string       `json:"roleArn,omitempty"`
	ManagedBy    string       `json:"managedBy,omitempty"`
	CreatedBy    string       `json:"createdBy"`
	Created      time.Time    `json:"created"`
	Targets      []api.Target `json:"targets,omitempty"`
}

func (r *ruleRecord) enabled() bool { return r.State != api.RuleStateDISABLED }

func busKey(sc scope, bus string) string { return sc.Key(bus) }

// rulesPrefix is the key prefix of a bus's rules: '|' occurs in neither
// bus nor rule names.
func rulesPrefix(sc scope, bus string) string { return busKey(sc, bus) + "|" }
func ruleKey(sc scope, bus, name string) string {
	return rulesPrefix(sc, bus) + name
}

// scopeOfRuleKey recovers the scope, bus and rule name of a ruleKey.
func scopeOfRuleKey(key string) (scope, string, string, bool) {
	parts := strings.SplitN(key, "/", 3)
	if len(parts) != 3 {
		return scope{}, "", "", false
	}
	bus, name, ok := strings.Cut(parts[2], "|")
	return scope{Account: parts[0], Region: parts[1]}, bus, name, ok
}

func busARN(sc scope, name string) string { return sc.ARN("events", "event-bus/"+name) }

func ruleARN(sc scope, bus, name string) string {
	if bus == defaultBus {
		return sc.ARN("events", "rule/"+name)
	}
	return sc.ARN("events", "rule/"+bus+"/"+name)
}

// busName resolves an EventBusName parameter, a name or an ARN, to a
// name; empty is the default bus.
func busName(p *string) string {
	if p == nil || *p == "" {
		return defaultBus
	}
	if a, ok := overcast.ParseARN(*p); ok && a.Service == "events" {
		if name, ok := strings.CutPrefix(a.Resource, "event-bus/"); ok {
			return name
		}
	}
	return *p
}

// Errors as EventBridge words them.
func notFound(format string, args ...any) error {
	return &awsproto.Error{Code: "ResourceNotFoundException", Status: 400, Message: fmt.Sprintf(format, args...)}
}

func alreadyExists(format string, args ...any) error {
	return &awsproto.Error{Code: "ResourceAlreadyExistsException", Status: 400, Message: fmt.Sprintf(format, args...)}
}

func invalid(format string, args ...any) error {
	return &awsproto.Error{Code: "ValidationException", Status: 400, Message: fmt.Sprintf(format, args...)}
}

func limitExceeded(format string, args ...any) error {
	return &awsproto.Error{Code: "LimitExceededException", Status: 400, Message: fmt.Sprintf(format, args...)}
}

func invalidPattern(src string, err error) error {
	return &awsproto.Error{Code: "InvalidEventPatternException", Status: 400, Message: compileErrorMessage(src, err)}
}

func ruleNotFound(name, bus string) error {
	return notFound("Rule %s does not exist on EventBus %s.", name, bus)
}

// checkBus fails unless the bus exists.
func checkBus(tx store.Tx, sc scope, bus string) error {
	if bus == defaultBus {
		return nil
	}
	if _, err := tx.Get(busesTable, busKey(sc, bus)); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("Event bus %s does not exist.", bus)
		}
		return err
	}
	return nil
}

// getRule reads a rule, or the error AWS gives when it does not exist.
func getRule(tx store.Tx, sc scope, bus, name string) (ruleRecord, int64, error) {
	var r ruleRecord
	v, err := store.GetJSON(tx, rulesTable, ruleKey(sc, bus, name), &r)
	if errors.Is(err, store.ErrNotFound) {
		return r, 0, ruleNotFound(name, bus)
	}
	return r, v, err
}

// rulesChanged drops the bus's cached rule set after a change commits.
func (s *Service) rulesChanged(sc scope, bus string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	delete(s.ruleSets, busKey(sc, bus))
}

// ruleSetOf returns the bus's compiled enabled pattern rules, compiling
// them from tx when the cache has none.
func (s *Service) ruleSetOf(tx store.Tx, sc scope, bus string) (*ruleSet, error) {
	key := busKey(sc, bus)
	s.mu.Lock()
	rs, gen := s.ruleSets[key], s.gen
	s.mu.Unlock()
	if rs != nil {
		return rs, nil
	}
	var names []string
	var patterns []*pattern
	err := store.ScanJSON(tx, rulesTable, store.ScanOptions{Prefix: rulesPrefix(sc, bus)}, func(_ string, r ruleRecord, _ int64) error {
		if !r.enabled() || r.EventPattern == "" {
			return nil
		}
		p, err := compilePattern(r.EventPattern)
		if err != nil {
			s.Logger.Warn("stored event pattern does not compile", "rule", r.ARN, "err", err)
			return nil
		}
		names = append(names, r.Name)
		patterns = append(patterns, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	rs = newRuleSet(names, patterns)
	s.mu.Lock()
	if s.gen == gen {
		s.ruleSets[key] = rs
	}
	s.mu.Unlock()
	return rs, nil
}
