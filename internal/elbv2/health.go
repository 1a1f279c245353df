package elbv2

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"overcast/internal/clock"
	"overcast/internal/controller"
	"overcast/internal/store"
)

// targetState is what DescribeTargetHealth reports of a target.
type targetState struct{ State, Reason, Description string }

var (
	stateRegistering    = targetState{"initial", "Elb.RegistrationInProgress", "Target registration is in progress"}
	stateInitialChecks  = targetState{"initial", "Elb.InitialHealthChecking", "Initial health checks in progress"}
	stateHealthy        = targetState{State: "healthy"}
	stateDraining       = targetState{"draining", "Target.DeregistrationInProgress", "Target deregistration is in progress"}
	stateNotRegistered  = targetState{"unused", "Target.NotRegistered", "Target is not registered to the target group"}
	stateNotInUse       = targetState{"unused", "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer"}
	stateFailedChecks   = targetState{"unhealthy", "Target.FailedHealthChecks", "Health checks failed"}
	stateTimedOut       = targetState{"unhealthy", "Target.Timeout", "Request timed out"}
	stateCodeMismatchFn = func(code int) targetState {
		return targetState{"unhealthy", "Target.ResponseCodeMismatch", fmt.Sprintf("Health checks failed with these codes: [%d]", code)}
	}
)

// healthChecker holds what ALB's health checks have found of each target,
// in memory: after a restart targets start over as initial, as they would
// behind a new ALB node.
type healthChecker struct {
	clock  clock.Clock
	client *http.Client

	mu     sync.Mutex
	groups map[string]*groupHealth // by target group store key
	used   map[string]bool         // target group ARNs a listener or rule forwards to
}

type groupHealth struct {
	next    time.Time // when the next round of checks is due
	targets map[string]*targetHealth
}

// targetHealth is one target's record of checks. healthy is read by the
// data plane on every request, without the lock.
type targetHealth struct {
	healthy atomic.Bool
	// healthySince is when it last became healthy (Unix nanoseconds of
	// the service's clock), for slow start.
	healthySince atomic.Int64
	state        targetState
	checked      bool
	successes    int32
	failures     int32
}

func newHealthChecker(c clock.Clock) *healthChecker {
	transport := &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} // ALB does not verify targets' certificates
	return &healthChecker{clock: c, groups: map[string]*groupHealth{}, used: map[string]bool{},
		client: &http.Client{Transport: transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// sync forgets targets no longer registered and records which groups are
// in use.
func (h *healthChecker) sync(tgs []targetGroup, used map[string]string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.used = map[string]bool{}
	for arn := range used {
		h.used[arn] = true
	}
	for _, tg := range tgs {
		key := scopeOfRecord(tg.ARN).Key(tg.ARN)
		g := h.groupLocked(key)
		for k := range g.targets {
			if !slices.ContainsFunc(tg.Targets, func(t target) bool { return t.key() == k && t.DrainUntil.IsZero() }) {
				delete(g.targets, k)
			}
		}
	}
}

func (h *healthChecker) groupLocked(key string) *groupHealth {
	g := h.groups[key]
	if g == nil {
		g = &groupHealth{targets: map[string]*targetHealth{}}
		h.groups[key] = g
	}
	return g
}

// entry is the health record of a target, made on first use.
func (h *healthChecker) entry(key string, t target) *targetHealth {
	h.mu.Lock()
	defer h.mu.Unlock()
	g := h.groupLocked(key)
	e := g.targets[t.key()]
	if e == nil {
		e = &targetHealth{state: stateRegistering}
		g.targets[t.key()] = e
	}
	return e
}

func (h *healthChecker) state(key string, t target) targetState {
	e := h.entry(key, t)
	h.mu.Lock()
	defer h.mu.Unlock()
	return e.state
}

// record applies one check's result to a target: one success makes an
// initial target healthy; UnhealthyThresholdCount failures in a row make
// it unhealthy, HealthyThresholdCount successes in a row healthy again.
func (h *healthChecker) record(e *targetHealth, hc healthCheck, failed *targetState) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e.checked = true
	if failed == nil {
		e.successes, e.failures = e.successes+1, 0
		if e.state.State == "initial" || e.successes >= hc.Healthy {
			e.state = stateHealthy
		}
	} else {
		e.failures, e.successes = e.failures+1, 0
		switch {
		case e.failures >= hc.Unhealthy || e.state.State == "unhealthy":
			e.state = *failed
		case e.state.State == "initial":
			e.state = stateInitialChecks
		}
	}
	healthy := e.state.State == "healthy"
	if healthy && !e.healthy.Load() {
		e.healthySince.Store(h.clock.Now().UnixNano())
	}
	e.healthy.Store(healthy)
}

// check runs one health check of a target and returns why it failed, or
// nil.
func (h *healthChecker) check(ctx context.Context, hc healthCheck, t target) *targetState {
	port := strconv.Itoa(int(t.Port))
	if hc.Port != "traffic-port" {
		port = hc.Port
	}
	n, _ := strconv.Atoi(port)
	host := joinHostPort(t.IP, int32(n))
	ctx, cancel := context.WithTimeout(ctx, time.Duration(hc.Timeout)*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.ToLower(hc.Protocol)+"://"+host+hc.Path, nil)
	if err != nil {
		return &stateFailedChecks
	}
	req.Host = host
	req.Header.Set("User-Agent", "ELB-HealthChecker/2.0")
	resp, err := h.client.Do(req)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &stateTimedOut
	}
	if err != nil {
		return &stateFailedChecks
	}
	resp.Body.Close()
	if !matches(hc.Matcher, resp.StatusCode) {
		s := stateCodeMismatchFn(resp.StatusCode)
		return &s
	}
	return nil
}

// matches reports whether code is one of a Matcher's codes or ranges.
func matches(matcher string, code int) bool {
	for _, part := range strings.Split(matcher, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, _ := strconv.Atoi(lo)
		b := a
		if isRange {
			b, _ = strconv.Atoi(hi)
		}
		if code >= a && code <= b {
			return true
		}
	}
	return false
}

// reconcileHealth is one pass over a target group: it ends deregistration
// delays that are over and, when a round is due (or a target has never
// been checked), health-checks the targets. Rounds are due every
// HealthCheckIntervalSeconds by the clock, from the first, so that a fake
// clock moved by several intervals runs as many rounds.
func (s *Service) reconcileHealth(ctx context.Context, key string) (controller.Result, error) {
	account, rest, _ := strings.Cut(key, "/")
	region, arn, _ := strings.Cut(rest, "/")
	sc := scope{Account: account, Region: region}
	now := s.clock.Now()
	var tg targetGroup
	expired := false
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		var version int64
		var err error
		if tg, version, err = getRecord[targetGroup](tx, targetGroupsTable, sc, arn, errGone); err != nil {
			return err
		}
		n := len(tg.Targets)
		tg.Targets = slices.DeleteFunc(tg.Targets, func(t target) bool { return !t.DrainUntil.IsZero() && !now.Before(t.DrainUntil) })
		if expired = len(tg.Targets) != n; !expired {
			return nil
		}
		_, err = store.PutJSON(tx, targetGroupsTable, key, tg, version)
		return err
	})
	if errors.Is(err, errGone) {
		s.health.forget(key)
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	if expired {
		s.changed(ctx, sc)
	}

	var next time.Time
	for _, t := range tg.Targets {
		if !t.DrainUntil.IsZero() && (next.IsZero() || t.DrainUntil.Before(next)) {
			next = t.DrainUntil
		}
	}
	if full, used := s.health.round(key, arn, tg.HealthCheck, now); used {
		s.runChecks(ctx, key, tg, full)
		if due := s.health.nextDue(key); next.IsZero() || due.Before(next) {
			next = due
		}
	}
	if next.IsZero() {
		return controller.Result{}, nil
	}
	return controller.At(next), nil
}

// round decides what a pass over a group checks: whether the group is in
// use at all and, if so, whether a full round is due (all targets) or
// only targets never checked.
func (h *healthChecker) round(key, arn string, hc healthCheck, now time.Time) (full bool, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.used[arn] {
		return false, false
	}
	g := h.groupLocked(key)
	interval := time.Duration(hc.Interval) * time.Second
	if g.next.IsZero() || now.Sub(g.next) > 10*interval {
		g.next = now
	}
	if now.Before(g.next) {
		return false, true
	}
	g.next = g.next.Add(interval)
	return true, true
}

func (h *healthChecker) nextDue(key string) time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.groupLocked(key).next
}

func (h *healthChecker) forget(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.groups, key)
}

// runChecks checks a group's registered targets in parallel: all of them
// on a full round, else those never checked.
func (s *Service) runChecks(ctx context.Context, key string, tg targetGroup, full bool) {
	var wg sync.WaitGroup
	for _, t := range tg.Targets {
		if !t.DrainUntil.IsZero() {
			continue
		}
		e := s.health.entry(key, t)
		s.health.mu.Lock()
		checked := e.checked
		s.health.mu.Unlock()
		if checked && !full {
			continue
		}
		wg.Go(func() { s.health.record(e, tg.HealthCheck, s.health.check(ctx, tg.HealthCheck, t)) })
	}
	wg.Wait()
}
