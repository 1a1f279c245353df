package app

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"

	"overcast/internal/cloudfront"
	"overcast/internal/cloudfront/edge"
)

// pendingEdge stands in for CloudFront's edge (package edge) until it is
// wired here: it keeps what the control plane deploys, so that
// distributions reach Deployed and invalidations Completed, and answers
// viewers 503. Replace it with edge.New.
type pendingEdge struct {
	mu    sync.Mutex
	hosts map[string]string // domain name or alias → distribution ID
}

var _ cloudfront.Edge = (*pendingEdge)(nil)

func newPendingEdge() *pendingEdge { return &pendingEdge{hosts: map[string]string{}} }

func (e *pendingEdge) Deploy(_ context.Context, d *edge.Distribution) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.forget(d.ID)
	e.hosts[d.DomainName] = d.ID
	if d.Config.Aliases != nil {
		for _, alias := range d.Config.Aliases.Items {
			e.hosts[strings.ToLower(alias)] = d.ID
		}
	}
	return nil
}

func (e *pendingEdge) Remove(_ context.Context, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.forget(id)
	return nil
}

func (e *pendingEdge) forget(id string) {
	for host, of := range e.hosts {
		if of == id {
			delete(e.hosts, host)
		}
	}
}

func (e *pendingEdge) Invalidate(context.Context, string, []string) error { return nil }

func (e *pendingEdge) Serves(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.hosts[strings.ToLower(host)]
	return ok
}

func (e *pendingEdge) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, "the CloudFront edge is not wired in this build", http.StatusServiceUnavailable)
}
