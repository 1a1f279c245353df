package gateway

import (
	"net"
	"net/http"
	"strings"
)

// bucketHost reports whether host is <bucket><suffix> for one of the
// BucketHosts suffixes, and returns the bucket.
func (g *Gateway) bucketHost(host string) (string, bool) {
	if len(g.cfg.BucketHosts) == 0 {
		return "", false
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, suffix := range g.cfg.BucketHosts {
		if bucket, ok := strings.CutSuffix(host, suffix); ok && bucket != "" {
			return bucket, true
		}
	}
	return "", false
}

// pathStyle turns a virtual-hosted-style request for bucket into the
// path-style request the S3 API routes: /key becomes /bucket/key, and /
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

// internalPlane finds the service serving a path under /_overcast/.
func (g *Gateway) internalPlane(path string) (http.Handler, string) {
	for prefix, h := range g.cfg.Internal {
		if strings.HasPrefix(path, prefix) {
			return h, strings.Trim(strings.TrimPrefix(prefix, "/_overcast/"), "/")
		}
	}
	return nil, ""
}
