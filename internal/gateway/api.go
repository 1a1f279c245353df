package gateway

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"overcast/internal/awsproto"
	"overcast/internal/sigv4"
)

// serveAPI serves an AWS API request and returns the service's ID for
// metrics. A virtual-hosted-style S3 request names its bucket, which is
// moved into the path once the signature (over the path as sent) checks.
func (g *Gateway) serveAPI(w http.ResponseWriter, r *http.Request, reqID, bucket string) string {
	auth, parseErr := sigv4.Parse(r)
	if parseErr == sigv4.ErrNoAuth {
		auth, parseErr = nil, nil
	}
	h, r, resolveErr := g.resolve(r, auth)
	if resolveErr != nil {
		awsproto.WriteError(w, nil, "query", resolveErr, reqID, r.Method == http.MethodHead)
		return "unknown"
	}
	if h == nil {
		writeUnknownService(w, r, auth, reqID)
		return "unknown"
	}
	svc := h.Service()
	proto := h.Protocol(r)
	if parseErr != nil {
		awsproto.WriteError(w, svc, proto, authError(parseErr, proto), reqID, r.Method == http.MethodHead)
		return svc.ID
	}
	r, err := g.auth.authenticate(r, auth, h, proto)
	if err != nil {
		apiErr, ok := awsproto.AsAPIError(err)
		if !ok {
			g.logger.Error("authenticating request", "requestId", reqID, "err", err)
			apiErr = awsproto.InternalFailure()
		}
		awsproto.WriteError(w, svc, proto, apiErr, reqID, r.Method == http.MethodHead)
		return svc.ID
	}
	if bucket != "" {
		r = pathStyle(r, bucket)
	}
	h.ServeHTTP(w, r)
	return svc.ID
}

// resolve finds the service a request is for: the SigV4 credential scope
// names it; unsigned requests are recognized by their X-Amz-Target, by the
// Version of a query request, and S3 takes the rest. It may buffer a form
// body to read Version, in which case it returns the request carrying it.
func (g *Gateway) resolve(r *http.Request, auth *sigv4.Auth) (*awsproto.Handler, *http.Request, awsproto.APIError) {
	if auth != nil {
		return g.bySigning[auth.Service], r, nil
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		prefix, _, _ := strings.Cut(target, ".")
		if h := g.byTarget[prefix]; h != nil {
			return h, r, nil
		}
	}
	if version := r.URL.Query().Get("Version"); version != "" {
		if h := g.byVersion[version]; h != nil {
			return h, r, nil
		}
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" && r.Method == http.MethodPost {
		body, err := readBounded(r)
		if err != nil {
			apiErr, _ := awsproto.AsAPIError(err)
			return nil, r, apiErr
		}
		r = withBody(r, body)
		if form, err := url.ParseQuery(string(body)); err == nil {
			if h := g.byVersion[form.Get("Version")]; h != nil {
				return h, r, nil
			}
		}
	}
	return g.bySigning["s3"], r, nil
}

// withBody returns r with an already-read body: readable again, and handed
// to the codec directly.
func withBody(r *http.Request, body []byte) *http.Request {
	r = r.WithContext(awsproto.WithBody(r.Context(), body))
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return r
}

// writeUnknownService answers a request no service claims, in the envelope
// its shape suggests.
func writeUnknownService(w http.ResponseWriter, r *http.Request, auth *sigv4.Auth, reqID string) {
	name := "the requested service"
	if auth != nil {
		name = "service " + auth.Service
	}
	proto := "query"
	if r.Header.Get("X-Amz-Target") != "" || strings.Contains(r.Header.Get("Content-Type"), "json") {
		proto = "json"
	}
	awsproto.WriteError(w, nil, proto, &awsproto.Error{Code: "UnrecognizedService", Status: http.StatusBadRequest,
		Message: "overcast does not provide " + name + "."}, reqID, r.Method == http.MethodHead)
}
