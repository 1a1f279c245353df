package sigv4

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Method tells how a request carries its signature.
type Method int

const (
	// HeaderAuth: the Authorization header.
	HeaderAuth Method = iota + 1
	// QueryAuth: X-Amz-* query parameters (a presigned URL).
	QueryAuth
)

func (m Method) String() string {
	switch m {
	case HeaderAuth:
		return "HeaderAuth"
	case QueryAuth:
		return "QueryAuth"
	}
	return "Method(" + strconv.Itoa(int(m)) + ")"
}

// Auth is what Parse extracts from a request, before any secret is known.
type Auth struct {
	Method          Method
	AccessKeyID     string
	Date            time.Time // X-Amz-Date (or the Date header) of the request, UTC
	Region, Service string    // from the credential scope
	SignedHeaders   []string
	Signature       string
	SessionToken    string // X-Amz-Security-Token header or query parameter
	// PayloadHash is the x-amz-content-sha256 value ("" if absent). For
	// presigned S3 requests it is UNSIGNED-PAYLOAD unless the query carries
	// X-Amz-Content-Sha256; presigned requests to other services sign the
	// body's hash, so it is "" and the caller hashes the body.
	PayloadHash string
	Expires     time.Duration // presigned only: X-Amz-Expires

	// amzDate is the timestamp exactly as it goes into the string to sign;
	// kept so Verify need not format Date again.
	amzDate string
}

const (
	algorithm          = "AWS4-HMAC-SHA256"
	scopeTerminator    = "aws4_request"
	amzDateLayout      = "20060102T150405Z"
	maxPresignDuration = 7 * 24 * time.Hour
)

// Parse extracts the SigV4 authentication of r. It returns ErrNoAuth when r is
// not SigV4-signed at all (no Authorization header starting with "AWS4-" and
// no X-Amz-Algorithm query parameter) and *Error with KindIncomplete when the
// signature information is malformed. Parse does not check the time window
// or the signature: that is Verify's job.
func Parse(r *http.Request) (*Auth, error) {
	var authz string
	if v := r.Header["Authorization"]; len(v) > 0 {
		authz = v[0]
	}
	headerAuth := strings.HasPrefix(authz, "AWS4-")
	queryAuth := r.URL != nil && strings.Contains(r.URL.RawQuery, "X-Amz-")
	if queryAuth {
		a, err := parseQuery(r, headerAuth)
		if err != ErrNoAuth {
			return a, err
		}
	}
	if !headerAuth {
		return nil, ErrNoAuth
	}
	return parseHeader(r, authz)
}

func parseHeader(r *http.Request, authz string) (*Auth, error) {
	alg, rest, _ := strings.Cut(authz, " ")
	if alg != algorithm {
		return nil, newError(KindIncomplete, "Unsupported Authorization Type: the only supported algorithm is AWS4-HMAC-SHA256.")
	}
	var credential, signedHeaders, signature string
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, newError(KindIncomplete, "Authorization header requires each component to be of the form key=value. Authorization="+algorithm)
		}
		switch k {
		case "Credential":
			credential = v
		case "SignedHeaders":
			signedHeaders = v
		case "Signature":
			signature = v
		}
	}
	if credential == "" || signedHeaders == "" || signature == "" {
		var msg strings.Builder
		for _, c := range [...]struct {
			name string
			ok   bool
		}{{"Credential", credential != ""}, {"Signature", signature != ""}, {"SignedHeaders", signedHeaders != ""}} {
			if !c.ok {
				msg.WriteString("Authorization header requires '" + c.name + "' parameter. ")
			}
		}
		msg.WriteString("Authorization=" + algorithm)
		return nil, newError(KindIncomplete, msg.String())
	}

	a := &Auth{Method: HeaderAuth, Signature: signature}
	credDate, err := a.setCredential(credential, "The authorization header is malformed; ")
	if err != nil {
		return nil, err
	}
	if v := r.Header["X-Amz-Date"]; len(v) > 0 {
		t, ok := parseAmzDate(v[0])
		if !ok {
			return nil, newError(KindIncomplete, "The authorization header is malformed; X-Amz-Date must be in the ISO8601 basic format yyyyMMdd'T'HHmmss'Z'.")
		}
		a.Date, a.amzDate = t, v[0]
	} else if v := r.Header["Date"]; len(v) > 0 {
		t, err := http.ParseTime(v[0])
		if err != nil {
			return nil, newError(KindIncomplete, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
		}
		a.Date = t.UTC()
		a.amzDate = a.Date.Format(amzDateLayout)
	} else {
		return nil, newError(KindIncomplete, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if !sameDay(credDate, a.Date) {
		return nil, newError(KindIncomplete, "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.")
	}
	a.SignedHeaders = strings.Split(signedHeaders, ";")
	if v := r.Header["X-Amz-Security-Token"]; len(v) > 0 {
		a.SessionToken = v[0]
	}
	if v := r.Header["X-Amz-Content-Sha256"]; len(v) > 0 {
		a.PayloadHash = v[0]
	}
	return a, nil
}

const msgQueryParams = "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."

// parseQuery parses presigned-URL authentication. It returns ErrNoAuth when
// the query has no SigV4 parameters at all.
func parseQuery(r *http.Request, headerAuth bool) (*Auth, error) {
	q := map[string]string{} // the last value of each parameter
	forEachQueryParam(r.URL.RawQuery, func(k, v string) {
		if strings.EqualFold(k, "X-Amz-Content-Sha256") {
			k = "X-Amz-Content-Sha256" // the one parameter named in any case
		}
		q[k] = v
	})
	alg, haveAlg := q["X-Amz-Algorithm"]
	credential, haveCredential := q["X-Amz-Credential"]
	signature, haveSignature := q["X-Amz-Signature"]
	expires, haveExpires := q["X-Amz-Expires"]
	date, signedHeaders, token, contentSHA := q["X-Amz-Date"], q["X-Amz-SignedHeaders"], q["X-Amz-Security-Token"], q["X-Amz-Content-Sha256"]
	if !haveAlg && !haveCredential && !haveSignature {
		// X-Amz-Date or X-Amz-Security-Token alone do not make a presigned
		// URL; the request may still use header auth.
		return nil, ErrNoAuth
	}
	if headerAuth {
		return nil, newError(KindIncomplete, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
	}
	if !haveAlg || credential == "" || date == "" || signedHeaders == "" || signature == "" {
		return nil, newError(KindIncomplete, msgQueryParams)
	}
	if alg != algorithm {
		return nil, newError(KindIncomplete, "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
	}
	a := &Auth{Method: QueryAuth, Signature: signature, SessionToken: token, PayloadHash: contentSHA}
	credDate, err := a.setCredential(credential, "Error parsing the X-Amz-Credential parameter; ")
	if err != nil {
		return nil, err
	}
	t, ok := parseAmzDate(date)
	if !ok {
		return nil, newError(KindIncomplete, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	}
	a.Date, a.amzDate = t, date
	if !sameDay(credDate, a.Date) {
		return nil, newError(KindIncomplete, "Error parsing the X-Amz-Credential parameter; Invalid credential date. Date is not the same as X-Amz-Date.")
	}
	switch {
	case haveExpires:
		n, err := strconv.ParseInt(expires, 10, 64)
		switch {
		case err != nil:
			return nil, newError(KindIncomplete, "X-Amz-Expires should be a number")
		case n < 0:
			return nil, newError(KindIncomplete, "X-Amz-Expires must be non-negative")
		case n == 0:
			return nil, newError(KindIncomplete, "X-Amz-Expires must be at least 1 second")
		case n > int64(maxPresignDuration/time.Second):
			return nil, newError(KindIncomplete, "X-Amz-Expires must be less than a week (in seconds) that is; 604800")
		}
		a.Expires = time.Duration(n) * time.Second
	case isS3(a.Service):
		return nil, newError(KindIncomplete, msgQueryParams)
	default:
		// SDKs presign STS GetCallerIdentity (EKS tokens, Vault) without
		// X-Amz-Expires; AWS then allows the usual 15 minutes.
		a.Expires = defaultMaxSkew
	}
	a.SignedHeaders = strings.Split(signedHeaders, ";")
	if a.PayloadHash == "" && isS3(a.Service) {
		a.PayloadHash = UnsignedPayload
	}
	return a, nil
}

// setCredential fills the access key and scope from
// "<AKID>/<yyyymmdd>/<region>/<service>/aws4_request" and returns the scope
// date (yyyymmdd) for the caller to compare with the request date.
func (a *Auth) setCredential(credential, prefix string) (string, error) {
	bad := func() (string, error) {
		return "", newError(KindIncomplete, prefix+"the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
	}
	akid, rest, ok1 := strings.Cut(credential, "/")
	date, rest, ok2 := strings.Cut(rest, "/")
	region, rest, ok3 := strings.Cut(rest, "/")
	service, term, ok4 := strings.Cut(rest, "/")
	if !ok1 || !ok2 || !ok3 || !ok4 || akid == "" || region == "" || service == "" {
		return bad()
	}
	if term != scopeTerminator {
		return "", newError(KindIncomplete, prefix+"incorrect terminal \""+term+"\". This endpoint uses \"aws4_request\".")
	}
	if len(date) != 8 || !allDigits(date) {
		return bad()
	}
	a.AccessKeyID, a.Region, a.Service = akid, region, service
	return date, nil
}

// parseAmzDate parses the ISO 8601 basic format by hand: time.Parse would
// cost more than the rest of Parse on the hot path.
func parseAmzDate(s string) (time.Time, bool) {
	if len(s) != 16 || s[8] != 'T' || s[15] != 'Z' || !allDigits(s[:8]) || !allDigits(s[9:15]) {
		return time.Time{}, false
	}
	num := func(s string) int {
		n := 0
		for i := 0; i < len(s); i++ {
			n = n*10 + int(s[i]-'0')
		}
		return n
	}
	y, mo, d := num(s[0:4]), num(s[4:6]), num(s[6:8])
	h, mi, sec := num(s[9:11]), num(s[11:13]), num(s[13:15])
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC)
	if t.Day() != d { // e.g. February 30th normalised into March
		return time.Time{}, false
	}
	return t, true
}

func sameDay(yyyymmdd string, t time.Time) bool {
	var b [8]byte
	return string(putDay(b[:0], dayOf(t))) == yyyymmdd
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isS3 reports whether service signs its path as sent instead of
// URI-encoding it again, and presigns with UNSIGNED-PAYLOAD.
func isS3(service string) bool {
	return service == "s3" || service == "s3-object-lambda" || service == "s3express"
}

// forEachQueryParam calls fn for every parameter of raw, decoded the way
// url.ParseQuery decodes them (the SDKs sign url.Values): '+' is a space,
// segments with a bad %-escape are skipped.
func forEachQueryParam(raw string, fn func(k, v string)) {
	forEachRawQueryParam(raw, func(k, v string) {
		k, ok1 := queryUnescape(k)
		v, ok2 := queryUnescape(v)
		if ok1 && ok2 {
			fn(k, v)
		}
	})
}

// forEachRawQueryParam calls fn with the still-escaped key and value of
// every parameter of raw that url.ParseQuery keeps: empty segments and
// those with a semicolon are skipped.
func forEachRawQueryParam(raw string, fn func(k, v string)) {
	for raw != "" {
		var seg string
		seg, raw, _ = strings.Cut(raw, "&")
		if seg == "" || strings.IndexByte(seg, ';') >= 0 {
			continue
		}
		k, v, _ := strings.Cut(seg, "=")
		fn(k, v)
	}
}

// queryUnescape is url.QueryUnescape without the error allocation.
func queryUnescape(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			b = append(b, ' ')
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", false
			}
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
