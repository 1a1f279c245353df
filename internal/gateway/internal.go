package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// serveInternal answers /_overcast/*: overcast's own endpoints.
func (g *Gateway) serveInternal(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/_overcast/health":
		g.serveHealth(w, r)
	case "/_overcast/metrics":
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		g.metrics.write(w)
		for _, m := range g.cfg.Metrics {
			m.WriteMetrics(w)
		}
	default:
		http.NotFound(w, r)
	}
}

// health is the body of GET /_overcast/health.
type health struct {
	Status   string            `json:"status"`
	Version  string            `json:"version"`
	Services map[string]string `json:"services"`
	Docker   struct {
		Reachable bool         `json:"reachable"`
		Hosts     []DockerHost `json:"hosts,omitempty"`
	} `json:"docker"`
	Store struct {
		Reachable bool `json:"reachable"`
	} `json:"store"`
	// Controllers is "running" where this process reconciles desired
	// state, "standby" on a replica that waits for the lease.
	Controllers string `json:"controllers"`
}

func (g *Gateway) serveHealth(w http.ResponseWriter, r *http.Request) {
	h := health{Status: "ok", Version: g.cfg.Version, Services: map[string]string{}}
	for _, a := range g.all {
		state := "available"
		if !a.h.Implemented() {
			state = "unimplemented"
		}
		h.Services[a.h.Service().ID] = state
	}
	h.Docker.Reachable = g.health.reachable(r.Context())
	if g.cfg.DockerHosts != nil {
		// An engine given on purpose that stops answering is capacity
		// lost: its tasks stop and run elsewhere, which health says.
		h.Docker.Hosts = g.cfg.DockerHosts(r.Context())
		for _, d := range h.Docker.Hosts {
			if !d.Reachable {
				h.Status = "degraded"
			}
		}
	}
	h.Controllers = "running"
	if g.cfg.Leading != nil && !g.cfg.Leading() {
		h.Controllers = "standby"
	}
	// Without its store overcast answers nothing but errors; without
	// Docker it still serves every API that runs no container.
	if h.Store.Reachable = g.storeUp.reachable(r.Context()); !h.Store.Reachable {
		h.Status = "degraded"
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(h)
}

// DockerHost is one engine's entry in health.
type DockerHost struct {
	Host      string `json:"host"`
	Reachable bool   `json:"reachable"`
	// Error is why it does not answer.
	Error string `json:"error,omitempty"`
}

// healthCache keeps health cheap: a probe (Docker, the store) runs at most
// every few seconds, however often health is polled.
type healthCache struct {
	check func(ctx context.Context) bool
	now   func() time.Time

	mu      sync.Mutex
	checked time.Time
	ok      bool
}

func (c *healthCache) reachable(ctx context.Context) bool {
	if c.check == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); now.Sub(c.checked) > 5*time.Second {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		c.ok, c.checked = c.check(ctx), now
	}
	return c.ok
}

// metrics counts requests by service and status, with their total time,
// for /_overcast/metrics in Prometheus's text format.
type metrics struct {
	mu     sync.RWMutex
	series map[[2]string]*series
}

type series struct {
	count   atomic.Int64
	seconds atomic.Int64 // nanoseconds, summed
}

func newMetrics() *metrics { return &metrics{series: map[[2]string]*series{}} }

func (m *metrics) observe(service string, status int, d time.Duration) {
	key := [2]string{service, fmt.Sprint(status)}
	m.mu.RLock()
	s := m.series[key]
	m.mu.RUnlock()
	if s == nil {
		m.mu.Lock()
		if s = m.series[key]; s == nil {
			s = &series{}
			m.series[key] = s
		}
		m.mu.Unlock()
	}
	s.count.Add(1)
	s.seconds.Add(int64(d))
}

func (m *metrics) write(w http.ResponseWriter) {
	m.mu.RLock()
	keys := make([][2]string, 0, len(m.series))
	for k := range m.series {
		keys = append(keys, k)
	}
	m.mu.RUnlock()
	sort.Slice(keys, func(i, j int) bool { return slices.Compare(keys[i][:], keys[j][:]) < 0 })
	var b strings.Builder
	b.WriteString("# HELP overcast_requests_total Requests served, by service and HTTP status.\n# TYPE overcast_requests_total counter\n")
	for _, k := range keys {
		m.mu.RLock()
		s := m.series[k]
		m.mu.RUnlock()
		fmt.Fprintf(&b, "overcast_requests_total{service=%q,status=%q} %d\n", k[0], k[1], s.count.Load())
	}
	b.WriteString("# HELP overcast_request_seconds_total Time spent serving requests, by service and HTTP status.\n# TYPE overcast_request_seconds_total counter\n")
	for _, k := range keys {
		m.mu.RLock()
		s := m.series[k]
		m.mu.RUnlock()
		fmt.Fprintf(&b, "overcast_request_seconds_total{service=%q,status=%q} %.6f\n", k[0], k[1], time.Duration(s.seconds.Load()).Seconds())
	}
	w.Write([]byte(b.String()))
}
