package gateway

import (
	"net/http"
	"strings"

	"overcast/internal/service"
)

// virtualHost returns the resource a virtual-hosted request for a names
// in its host (the bucket of <bucket>.s3.localhost).
func (a *api) virtualHost(host string) (string, bool) {
	for _, suffix := range a.VirtualHosts {
		if resource, ok := service.HostLabels(host, suffix); ok {
			return resource, true
		}
	}
	return "", false
}

// pathStyle turns a virtual-hosted-style request for a resource into the
// path-style request the API routes: /key becomes /bucket/key, and /
// becomes /bucket.
func pathStyle(r *http.Request, bucket string) *http.Request {
	r = r.Clone(r.Context())
	raw := r.URL.EscapedPath()
	if strings.HasPrefix(r.RequestURI, "/") {
		raw, _, _ = strings.Cut(r.RequestURI, "?")
	}
	if raw == "/" || raw == "" {
		raw = ""
	}
	p := r.URL.Path
	if p == "/" {
		p = ""
	}
	r.URL.Path = "/" + bucket + p
	r.URL.RawPath = "/" + bucket + raw
	r.RequestURI = r.URL.RawPath
	if r.URL.RawQuery != "" {
		r.RequestURI += "?" + r.URL.RawQuery
	}
	return r
}
