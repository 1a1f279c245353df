package sigv4

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const defaultMaxSkew = 15 * time.Minute

// Verifier holds the verification policy. The zero value is not meant to be
// used; call NewVerifier.
type Verifier struct {
	// Now is the server clock; tests inject a fixed one.
	Now func() time.Time
	// MaxSkew is how far a header-auth request date may be from Now, and how
	// far in the future a presigned URL may start (AWS: 15 minutes).
	MaxSkew time.Duration
}

// NewVerifier returns a Verifier with AWS's policy: the wall clock and a
// 15-minute skew.
func NewVerifier() *Verifier {
	return &Verifier{Now: time.Now, MaxSkew: defaultMaxSkew}
}

func (v *Verifier) now() time.Time {
	if v.Now == nil {
		return time.Now()
	}
	return v.Now()
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew <= 0 {
		return defaultMaxSkew
	}
	return v.MaxSkew
}

// Verify recomputes the signature of r, as parsed into a by Parse, with
// secret, and checks the time window: for header auth the request date must
// be within MaxSkew of Now; a presigned URL must not have expired nor start
// more than MaxSkew in the future.
//
// payloadHash is the canonical request's payload line: the hex SHA-256 of the
// body, or the literal x-amz-content-sha256 value (UNSIGNED-PAYLOAD,
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD, ...). When a.PayloadHash is set the
// caller passes it and checks the body later (NewHashCheckingReader,
// NewChunkedReader); otherwise it buffers the body and passes HashHex(body).
//
// Failures are *Error.
func (v *Verifier) Verify(r *http.Request, a *Auth, secret, payloadHash string) error {
	if a == nil {
		return newError(KindMissing, "Request is missing Authentication Token")
	}
	if a.Method != HeaderAuth && a.Method != QueryAuth {
		return newError(KindIncomplete, "Unknown authentication method.")
	}
	if err := v.checkTime(a); err != nil {
		return err
	}
	var want [32]byte
	if !decodeHex32(&want, a.Signature) {
		return newError(KindSignatureMismatch, msgSignatureMismatch)
	}
	key := signingKeys.get(secret, a.Date, a.Region, a.Service)

	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	s.parseQuery(r.URL.RawQuery, a.Method == QueryAuth)
	path := requestPath(r)
	escape := !isS3(a.Service)
	got, ok := s.signature(r, a, &key, payloadHash, path, escape)
	if ok && subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
		return nil
	}
	// botocore removes dot segments and empty segments from the path before
	// signing for every service but S3; the Go SDK does not. Try its form only
	// when it differs, so the common case costs one signature.
	if escape && ok {
		if norm := normalizePath(path); norm != path {
			got, ok = s.signature(r, a, &key, payloadHash, norm, escape)
			if ok && subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
				return nil
			}
		}
	}
	return newError(KindSignatureMismatch, msgSignatureMismatch)
}

func (v *Verifier) checkTime(a *Auth) error {
	now, skew := v.now().UTC(), v.maxSkew()
	if a.Date.Sub(now) > skew {
		return newError(KindSkewed, "Signature not yet current: "+a.Date.Format(amzDateLayout)+
			" is still later than "+now.Add(skew).Format(amzDateLayout)+
			" ("+now.Format(amzDateLayout)+" + "+minutes(skew)+" min.)")
	}
	switch a.Method {
	case HeaderAuth:
		if now.Sub(a.Date) > skew {
			return newError(KindSkewed, "Signature expired: "+a.Date.Format(amzDateLayout)+
				" is now earlier than "+now.Add(-skew).Format(amzDateLayout)+
				" ("+now.Format(amzDateLayout)+" - "+minutes(skew)+" min.)")
		}
	case QueryAuth:
		if now.Sub(a.Date) > a.Expires {
			return newError(KindExpired, msgExpired)
		}
	}
	return nil
}

func minutes(d time.Duration) string {
	return strconv.FormatFloat(d.Minutes(), 'f', -1, 64)
}

// scratch holds the buffers of one verification, pooled because a gateway
// verifies every request and these would otherwise be its main garbage.
type scratch struct {
	buf    []byte       // canonical request, later the HMAC inner block
	sts    []byte       // string to sign
	arena  []byte       // canonical (re-encoded) query keys and values
	params []queryParam // offsets into arena
}

type queryParam struct{ ks, ke, vs, ve int }

var scratchPool = sync.Pool{New: func() any {
	return &scratch{buf: make([]byte, 0, 1024), sts: make([]byte, 0, 256), arena: make([]byte, 0, 256)}
}}

// parseQuery canonicalizes the query parameters: decoded as url.ParseQuery
// does (what the SDKs sign), re-encoded with the RFC 3986 unreserved set, and
// sorted by key then value after encoding, as SigV4 specifies.
func (s *scratch) parseQuery(raw string, presigned bool) {
	s.arena, s.params = s.arena[:0], s.params[:0]
	forEachRawQueryParam(raw, func(k, v string) {
		ks := len(s.arena)
		var ok bool
		if s.arena, ok = appendQueryComponent(s.arena, k); !ok {
			s.arena = s.arena[:ks]
			return
		}
		ke := len(s.arena)
		if presigned && string(s.arena[ks:ke]) == "X-Amz-Signature" {
			s.arena = s.arena[:ks]
			return
		}
		if s.arena, ok = appendQueryComponent(s.arena, v); !ok {
			s.arena = s.arena[:ks]
			return
		}
		s.params = append(s.params, queryParam{ks, ke, ke, len(s.arena)})
	})
	arena := s.arena
	slices.SortFunc(s.params, func(x, y queryParam) int {
		if c := bytes.Compare(arena[x.ks:x.ke], arena[y.ks:y.ke]); c != 0 {
			return c
		}
		return bytes.Compare(arena[x.vs:x.ve], arena[y.vs:y.ve])
	})
}

// appendQueryComponent decodes a raw query key or value ('+' is a space) and
// appends it URI-encoded. It reports false for a bad %-escape, which
// url.ParseQuery drops.
func appendQueryComponent(dst []byte, raw string) ([]byte, bool) {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch c {
		case '+':
			c = ' '
		case '%':
			if i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2]) {
				return dst, false
			}
			c = unhex(raw[i+1])<<4 | unhex(raw[i+2])
			i += 2
		}
		dst = appendEscaped(dst, c)
	}
	return dst, true
}

const upperHex = "0123456789ABCDEF"

func appendEscaped(dst []byte, c byte) []byte {
	if isUnreserved(c) {
		return append(dst, c)
	}
	return append(dst, '%', upperHex[c>>4], upperHex[c&15])
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// signature computes the request signature for one form of the path. It
// reports false when a signed header is missing from the request.
func (s *scratch) signature(r *http.Request, a *Auth, key *[32]byte, payloadHash, path string, escape bool) ([32]byte, bool) {
	b := s.buf[:0]
	b = append(b, r.Method...)
	b = append(b, '\n')
	b = appendCanonicalURI(b, path, escape)
	b = append(b, '\n')
	for i, p := range s.params {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, s.arena[p.ks:p.ke]...)
		b = append(b, '=')
		b = append(b, s.arena[p.vs:p.ve]...)
	}
	b = append(b, '\n')
	for _, name := range a.SignedHeaders {
		var ok bool
		b = append(b, name...)
		b = append(b, ':')
		if b, ok = appendHeaderValue(b, r, name); !ok {
			s.buf = b
			return [32]byte{}, false
		}
		b = append(b, '\n')
	}
	b = append(b, '\n')
	for i, name := range a.SignedHeaders {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, name...)
	}
	b = append(b, '\n')
	b = append(b, payloadHash...)
	canonical := sha256.Sum256(b)
	s.buf = b

	sts := append(s.sts[:0], algorithm+"\n"...)
	sts = appendAmzDate(sts, a)
	sts = append(sts, '\n')
	sts = appendScope(sts, a)
	sts = append(sts, '\n')
	sts = hex.AppendEncode(sts, canonical[:])
	s.sts = sts
	var sum [32]byte
	sum, s.buf = hmacSHA256(key, sts, s.buf)
	return sum, true
}

func appendAmzDate(b []byte, a *Auth) []byte {
	if a.amzDate != "" {
		return append(b, a.amzDate...)
	}
	return a.Date.UTC().AppendFormat(b, amzDateLayout)
}

func appendScope(b []byte, a *Auth) []byte {
	b = putDay(b, dayOf(a.Date))
	b = append(b, '/')
	b = append(b, a.Region...)
	b = append(b, '/')
	b = append(b, a.Service...)
	return append(b, "/"+scopeTerminator...)
}

// appendCanonicalURI appends the path as the client sent it; for services
// other than S3 every byte outside the unreserved set and '/' is encoded
// again, which double-encodes escapes, exactly as the SDKs sign.
func appendCanonicalURI(b []byte, path string, escape bool) []byte {
	if path == "" {
		path = "/"
	}
	if !escape {
		return append(b, path...)
	}
	for i := 0; i < len(path); i++ {
		if c := path[i]; c == '/' {
			b = append(b, c)
		} else {
			b = appendEscaped(b, c)
		}
	}
	return b
}

// requestPath returns the path exactly as the client sent it. net/url may
// re-encode EscapedPath differently from the wire, so the request line wins.
func requestPath(r *http.Request) string {
	uri := r.RequestURI
	if uri == "" { // built in-process rather than read by net/http's server
		if r.URL == nil {
			return "/"
		}
		if r.URL.Opaque != "" {
			uri = r.URL.Opaque
		} else {
			return r.URL.EscapedPath()
		}
	}
	if uri[0] != '/' {
		// Absolute form ("http://host/path?q"), or "//host/path" opaque.
		if i := strings.Index(uri, "//"); i >= 0 {
			uri = uri[i+2:]
			j := strings.IndexByte(uri, '/')
			if j < 0 {
				return "/"
			}
			uri = uri[j:]
		} else {
			return "/"
		}
	}
	if i := strings.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	return uri
}

// normalizePath removes empty, "." and ".." segments as botocore does before
// signing requests to services other than S3.
func normalizePath(path string) string {
	if !strings.Contains(path, "//") && !strings.Contains(path, "/.") {
		return path
	}
	var out []string
	for _, seg := range strings.Split(path, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	n := "/" + strings.Join(out, "/")
	if strings.HasSuffix(path, "/") && len(out) > 0 {
		n += "/"
	}
	return n
}

// appendHeaderValue appends the canonical value of the signed header name:
// values trimmed, runs of spaces collapsed, several values joined by ','.
// net/http moves Host, Content-Length (when chunked) and Transfer-Encoding
// out of r.Header; they are read back from where it put them.
func appendHeaderValue(b []byte, r *http.Request, name string) ([]byte, bool) {
	if strings.EqualFold(name, "host") {
		if r.Host == "" {
			if r.URL == nil || r.URL.Host == "" {
				return b, false
			}
			return appendTrimmed(b, r.URL.Host), true
		}
		return appendTrimmed(b, r.Host), true
	}
	values, ok := lookupHeader(r.Header, name)
	if !ok {
		switch {
		case strings.EqualFold(name, "content-length") && r.ContentLength >= 0:
			return strconv.AppendInt(b, r.ContentLength, 10), true
		case strings.EqualFold(name, "transfer-encoding") && len(r.TransferEncoding) > 0:
			values = r.TransferEncoding
		default:
			return b, false
		}
	}
	for i, v := range values {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTrimmed(b, v)
	}
	return b, true
}

// lookupHeader finds name in h case-insensitively without allocating in the
// usual case where h holds it under its canonical MIME key.
func lookupHeader(h http.Header, name string) ([]string, bool) {
	var buf [64]byte
	if key, ok := appendCanonicalKey(buf[:0], name); ok {
		if v, ok := h[string(key)]; ok {
			return v, true
		}
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// appendCanonicalKey mirrors textproto.CanonicalMIMEHeaderKey for names made
// of token bytes; for anything else it reports false and the caller scans.
func appendCanonicalKey(b []byte, name string) ([]byte, bool) {
	if name == "" {
		return b, false
	}
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isTokenByte(c) {
			return b, false
		}
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
		upper = c == '-'
	}
	return b, true
}

func isTokenByte(c byte) bool {
	if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// appendTrimmed appends v without leading and trailing whitespace and with
// inner runs of spaces collapsed to one, as the SDKs canonicalize values.
func appendTrimmed(b []byte, v string) []byte {
	v = strings.TrimSpace(v)
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' && i > 0 && v[i-1] == ' ' {
			continue
		}
		b = append(b, c)
	}
	return b
}

// decodeHex32 decodes a 64-digit lowercase or uppercase hex signature.
func decodeHex32[T string | []byte](dst *[32]byte, s T) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < 32; i++ {
		hi, lo := s[2*i], s[2*i+1]
		if !isHex(hi) || !isHex(lo) {
			return false
		}
		dst[i] = unhex(hi)<<4 | unhex(lo)
	}
	return true
}
