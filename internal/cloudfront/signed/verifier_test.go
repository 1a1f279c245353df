package signed

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign"
)

const (
	rsaKeyID   = "K2JCJMDEHXQW5F"
	ecdsaKeyID = "K3ECDSAP256KEY"
	// page is what the viewer asks for; its own query parameter stays
	// in the resource that is signed.
	page    = "https://d111111abcdef8.cloudfront.localhost:4566/videos/a.mp4?quality=hd"
	viewer  = "192.0.2.10"
	elsewhr = "198.51.100.7"
)

var (
	now      = time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	inAnHour = now.Add(time.Hour)

	// rsaPrivate is generated once: 2048-bit keys take a while.
	rsaPrivate = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	})
	ecdsaPrivate = sync.OnceValue(func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

// trustedKeys are the behaviour's keys, read from PEM as the control
// plane hands them over.
func trustedKeys(t testing.TB) map[string]Key {
	t.Helper()
	keys := map[string]Key{}
	for id, pub := range map[string]crypto.PublicKey{rsaKeyID: &rsaPrivate().PublicKey, ecdsaKeyID: &ecdsaPrivate().PublicKey} {
		k, err := ParsePublicKey(id, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix(t, pub)})))
		if err != nil {
			t.Fatal(err)
		}
		keys[id] = k
	}
	return keys
}

// cannedURL is rawURL signed by the SDK with a canned policy.
func cannedURL(t testing.TB, keyID string, signer crypto.Signer, rawURL string, expires time.Time) string {
	t.Helper()
	u, err := sign.NewURLSigner(keyID, signer).Sign(rawURL, expires)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// customURL is rawURL signed by the SDK with p.
func customURL(t testing.TB, keyID string, signer crypto.Signer, rawURL string, p *sign.Policy) string {
	t.Helper()
	u, err := sign.NewURLSigner(keyID, signer).SignWithPolicy(rawURL, p)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// customPolicy is one statement for resource until DateLessThan, with
// the optional conditions when given.
func customPolicy(resource string, until, from time.Time, sourceIP string) *sign.Policy {
	st := sign.Statement{Resource: resource, Condition: sign.Condition{DateLessThan: sign.NewAWSEpochTime(until)}}
	if !from.IsZero() {
		st.Condition.DateGreaterThan = sign.NewAWSEpochTime(from)
	}
	if sourceIP != "" {
		st.Condition.IPAddress = &sign.IPAddress{SourceIP: sourceIP}
	}
	return &sign.Policy{Statements: []sign.Statement{st}}
}

// sdkCookies are the SDK's signed cookies for p (RSA only, as the SDK's
// cookie signer is).
func sdkCookies(t testing.TB, p *sign.Policy) []*http.Cookie {
	t.Helper()
	cookies, err := sign.NewCookieSigner(rsaKeyID, rsaPrivate()).SignWithPolicy(p)
	if err != nil {
		t.Fatal(err)
	}
	return cookies
}

// cannedCookies are canned-policy cookies (CloudFront-Expires), signed by
// the SDK's policy signer with any key.
func cannedCookies(t testing.TB, keyID string, signer crypto.Signer, resource string, expires time.Time) []*http.Cookie {
	t.Helper()
	sig, _, err := sign.NewCannedPolicy(resource, expires).Sign(signer)
	if err != nil {
		t.Fatal(err)
	}
	return []*http.Cookie{
		{Name: "CloudFront-Expires", Value: strconv.FormatInt(expires.Unix(), 10)},
		{Name: "CloudFront-Signature", Value: string(sig)},
		{Name: "CloudFront-Key-Pair-Id", Value: keyID},
	}
}

// sha256URL is rawURL with a custom policy signed over SHA-256, which the
// SDK does not offer.
func sha256URL(t testing.TB, keyID string, signer crypto.Signer, rawURL string, p *sign.Policy, hashParam string) string {
	t.Helper()
	return documentURL(t, keyID, signer, crypto.SHA256, rawURL, sdkDocument(t, p), hashParam)
}

// documentURL is rawURL signed with the custom policy doc, hashed with
// hash, as CloudFront's docs describe signing; hashParam, when set, is
// sent as Hash-Algorithm.
func documentURL(t testing.TB, keyID string, signer crypto.Signer, hash crypto.Hash, rawURL string, doc []byte, hashParam string) string {
	t.Helper()
	digest := hash.New()
	digest.Write(doc)
	sig, err := signer.Sign(rand.Reader, digest.Sum(nil), hash)
	if err != nil {
		t.Fatal(err)
	}
	u := rawURL + "&Policy=" + cfBase64(doc) + "&Signature=" + cfBase64(sig) + "&Key-Pair-Id=" + keyID
	if hashParam != "" {
		u += "&Hash-Algorithm=" + hashParam
	}
	return u
}

// sdkDocument is the document the SDK signs for p.
func sdkDocument(t testing.TB, p *sign.Policy) []byte {
	t.Helper()
	_, b64, err := p.Sign(ecdsaPrivate())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := decodeBase64(string(b64))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func cfBase64(b []byte) string {
	return strings.NewReplacer("+", "-", "=", "_", "/", "~").Replace(base64.StdEncoding.EncodeToString(b))
}

// withParam is rawURL with query parameter name's value replaced.
func withParam(rawURL, name, value string) string {
	base, query, _ := strings.Cut(rawURL, "?")
	parts := strings.Split(query, "&")
	for i, p := range parts {
		if k, _, _ := strings.Cut(p, "="); k == name {
			parts[i] = name + "=" + value
		}
	}
	return base + "?" + strings.Join(parts, "&")
}

// withoutParam is rawURL without query parameter name.
func withoutParam(rawURL, name string) string {
	base, query, _ := strings.Cut(rawURL, "?")
	var kept []string
	for p := range strings.SplitSeq(query, "&") {
		if k, _, _ := strings.Cut(p, "="); k != name {
			kept = append(kept, p)
		}
	}
	return base + "?" + strings.Join(kept, "&")
}

// tamper flips one character of a CloudFront base64 value.
func tamper(v string) string {
	c := byte('A')
	if v[10] == 'A' {
		c = 'B'
	}
	return v[:10] + string(c) + v[11:]
}

func get(rawURL string, cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, rawURL, nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return r
}

// TestCheck: URLs and cookies signed by the AWS SDK, with RSA and ECDSA
// keys, as CloudFront answers them.
func TestCheck(t *testing.T) {
	keys := trustedKeys(t)
	rsaKey, ecKey := rsaPrivate(), ecdsaPrivate()
	const wildcard = "https://d111111abcdef8.cloudfront.localhost:4566/videos/*"
	canned := cannedURL(t, rsaKeyID, rsaKey, page, inAnHour)
	custom := customURL(t, ecdsaKeyID, ecKey, page, customPolicy(wildcard, inAnHour, now.Add(-time.Minute), "192.0.2.0/24"))
	validCookies := sdkCookies(t, customPolicy(wildcard, inAnHour, time.Time{}, ""))
	expiredCookies := sdkCookies(t, customPolicy(wildcard, now.Add(-time.Second), time.Time{}, ""))
	resourceOnly := strings.TrimSuffix(page, "?quality=hd")

	tests := []struct {
		name    string
		request *http.Request
		now     time.Time // zero: now
		viewer  string    // "": viewer
		want    *Denied
	}{
		{name: "canned URL, RSA-SHA1", request: get(canned)},
		{name: "canned URL, ECDSA", request: get(cannedURL(t, ecdsaKeyID, ecKey, page, inAnHour))},
		{name: "custom URL with wildcard, start and address", request: get(custom)},
		{name: "custom URL, ? wildcard", request: get(customURL(t, rsaKeyID, rsaKey, page,
			customPolicy("https://d111111abcdef8.cloudfront.localhost:4566/videos/?.mp4?quality=??", inAnHour, time.Time{}, "")))},
		{name: "custom URL, http* scheme", request: get(customURL(t, rsaKeyID, rsaKey, page,
			customPolicy("http*://d111111abcdef8.cloudfront.localhost:4566/*", inAnHour, time.Time{}, "")))},
		{name: "custom URL without Resource", request: get(documentURL(t, rsaKeyID, rsaKey, crypto.SHA1, page,
			[]byte(`{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":`+strconv.FormatInt(inAnHour.Unix(), 10)+`}}}]}`), ""))},
		{name: "custom URL, single address", request: get(customURL(t, rsaKeyID, rsaKey, page,
			customPolicy(page, inAnHour, time.Time{}, viewer)))},
		{name: "SHA256 custom URL, RSA", request: get(sha256URL(t, rsaKeyID, rsaKey, page, customPolicy(page, inAnHour, time.Time{}, ""), "SHA256"))},
		{name: "SHA256 custom URL, ECDSA", request: get(sha256URL(t, ecdsaKeyID, ecKey, page, customPolicy(wildcard, inAnHour, time.Time{}, ""), "SHA256"))},
		{name: "SHA256 signature without Hash-Algorithm", request: get(sha256URL(t, rsaKeyID, rsaKey, page, customPolicy(page, inAnHour, time.Time{}, ""), "")),
			want: errAccessDenied},
		{name: "SHA1 signature with Hash-Algorithm=SHA256", request: get(canned + "&Hash-Algorithm=SHA256"), want: errAccessDenied},
		{name: "unknown Hash-Algorithm", request: get(canned + "&Hash-Algorithm=MD5"), want: errAccessDenied},

		{name: "expired canned URL", request: get(canned), now: inAnHour, want: errAccessDenied},
		{name: "expired custom URL", request: get(custom), now: inAnHour.Add(time.Second), want: errAccessDenied},
		{name: "custom URL not valid yet", request: get(custom), now: now.Add(-2 * time.Minute), want: errAccessDenied},
		{name: "custom URL from another address", request: get(custom), viewer: elsewhr, want: errAccessDenied},
		{name: "custom URL from an unknown address", request: get(custom), viewer: "-", want: errAccessDenied},
		{name: "canned URL for another path", request: get(strings.Replace(canned, "/a.mp4", "/b.mp4", 1)), want: errAccessDenied},
		{name: "canned URL for another query", request: get(strings.Replace(canned, "quality=hd", "quality=4k", 1)), want: errAccessDenied},
		{name: "canned URL over another scheme", request: get(strings.Replace(canned, "https://", "http://", 1)), want: errAccessDenied},
		{name: "custom URL outside its wildcard", request: get(strings.Replace(custom, "/videos/", "/private/", 1)), want: errAccessDenied},
		{name: "later Expires, same signature", request: get(withParam(canned, "Expires", "4102444800")), want: errAccessDenied},
		{name: "tampered signature", request: get(withParam(canned, "Signature", tamper(paramOf(canned, "Signature")))), want: errAccessDenied},
		{name: "policy of another signature", request: get(withParam(custom, "Policy",
			paramOf(customURL(t, ecdsaKeyID, ecKey, page, customPolicy("*", inAnHour, time.Time{}, "")), "Policy"))), want: errAccessDenied},
		{name: "signed by another trusted key", request: get(withParam(canned, "Key-Pair-Id", ecdsaKeyID)), want: errAccessDenied},

		{name: "unknown key", request: get(withParam(canned, "Key-Pair-Id", "KNOTTRUSTED")), want: errUnknownKey},
		{name: "no signature at all", request: get(page), want: errMissingKey},
		{name: "no Key-Pair-Id", request: get(withoutParam(canned, "Key-Pair-Id")), want: errMissingKey},
		{name: "empty Key-Pair-Id", request: get(withParam(canned, "Key-Pair-Id", "")), want: errMissingKey},
		{name: "no Signature", request: get(withoutParam(canned, "Signature")), want: errAccessDenied},
		{name: "no Expires nor Policy", request: get(withoutParam(canned, "Expires")), want: errMalformedPolicy},
		{name: "Expires not a number", request: get(withParam(canned, "Expires", "tomorrow")), want: errMalformedPolicy},
		{name: "Policy not base64", request: get(withParam(custom, "Policy", "not*base64")), want: errMalformedPolicy},
		{name: "Policy not a policy", request: get(withParam(custom, "Policy", cfBase64([]byte(`{"Statement":[]}`)))), want: errMalformedPolicy},
		{name: "Signature not base64", request: get(withParam(canned, "Signature", "not*base64")), want: errMalformedSignature},

		{name: "SDK cookies", request: get(resourceOnly, validCookies...)},
		{name: "canned cookies, ECDSA", request: get(resourceOnly, cannedCookies(t, ecdsaKeyID, ecKey, resourceOnly, inAnHour)...)},
		{name: "expired cookies", request: get(resourceOnly, expiredCookies...), want: errAccessDenied},
		{name: "cookies for another path", request: get(strings.Replace(resourceOnly, "/videos/", "/music/", 1), validCookies...), want: errAccessDenied},
		{name: "cookies without Key-Pair-Id", request: get(resourceOnly, validCookies[:2]...), want: errMissingKey},
		{name: "cookies without Policy", request: get(resourceOnly, validCookies[1:]...), want: errMalformedPolicy},
		{name: "signed URL beats valid cookies", request: get(withParam(canned, "Signature", tamper(paramOf(canned, "Signature"))), validCookies...),
			want: errAccessDenied},
		{name: "signed URL beats expired cookies", request: get(canned, expiredCookies...)},
		{name: "SHA256 cookies", request: get(resourceOnly, sha256Cookies(t, customPolicy(wildcard, inAnHour, time.Time{}, ""))...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := now
			if !tt.now.IsZero() {
				at = tt.now
			}
			ip := net.ParseIP(cmpOr(tt.viewer, viewer))
			v := NewVerifier(func() time.Time { return at })
			resource := ResourceURL(tt.request, schemeOf(tt.request), tt.request.Host)
			err := v.Check(tt.request, resource, ip, keys)
			if err == nil && tt.want == nil {
				return
			}
			if got, ok := err.(*Denied); !ok || tt.want == nil || *got != *tt.want {
				t.Errorf("Check(%s): got %v, want %v", tt.request.URL, err, tt.want)
			}
		})
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func schemeOf(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// paramOf is the value of query parameter name in rawURL.
func paramOf(rawURL, name string) string {
	_, query, _ := strings.Cut(rawURL, "?")
	for p := range strings.SplitSeq(query, "&") {
		if k, v, _ := strings.Cut(p, "="); k == name {
			return v
		}
	}
	return ""
}

// sha256Cookies are custom-policy cookies signed over SHA-256, with the
// CloudFront-Hash-Algorithm cookie that says so.
func sha256Cookies(t testing.TB, p *sign.Policy) []*http.Cookie {
	t.Helper()
	signedURL := sha256URL(t, rsaKeyID, rsaPrivate(), "https://x/?a=b", p, "SHA256")
	var cookies []*http.Cookie
	for _, name := range []string{"Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm"} {
		cookies = append(cookies, &http.Cookie{Name: "CloudFront-" + name, Value: paramOf(signedURL, name)})
	}
	return cookies
}
