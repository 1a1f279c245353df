package signed

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
)

// credentials are the signing values of one request, from its query
// string or its cookies.
type credentials struct {
	keyPairID string
	signature string // CloudFront's base64, as sent
	policy    string // custom policy, CloudFront's base64; "" for a canned one
	expires   string // canned policy's expiry, epoch seconds
	hash      string // Hash-Algorithm: "", "SHA1" or "SHA256"
	cookie    bool   // the values came in cookies
}

// The query parameters of a signed URL, and the cookies that carry the
// same values.
const (
	paramExpires   = "Expires"
	paramPolicy    = "Policy"
	paramSignature = "Signature"
	paramKeyPairID = "Key-Pair-Id"
	paramHash      = "Hash-Algorithm"
	cookiePrefix   = "CloudFront-"
)

// set stores a signing value named name (a parameter name, or a cookie
// name without its prefix); other names are not signing values.
func (c *credentials) set(name, value string) {
	var field *string
	switch name {
	case paramExpires:
		field = &c.expires
	case paramPolicy:
		field = &c.policy
	case paramSignature:
		field = &c.signature
	case paramKeyPairID:
		field = &c.keyPairID
	case paramHash:
		field = &c.hash
	default:
		return
	}
	if *field == "" { // the first one counts, as with url.Values.Get
		*field = value
	}
}

// signs reports whether c carries a signature at all; Hash-Algorithm
// alone does not make a signed URL.
func (c *credentials) signs() bool {
	return c.keyPairID != "" || c.signature != "" || c.policy != "" || c.expires != ""
}

// requestCredentials reads the signing values of r. A signed URL takes
// precedence: CloudFront decides on it alone, whatever cookies come with
// it.
func requestCredentials(r *http.Request) credentials {
	var c credentials
	for part := range strings.SplitSeq(r.URL.RawQuery, "&") {
		name, value, _ := strings.Cut(part, "=")
		c.set(name, unescape(value))
	}
	if c.signs() {
		return c
	}
	c = credentials{cookie: true}
	for _, line := range r.Header["Cookie"] {
		for part := range strings.SplitSeq(line, ";") {
			name, value, _ := strings.Cut(strings.TrimSpace(part), "=")
			if rest, ok := strings.CutPrefix(name, cookiePrefix); ok {
				c.set(rest, strings.Trim(value, `"`))
			}
		}
	}
	return c
}

// unescape percent-decodes a query value; CloudFront's base64 alphabet
// needs no escaping, so a value is usually returned as is.
func unescape(v string) string {
	if !strings.Contains(v, "%") {
		return v
	}
	u, err := url.PathUnescape(v)
	if err != nil {
		return v
	}
	return u
}

// isSigningParam reports whether a query parameter is one CloudFront
// takes out of the URL before comparing it with the policy's resource.
func isSigningParam(name string) bool {
	switch name {
	case paramExpires, paramPolicy, paramSignature, paramKeyPairID, paramHash:
		return true
	}
	return false
}

// ResourceURL is the URL CloudFront compares with a policy's Resource:
// scheme://host/path?query, the path and query as the viewer sent them,
// without the signing parameters (Expires, Policy, Signature,
// Key-Pair-Id, Hash-Algorithm). host is the Host the viewer asked for,
// port included when it sent one: that is the URL the signer signed.
func ResourceURL(r *http.Request, scheme, host string) string {
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	query := withoutSigningParams(r.URL.RawQuery)
	if query == "" {
		return scheme + "://" + host + path
	}
	return scheme + "://" + host + path + "?" + query
}

// withoutSigningParams is a raw query string without its signing
// parameters, the others kept as sent and in their order.
func withoutSigningParams(query string) string {
	var kept strings.Builder
	for part := range strings.SplitSeq(query, "&") {
		name, _, _ := strings.Cut(part, "=")
		if part == "" || isSigningParam(name) {
			continue
		}
		if kept.Len() > 0 {
			kept.WriteByte('&')
		}
		kept.WriteString(part)
	}
	return kept.String()
}

// cloudFrontBase64 is standard base64 with the three characters that
// need escaping in a URL swapped: '+' → '-', '=' → '_', '/' → '~'.
var cloudFrontBase64 = strings.NewReplacer("-", "+", "_", "=", "~", "/")

// decodeBase64 decodes CloudFront's base64 variant (standard base64,
// which has none of '-', '_' and '~', decodes too).
func decodeBase64(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(cloudFrontBase64.Replace(s))
}
