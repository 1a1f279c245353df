package s3

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"strconv"
	"strings"

	"overcast"
	api "overcast/internal/api/s3"
	"overcast/internal/awsproto"
	"overcast/internal/service"
)

// Static website hosting. The website endpoint serves a bucket that has a
// website configuration to anonymous browsers: index documents for
// "directories", redirects (whole-bucket, per-object and routing rules),
// and HTML error pages or the bucket's error document. It is reached by
//
//   - host: <bucket>.s3-website.localhost[:port] and
//     <bucket>.s3-website-<region>.localhost[:port] (AWS's two spellings);
//   - path, without DNS: /_overcast/s3-website/<bucket>/<key>.

// WebsitePathPrefix is the path under which the website endpoint is
// reachable without DNS.
const WebsitePathPrefix = "/_overcast/s3-website/"

// websiteHostSuffixes are the host suffixes the website endpoint answers:
// the dash-region and dot-region forms for every region.
var websiteHostSuffixes = func() []string {
	out := []string{".s3-website.localhost"}
	for _, r := range regions {
		out = append(out, ".s3-website-"+r+".localhost", ".s3-website."+r+".localhost")
	}
	return out
}()

// websiteHost returns the bucket a website host name names.
func websiteHost(host string) (string, bool) {
	// Every request the gateway routes asks: rule out the ones for no
	// website with one search before trying the suffix of every region.
	if !strings.Contains(strings.ToLower(host), ".s3-website") {
		return "", false
	}
	for _, suffix := range websiteHostSuffixes {
		if bucket, ok := service.HostLabels(host, suffix); ok {
			return bucket, true
		}
	}
	return "", false
}

// regions are the AWS regions the website host names accept.
var regions = []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1", "ap-south-1",
	"ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-northeast-1",
	"ap-northeast-2", "ap-northeast-3", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2", "eu-west-1",
	"eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2", "eu-north-1", "il-central-1", "me-south-1",
	"me-central-1", "sa-east-1"}

// websiteTarget splits a website request into bucket and path.
func websiteTarget(r *http.Request) (bucket, path string, ok bool) {
	if rest, found := strings.CutPrefix(r.URL.Path, WebsitePathPrefix); found {
		bucket, path, _ = strings.Cut(rest, "/")
		return bucket, "/" + path, bucket != ""
	}
	if bucket, ok := websiteHost(r.Host); ok {
		return bucket, r.URL.Path, true
	}
	return "", "", false
}

var anonymous = overcast.Caller{AccountID: overcast.DefaultAccountID, Region: overcast.DefaultRegion,
	Kind: overcast.PrincipalAnonymous, ARN: "*"}

func (s *Service) serveWebsite(w http.ResponseWriter, r *http.Request) {
	ctx := overcast.WithCaller(r.Context(), anonymous)
	reqID := awsproto.RequestID(ctx)
	if reqID == "" {
		reqID = awsproto.NewRequestID()
		ctx = awsproto.WithRequestID(ctx, reqID)
	}
	w.Header().Set("x-amz-request-id", reqID)
	w.Header().Set("x-amz-id-2", awsproto.HostID(reqID))
	bucket, path, ok := websiteTarget(r)
	if !ok {
		s.websiteError(w, r, nil, errNoSuchBucket(""), "")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.websiteError(w, r, nil, errMethodNotAllowed(r.Method, "OBJECT"), "")
		return
	}
	b, err := s.lookupBucket(ctx, bucket)
	if err != nil {
		s.websiteError(w, r, nil, err, "")
		return
	}
	cfg := b.Website
	if cfg == nil {
		s.websiteError(w, r, nil, errNoSuchConfig("NoSuchWebsiteConfiguration",
			"The specified bucket does not have a website configuration", bucket), "")
		return
	}
	if all := cfg.RedirectAllRequestsTo; all != nil {
		proto := deref(all.Protocol)
		if proto == "" {
			proto = "http"
		}
		target := proto + "://" + deref(all.HostName) + r.URL.RawPath
		if r.URL.RawPath == "" {
			target = proto + "://" + deref(all.HostName) + path
		}
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		websiteRedirect(w, target, http.StatusMovedPermanently)
		return
	}
	key := strings.TrimPrefix(path, "/")
	if key == "" || strings.HasSuffix(key, "/") {
		key += deref(cfg.IndexDocument.Suffix)
	}
	if rule := matchRoutingRule(cfg.RoutingRules, key, 0); rule != nil {
		websiteRedirect(w, redirectTarget(r, rule, key), redirectCode(rule))
		return
	}
	res, err := s.read(ctx, websiteRead(r, bucket, key))
	if err == nil && res.o.Redirect != "" {
		res.body.Close()
		websiteRedirect(w, res.o.Redirect, http.StatusMovedPermanently)
		return
	}
	if err != nil && (isCode(err, "NoSuchKey") || isCode(err, "AccessDenied")) && !strings.HasSuffix(path, "/") {
		// "docs" with "docs/index.html" present: redirect to the directory.
		dir := key + "/" + deref(cfg.IndexDocument.Suffix)
		if _, derr := s.read(ctx, readRequest{bucket: bucket, key: dir, head: true, action: "s3:GetObject"}); derr == nil {
			websiteRedirect(w, websiteBase(r, bucket)+"/"+escapePath(key)+"/", http.StatusFound)
			return
		}
	}
	if err != nil {
		s.websiteError(w, r, b, err, key)
		return
	}
	defer res.body.Close()
	writeObjectResponse(w, r, res, http.StatusOK)
}

// websiteRead is the object read for a website GET or HEAD.
func websiteRead(r *http.Request, bucket, key string) readRequest {
	rr := readRequest{bucket: bucket, key: key, head: r.Method == http.MethodHead, action: "s3:GetObject",
		rangeHeader: r.Header.Get("Range"), cond: requestConditions(r.Header)}
	return rr
}

// requestConditions reads RFC 7232 headers; malformed dates are ignored,
// as the RFC says.
func requestConditions(h http.Header) conditions {
	var c conditions
	if v := h.Get("If-Match"); v != "" {
		c.IfMatch = &v
	}
	if v := h.Get("If-None-Match"); v != "" {
		c.IfNoneMatch = &v
	}
	if t, err := http.ParseTime(h.Get("If-Modified-Since")); err == nil {
		c.IfModifiedSince = &t
	}
	if t, err := http.ParseTime(h.Get("If-Unmodified-Since")); err == nil {
		c.IfUnmodifiedSince = &t
	}
	return c
}

// writeObjectResponse writes a GET or HEAD of an object: headers, status
// (206 for ranges) and the body.
func writeObjectResponse(w http.ResponseWriter, r *http.Request, res *objectRead, status int) {
	h := w.Header()
	o := res.o
	ct := o.Headers.Type
	if ct == "" {
		ct = "binary/octet-stream"
	}
	h.Set("Content-Type", ct)
	setIf := func(k, v string) {
		if v != "" {
			h.Set(k, v)
		}
	}
	setIf("Content-Encoding", o.Headers.Encoding)
	setIf("Content-Disposition", o.Headers.Disposition)
	setIf("Content-Language", o.Headers.Language)
	setIf("Cache-Control", o.Headers.CacheControl)
	if o.Headers.Expires != nil {
		h.Set("Expires", o.Headers.Expires.UTC().Format(http.TimeFormat))
	}
	setMetadata(h, o.Meta)
	h.Set("ETag", o.etag())
	h.Set("Last-Modified", o.Modified.UTC().Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	if res.b.versioned() {
		h.Set("x-amz-version-id", o.VersionID)
	}
	h.Set("Content-Length", strconv.FormatInt(res.r.length, 10))
	if res.ranged {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", res.r.start, res.r.start+res.r.length-1, o.Size))
		status = http.StatusPartialContent
	}
	w.WriteHeader(status)
	if res.body != nil && r.Method != http.MethodHead {
		io.Copy(w, res.body)
	}
}

func websiteRedirect(w http.ResponseWriter, location string, code int) {
	w.Header().Set("Location", location)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(code)
}

// matchRoutingRule returns the first rule whose condition holds for key
// and (when not 0) the error code about to be returned.
func matchRoutingRule(rules api.RoutingRules, key string, code int) *api.RoutingRule {
	for i := range rules {
		rule := &rules[i]
		c := rule.Condition
		if c == nil {
			if code == 0 {
				return rule
			}
			continue
		}
		if c.KeyPrefixEquals != nil && !strings.HasPrefix(key, *c.KeyPrefixEquals) {
			continue
		}
		if c.HttpErrorCodeReturnedEquals != nil {
			if code == 0 || strconv.Itoa(code) != *c.HttpErrorCodeReturnedEquals {
				continue
			}
		} else if code != 0 {
			continue
		}
		return rule
	}
	return nil
}

func redirectTarget(r *http.Request, rule *api.RoutingRule, key string) string {
	rd := rule.Redirect
	proto := deref(rd.Protocol)
	if proto == "" {
		proto = "http"
	}
	host := deref(rd.HostName)
	if host == "" {
		host = r.Host
	}
	newKey := key
	switch {
	case rd.ReplaceKeyWith != nil:
		newKey = *rd.ReplaceKeyWith
	case rd.ReplaceKeyPrefixWith != nil:
		prefix := ""
		if rule.Condition != nil {
			prefix = deref(rule.Condition.KeyPrefixEquals)
		}
		newKey = *rd.ReplaceKeyPrefixWith + strings.TrimPrefix(key, prefix)
	}
	pathPrefix := ""
	if rd.HostName == nil {
		// Reached by path: stay on it.
		bucket, _, _ := websiteTarget(r)
		pathPrefix = websiteBase(r, bucket)
	}
	return proto + "://" + host + pathPrefix + "/" + escapePath(newKey)
}

func redirectCode(rule *api.RoutingRule) int {
	if c, err := strconv.Atoi(deref(rule.Redirect.HttpRedirectCode)); err == nil {
		return c
	}
	return http.StatusMovedPermanently
}

// websiteError answers an error the way the website endpoint does:
// a routing rule for the code, the bucket's error document, or AWS's
// HTML error page.
func (s *Service) websiteError(w http.ResponseWriter, r *http.Request, b *bucketRecord, err error, key string) {
	apiErr, ok := awsproto.AsAPIError(err)
	if !ok {
		s.Logger.Error("s3: website", "err", err)
		apiErr = awsproto.InternalFailure()
	}
	status := apiErr.HTTPStatusCode()
	if status == http.StatusNotModified || status == http.StatusPreconditionFailed || status == http.StatusRequestedRangeNotSatisfiable {
		if e, ok := apiErr.(*awsproto.Error); ok {
			for k, vs := range e.Header {
				w.Header()[k] = vs
			}
		}
		w.WriteHeader(status)
		return
	}
	if b != nil && b.Website != nil {
		if rule := matchRoutingRule(b.Website.RoutingRules, key, status); rule != nil {
			websiteRedirect(w, redirectTarget(r, rule, key), redirectCode(rule))
			return
		}
		if doc := b.Website.ErrorDocument; doc != nil && (status == http.StatusNotFound || status == http.StatusForbidden) {
			ctx := overcast.WithCaller(r.Context(), anonymous)
			res, derr := s.read(ctx, readRequest{bucket: b.Name, key: deref(doc.Key), head: r.Method == http.MethodHead, action: "s3:GetObject"})
			if derr == nil {
				if res.body != nil {
					defer res.body.Close()
				}
				writeObjectResponse(w, r, res, status)
				return
			}
			writeErrorPage(w, r, apiErr, key, status, derr)
			return
		}
	}
	writeErrorPage(w, r, apiErr, key, status, nil)
}

// writeErrorPage writes AWS's HTML error page.
func writeErrorPage(w http.ResponseWriter, r *http.Request, e awsproto.APIError, key string, status int, docErr error) {
	reqID := w.Header().Get("x-amz-request-id")
	title := fmt.Sprintf("%d %s", status, http.StatusText(status))
	var b strings.Builder
	fmt.Fprintf(&b, "<html>\n<head><title>%s</title></head>\n<body>\n<h1>%s</h1>\n<ul>\n", title, title)
	fmt.Fprintf(&b, "<li>Code: %s</li>\n<li>Message: %s</li>\n", html.EscapeString(e.ErrorCode()), html.EscapeString(e.ErrorMessage()))
	if ae, ok := e.(*awsproto.Error); ok {
		for _, f := range ae.Fields {
			fmt.Fprintf(&b, "<li>%s: %s</li>\n", f.Name, html.EscapeString(f.Value))
		}
	}
	fmt.Fprintf(&b, "<li>RequestId: %s</li>\n<li>HostId: %s</li>\n</ul>\n", reqID, awsproto.HostID(reqID))
	if docErr != nil {
		de, _ := awsproto.AsAPIError(docErr)
		code, msg := "InternalError", "An internal error occurred."
		if de != nil {
			code, msg = de.ErrorCode(), de.ErrorMessage()
		}
		fmt.Fprintf(&b, "<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>\n<ul>\n<li>Code: %s</li>\n<li>Message: %s</li>\n</ul>\n",
			html.EscapeString(code), html.EscapeString(msg))
	}
	b.WriteString("<hr/>\n</body>\n</html>\n")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		io.WriteString(w, b.String())
	}
}

// websiteBase is the path prefix of the website the request came through:
// empty on a website host, /_overcast/s3-website/<bucket> by path.
func websiteBase(r *http.Request, bucket string) string {
	if strings.HasPrefix(r.URL.Path, WebsitePathPrefix) {
		return WebsitePathPrefix + bucket
	}
	return ""
}
