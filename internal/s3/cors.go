package s3

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	api "overcast/internal/api/s3"
	"overcast/internal/policy"
	"overcast/internal/service"
)

// Bucket CORS. The gateway asks S3 first about every request carrying an
// Origin (CORS, below). For a bucket with a CORS configuration S3 decides
// as AWS does: the first rule matching the origin, method and requested
// headers answers the preflight and decorates the actual response; no
// match means a 403 preflight and no Access-Control headers. Requests to
// buckets without a configuration (and to other services) keep the
// gateway's permissive default, so browser apps work out of the box.

// CORS implements the gateway's CORS hook (service.CORSPolicy); see above.
func (s *Service) CORS(w http.ResponseWriter, r *http.Request, preflight bool) (bool, error) {
	bucket := corsBucket(r)
	if bucket == "" {
		return false, nil
	}
	b, err := s.lookupBucket(r.Context(), bucket)
	if err != nil || len(b.CORS) == 0 {
		return false, nil
	}
	origin := r.Header.Get("Origin")
	method := r.Method
	var requested []string
	if preflight {
		method = r.Header.Get("Access-Control-Request-Method")
		for _, h := range strings.Split(r.Header.Get("Access-Control-Request-Headers"), ",") {
			if h = strings.TrimSpace(h); h != "" {
				requested = append(requested, strings.ToLower(h))
			}
		}
	}
	rule, allowOrigin := matchCORS(b.CORS, origin, method, requested)
	h := w.Header()
	if rule == nil {
		if preflight {
			return true, s3err(http.StatusForbidden, "AccessForbidden",
				"CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
				"Method", method, "ResourceType", corsResourceType(r, bucket))
		}
		return true, nil
	}
	h.Set("Access-Control-Allow-Origin", allowOrigin)
	h.Set("Access-Control-Allow-Methods", strings.Join(rule.AllowedMethods, ", "))
	if allowOrigin != "*" {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	h.Add("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
	if len(rule.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(rule.ExposeHeaders, ", "))
	}
	if rule.MaxAgeSeconds != nil {
		h.Set("Access-Control-Max-Age", strconv.Itoa(int(*rule.MaxAgeSeconds)))
	}
	if preflight {
		if len(requested) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(requested, ", "))
		}
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
	}
	return true, nil
}

// isVirtualHosted reports whether r names its bucket in its host.
func isVirtualHosted(r *http.Request) bool {
	_, ok := service.HostLabels(r.Host, BucketHostSuffix)
	return ok
}

func corsResourceType(r *http.Request, bucket string) string {
	if _, key := splitBucketPath(r, bucket); key != "" {
		return "OBJECT"
	}
	return "BUCKET"
}

// corsBucket finds the bucket a request is for: from a bucket or website
// host, the website path, or the first segment of a path-style S3 request.
func corsBucket(r *http.Request) string {
	if bucket, ok := service.HostLabels(r.Host, BucketHostSuffix); ok {
		return bucket
	}
	if bucket, _, ok := websiteTarget(r); ok {
		return bucket
	}
	if strings.HasPrefix(r.URL.Path, "/_overcast/") {
		return ""
	}
	if auth := r.Header.Get("Authorization"); auth != "" && !strings.Contains(auth, "/s3/aws4_request") {
		return "" // signed for another service
	}
	if cred := r.URL.Query().Get("X-Amz-Credential"); cred != "" && !strings.Contains(cred, "/s3/aws4_request") {
		return ""
	}
	seg, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !validBucketName(seg) {
		return ""
	}
	return seg
}

// splitBucketPath returns the key a path-style or virtual-host request
// names in bucket.
func splitBucketPath(r *http.Request, bucket string) (string, string) {
	p := strings.TrimPrefix(r.URL.Path, "/")
	if rest, ok := strings.CutPrefix(p, bucket); ok && !isVirtualHosted(r) {
		return bucket, strings.TrimPrefix(rest, "/")
	}
	return bucket, p
}

// matchCORS returns the first rule allowing the request, and the value of
// Access-Control-Allow-Origin it gives.
func matchCORS(rules []api.CORSRule, origin, method string, headers []string) (*api.CORSRule, string) {
	for i := range rules {
		rule := &rules[i]
		allowOrigin := ""
		for _, o := range rule.AllowedOrigins {
			if policy.Match(o, origin) {
				allowOrigin = origin
				if o == "*" {
					allowOrigin = "*"
				}
				break
			}
		}
		if allowOrigin == "" {
			continue
		}
		methodOK := false
		for _, m := range rule.AllowedMethods {
			if m == method {
				methodOK = true
				break
			}
		}
		if !methodOK {
			continue
		}
		headersOK := true
		for _, h := range headers {
			// Header names are case-insensitive.
			if !slices.ContainsFunc(rule.AllowedHeaders, func(p string) bool { return policy.Match(strings.ToLower(p), strings.ToLower(h)) }) {
				headersOK = false
				break
			}
		}
		if headersOK {
			return rule, allowOrigin
		}
	}
	return nil, ""
}
