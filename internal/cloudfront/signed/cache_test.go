package signed

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"overcast/internal/clock"
)

// TestCheckRemembersVerifiedSignatures: a repeated signature is not
// verified again, yet its expiry, address and resource are checked on
// every request, and a key replaced under the same ID is not trusted
// through what was remembered.
func TestCheckRemembersVerifiedSignatures(t *testing.T) {
	keys := trustedKeys(t)
	clk := clock.NewFake(now)
	v := NewVerifier(clk.Now)
	signedURL := customURL(t, rsaKeyID, rsaPrivate(), page, customPolicy(page, inAnHour, time.Time{}, "192.0.2.0/24"))
	check := func(rawURL, ip string, keys map[string]Key) error {
		r := get(rawURL)
		return v.Check(r, ResourceURL(r, "https", r.Host), net.ParseIP(ip), keys)
	}

	steps := []struct {
		name       string
		url, ip    string
		keys       map[string]Key
		advance    time.Duration
		want       *Denied
		wantChecks int64 // public-key verifications so far
	}{
		{name: "first request verifies", url: signedURL, ip: viewer, keys: keys, wantChecks: 1},
		{name: "second is remembered", url: signedURL, ip: viewer, keys: keys, wantChecks: 1},
		{name: "address still checked", url: signedURL, ip: elsewhr, keys: keys, want: errAccessDenied, wantChecks: 1},
		{name: "key replaced under the same ID", url: signedURL, ip: viewer, keys: map[string]Key{rsaKeyID: {ID: rsaKeyID, Public: otherECDSAKey(t)}},
			want: errAccessDenied, wantChecks: 2},
		{name: "original key again", url: signedURL, ip: viewer, keys: keys, wantChecks: 2},
		{name: "expiry still checked", url: signedURL, ip: viewer, keys: keys, advance: time.Hour, want: errAccessDenied, wantChecks: 2},
	}
	for _, st := range steps {
		clk.Advance(st.advance)
		err := check(st.url, st.ip, st.keys)
		if got, _ := err.(*Denied); err != nil && got == nil || got != st.want {
			t.Errorf("%s: got %v, want %v", st.name, err, st.want)
		}
		if got := v.signatureChecks.Load(); got != st.wantChecks {
			t.Errorf("%s: got %d signature checks, want %d", st.name, got, st.wantChecks)
		}
	}
	if got := remembered(v); got != 0 {
		t.Errorf("after the policy expired: got %d remembered signatures, want 0", got)
	}
}

func remembered(v *Verifier) int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.verified)
}

// TestCheckRemembersCannedURLsPerResource: a canned signature verified
// for one URL does not open another.
func TestCheckRemembersCannedURLsPerResource(t *testing.T) {
	keys := trustedKeys(t)
	v := NewVerifier(clock.NewFake(now).Now)
	signedURL := cannedURL(t, ecdsaKeyID, ecdsaPrivate(), page, inAnHour)
	for _, tt := range []struct {
		resource string
		want     *Denied
	}{
		{page, nil},
		{page + "&more=1", errAccessDenied},
		{page, nil},
	} {
		err := v.Check(get(signedURL), tt.resource, net.ParseIP(viewer), keys)
		if got, _ := err.(*Denied); got != tt.want {
			t.Errorf("resource %s: got %v, want %v", tt.resource, err, tt.want)
		}
	}
	if got := v.signatureChecks.Load(); got != 2 {
		t.Errorf("got %d signature checks, want 2 (one per resource, the repeat remembered)", got)
	}
}

// TestCheckForgetsBeyondItsBound: the Verifier remembers at most
// maxEntries signatures.
func TestCheckForgetsBeyondItsBound(t *testing.T) {
	keys := trustedKeys(t)
	v := NewVerifier(clock.NewFake(now).Now)
	v.maxEntries = 3
	for i := range 10 {
		signedURL := cannedURL(t, ecdsaKeyID, ecdsaPrivate(), page, inAnHour.Add(time.Duration(i)*time.Second))
		r := get(signedURL)
		if err := v.Check(r, ResourceURL(r, "https", r.Host), nil, keys); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if got := remembered(v); got != 3 {
		t.Errorf("got %d remembered signatures, want 3", got)
	}
}

func otherECDSAKey(t testing.TB) *ecdsa.PublicKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &k.PublicKey
}

// BenchmarkCheck: a signed hit costs the request's parsing and a map
// lookup once its signature is known; "verify" is the first request of a
// signature (RSA 2048, SHA1).
func BenchmarkCheck(b *testing.B) {
	keys := trustedKeys(b)
	signedURL := customURL(b, rsaKeyID, rsaPrivate(), page, customPolicy("https://d111111abcdef8.cloudfront.localhost:4566/videos/*", inAnHour, time.Time{}, ""))
	r := get(signedURL)
	ip := net.ParseIP(viewer)
	for _, bb := range []struct {
		name     string
		remember int
	}{{"remembered", cacheSize}, {"verify", 0}} {
		b.Run(bb.name, func(b *testing.B) {
			v := NewVerifier(func() time.Time { return now })
			v.maxEntries = bb.remember
			b.ReportAllocs()
			for b.Loop() {
				if err := v.Check(r, ResourceURL(r, "https", r.Host), ip, keys); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkResourceURL is the part of a signed hit the edge pays before
// Check.
func BenchmarkResourceURL(b *testing.B) {
	r, _ := http.NewRequest(http.MethodGet, page+"&Expires=1&Signature=x&Key-Pair-Id=K", nil)
	for b.Loop() {
		ResourceURL(r, "https", r.Host)
	}
}

// TestCheckConcurrently: one Verifier serves every request of the edge
// at once (run with -race).
func TestCheckConcurrently(t *testing.T) {
	keys := trustedKeys(t)
	v := NewVerifier(clock.NewFake(now).Now)
	v.maxEntries = 2 // forgetting while others read
	urls := []string{
		cannedURL(t, ecdsaKeyID, ecdsaPrivate(), page, inAnHour),
		cannedURL(t, ecdsaKeyID, ecdsaPrivate(), page, inAnHour.Add(time.Second)),
		cannedURL(t, ecdsaKeyID, ecdsaPrivate(), page, inAnHour.Add(2*time.Second)),
	}
	errs := make(chan error, 8*len(urls))
	var wg sync.WaitGroup
	for range 8 {
		for _, u := range urls {
			wg.Go(func() {
				r := get(u)
				errs <- v.Check(r, ResourceURL(r, "https", r.Host), net.ParseIP(viewer), keys)
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Check: got %v, want nil", err)
		}
	}
}
