package signed

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// FuzzCheck: whatever a viewer sends in the query string and cookies,
// Check serves it or denies it with one of CloudFront's answers; it never
// panics.
func FuzzCheck(f *testing.F) {
	keys := trustedKeys(f)
	signedURL := cannedURL(f, rsaKeyID, rsaPrivate(), page, inAnHour)
	u, err := url.Parse(signedURL)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(u.RawQuery, "")
	f.Add("", "CloudFront-Key-Pair-Id="+rsaKeyID+"; CloudFront-Policy=e30_; CloudFront-Signature=AA__")
	f.Add("Key-Pair-Id="+rsaKeyID+"&Policy="+cfBase64([]byte(`{"Statement":[null]}`))+"&Signature=x", "")
	f.Add("Key-Pair-Id="+rsaKeyID+"&Policy="+cfBase64([]byte(`{"Statement":[{"Resource":null,"Condition":{"DateLessThan":{"AWS:EpochTime":1e99}}}]}`)), "")
	f.Add("Key-Pair-Id="+ecdsaKeyID+"&Expires=-1&Signature=%zz&Hash-Algorithm=SHA256", `CloudFront-Expires="1"`)
	v := NewVerifier(func() time.Time { return now })
	f.Fuzz(func(t *testing.T, rawQuery, cookie string) {
		r := &http.Request{Method: http.MethodGet, Host: "d.example", URL: &url.URL{Path: "/a", RawQuery: rawQuery}, Header: http.Header{}}
		if cookie != "" {
			r.Header.Set("Cookie", cookie)
		}
		err := v.Check(r, ResourceURL(r, "https", r.Host), net.ParseIP(viewer), keys)
		var denied *Denied
		if err != nil && !errors.As(err, &denied) {
			t.Fatalf("Check: got %v, want nil or a *Denied", err)
		}
	})
}
