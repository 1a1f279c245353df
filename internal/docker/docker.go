// Package docker is overcast's only way to a Docker Engine. For now it
// answers whether an engine is reachable; the engine client that runs
// containers will live here too, so that it stays the one importer.
package docker

import (
	"context"
	"net"
	"net/http"
	"os"
	"strings"
)

// Host is the engine's address: DOCKER_HOST, or the default unix socket.
func Host() string {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return "unix:///var/run/docker.sock"
}

// Reachable reports whether an engine answers /_ping at Host.
func Reachable(ctx context.Context) bool {
	host := Host()
	transport := &http.Transport{}
	base := "http://docker"
	switch {
	case strings.HasPrefix(host, "unix://"):
		path := strings.TrimPrefix(host, "unix://")
		transport.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}
	case strings.HasPrefix(host, "tcp://"):
		base = "http://" + strings.TrimPrefix(host, "tcp://")
	default:
		return false
	}
	defer transport.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_ping", nil)
	if err != nil {
		return false
	}
	resp, err := (&http.Client{Transport: transport}).Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
