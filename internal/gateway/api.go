package gateway

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"overcast/internal/awsproto"
	"overcast/internal/sigv4"
)

// serveAPI serves an AWS API request and returns the service's ID for
// metrics. a is the API when the host named it (a virtual host, whose
// resource is moved into the path once the signature over the path as
// sent checks); nil means find it from the request. rt learns the API as
// soon as it is known.
func (g *Gateway) serveAPI(w http.ResponseWriter, r *http.Request, reqID string, rt *route, a *api, resource string) string {
	auth, parseErr := parseAuth(r)
	if a == nil {
		var err awsproto.APIError
		a, r, err = g.resolve(r, auth)
		if err != nil {
			svc, proto := callerEnvelope(r)
			awsproto.WriteError(w, svc, proto, err, reqID, r.Method == http.MethodHead)
			return "unknown"
		}
		if a == nil {
			svc, proto := callerEnvelope(r)
			awsproto.WriteError(w, svc, proto, unknownService(r, auth, proto), reqID, r.Method == http.MethodHead)
			return "unknown"
		}
	}
	rt.api = a
	var ok bool
	if r, ok = g.authenticate(w, r, reqID, a, resource, auth, parseErr); !ok {
		return a.h.Service().ID
	}
	if resource != "" {
		r = pathStyle(r, resource)
	}
	if len(g.cfg.Interceptors) > 0 {
		r = r.WithContext(awsproto.WithInterceptors(r.Context(), g.cfg.Interceptors...))
	}
	a.h.ServeHTTP(w, r)
	return a.h.Service().ID
}

// parseAuth reads r's SigV4 signature: nil and no error when it has none.
func parseAuth(r *http.Request) (*sigv4.Auth, error) {
	auth, err := sigv4.Parse(r)
	if err == sigv4.ErrNoAuth {
		return nil, nil
	}
	return auth, err
}

// authenticate checks r's signature (auth, or parseErr when it could not
// be read) by a's rules and returns r carrying its caller; when it fails
// it has written the error and returns false.
func (g *Gateway) authenticate(w http.ResponseWriter, r *http.Request, reqID string, a *api, resource string, auth *sigv4.Auth, parseErr error) (*http.Request, bool) {
	proto := a.h.Protocol(r)
	if parseErr != nil {
		awsproto.WriteError(w, a.h.Service(), proto, authError(parseErr, proto), reqID, r.Method == http.MethodHead)
		return r, false
	}
	r, err := g.auth.authenticate(r, auth, a, proto, resource)
	if err != nil {
		g.writeError(w, r, a, proto, err)
		return r, false
	}
	return r, true
}

// writeError writes err in a's envelope; an error that is no API error is
// overcast's own failure, logged and reported as InternalFailure.
func (g *Gateway) writeError(w http.ResponseWriter, r *http.Request, a *api, proto string, err error) {
	reqID := awsproto.RequestID(r.Context())
	apiErr, ok := awsproto.AsAPIError(err)
	if !ok {
		g.logger.Error("gateway: request failed", "requestId", reqID, "err", err)
		apiErr = awsproto.InternalFailure()
	}
	awsproto.WriteError(w, a.h.Service(), proto, apiErr, reqID, r.Method == http.MethodHead)
}

// resolve finds the API a request is for: the SigV4 credential scope
// names it; unsigned requests are recognized by their X-Amz-Target (or the
// service an RPC v2 CBOR path names), by the Version of a query request, and the fallback API (S3) takes the rest. It
// may buffer a form body to read Version, in which case it returns the
// request carrying it. It returns no API for a request that names a
// service overcast does not serve: a scope, or (S3 taking neither) a
// target or a query Action and Version that no API claims.
func (g *Gateway) resolve(r *http.Request, auth *sigv4.Auth) (*api, *http.Request, awsproto.APIError) {
	if auth != nil {
		return g.bySigning[auth.Service], r, nil
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		prefix, _, _ := awsproto.SplitTarget(target)
		return g.byTarget[prefix], r, nil
	}
	if r.Header.Get("Smithy-Protocol") == "rpc-v2-cbor" {
		// RPC v2 names the service shape, the JSON protocols' target prefix, in the path.
		if svc, _, ok := awsproto.CBORTarget(r.URL.Path); ok {
			return g.byTarget[svc], r, nil
		}
	}
	if query := r.URL.Query(); query.Get("Version") != "" {
		if a := g.byVersion[query.Get("Version")]; a != nil || query.Has("Action") {
			return a, r, nil
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
			if a := g.byVersion[form.Get("Version")]; a != nil || (form.Has("Action") && form.Has("Version")) {
				return a, r, nil
			}
		}
	}
	return g.fallback, r, nil
}

// withBody returns r with an already-read body: readable again, and handed
// to the codec directly.
func withBody(r *http.Request, body []byte) *http.Request {
	r = r.WithContext(awsproto.WithBody(r.Context(), body))
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return r
}

// callerEnvelope is the error envelope a request expects when no API
// claims it (or before one does), judged by its shape: JSON RPC names its
// operation in X-Amz-Target, query sends a form or an Action in the URL,
// rest-xml sends XML, and the rest are rest-json calls, the commonest kind
// of AWS API. For JSON it returns a stand-in service that answers in the
// JSON version the caller sent.
func callerEnvelope(r *http.Request) (*awsproto.Service, string) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case r.Header.Get("Smithy-Protocol") == "rpc-v2-cbor":
		return nil, "smithy-rpc-v2-cbor"
	case r.Header.Get("X-Amz-Target") != "":
		version := "1.0"
		if ct == "application/x-amz-json-1.1" {
			version = "1.1"
		}
		return &awsproto.Service{Protocols: []string{"json"}, JSONVersion: version}, "json"
	case ct == "application/x-www-form-urlencoded" || r.URL.Query().Has("Action"):
		return nil, "query"
	case ct == "application/xml" || ct == "text/xml":
		return nil, "rest-xml"
	}
	return nil, "rest-json"
}

// unknownService is the answer to a call of a service overcast does not
// serve: what an AWS endpoint answers for an operation it does not have,
// in proto's family (JSON services UnknownOperationException 400, query
// services InvalidAction 400, REST services UnknownOperationException
// 404), so that clients fail at once instead of retrying, with a message
// that names the service.
func unknownService(r *http.Request, auth *sigv4.Auth, proto string) *awsproto.Error {
	name, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	code, status := "UnknownOperationException", http.StatusNotFound
	switch proto {
	case "json":
		status = http.StatusBadRequest
	case "query":
		form := queryForm(r)
		code, status, op = "InvalidAction", http.StatusBadRequest, form.Get("Action")
		if v := form.Get("Version"); v != "" {
			name = "version " + v
		}
	}
	if auth != nil {
		name = auth.Service
	}
	msg := "overcast does not serve this API"
	if name != "" {
		msg = fmt.Sprintf("overcast does not serve the %s API", name)
	}
	if op != "" {
		msg += fmt.Sprintf(", so it has no operation %s", op)
	}
	return &awsproto.Error{Code: code, Status: status, Message: msg + "."}
}

// queryForm is the parameters of a query request: its form body's and its
// URL's.
func queryForm(r *http.Request) url.Values {
	body, _ := readBounded(r)
	form, _ := url.ParseQuery(string(body))
	for k, vs := range r.URL.Query() {
		if !form.Has(k) {
			form[k] = vs
		}
	}
	return form
}
