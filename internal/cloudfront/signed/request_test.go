package signed

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestResourceURL(t *testing.T) {
	tests := []struct {
		target string
		want   string
	}{
		{"/a.mp4", "https://d.example:8443/a.mp4"},
		{"/a.mp4?Expires=1&Signature=s&Key-Pair-Id=k", "https://d.example:8443/a.mp4"},
		{"/a.mp4?b=2&Expires=1&a=1&Signature=s&Key-Pair-Id=k&Hash-Algorithm=SHA256&Policy=p", "https://d.example:8443/a.mp4?b=2&a=1"},
		{"/a%20b/c%2Fd?x=%41&flag", "https://d.example:8443/a%20b/c%2Fd?x=%41&flag"},
		{"/a?expires=1", "https://d.example:8443/a?expires=1"}, // names are case-sensitive
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, tt.target, nil)
		if got := ResourceURL(r, "https", "d.example:8443"); got != tt.want {
			t.Errorf("ResourceURL(%s): got %s, want %s", tt.target, got, tt.want)
		}
	}
}

// TestCheckResourceWildcards: Resource's * and ? as CloudFront reads
// them (internal/policy's Match, tested there in full).
func TestCheckResourceWildcards(t *testing.T) {
	tests := []struct {
		resource, url string
		want          bool
	}{
		{"https://d/*", "https://d/a/b.mp4?x=1", true},
		{"https://d/*", "http://d/a", false},
		{"http*://d/*", "http://d/a", true},
		{"http*://d/*", "https://d/a", true},
		{"https://d/a?.mp4", "https://d/a1.mp4", true},
		{"https://d/a?.mp4", "https://d/a12.mp4", false},
		{"https://d/*/*.ts", "https://d/a/b/c.ts", true},
		{"https://d/A", "https://d/a", false},
	}
	for _, tt := range tests {
		p := &policy{resource: tt.resource, notAfter: inAnHour}
		if got := p.allows(now, tt.url, netip.Addr{}); got != tt.want {
			t.Errorf("Resource %q, URL %q: got %v, want %v", tt.resource, tt.url, got, tt.want)
		}
	}
}

// TestDeniedBody: CloudFront's bodies, byte for byte (a captured
// MissingKey answer is 146 bytes: one line, no trailing newline).
func TestDeniedBody(t *testing.T) {
	tests := []struct {
		denied *Denied
		want   string
	}{
		{errMissingKey, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>MissingKey</Code><Message>Missing Key-Pair-Id query parameter or cookie value</Message></Error>`},
		{errUnknownKey, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidKey</Code><Message>Unknown Key</Message></Error>`},
		{errMalformedPolicy, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>MalformedPolicy</Code><Message>Malformed Policy</Message></Error>`},
		{errMalformedSignature, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>MalformedSignature</Code><Message>Could not unencode Signature</Message></Error>`},
		{errAccessDenied, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access denied</Message></Error>`},
	}
	for _, tt := range tests {
		if got := string(tt.denied.Body()); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.denied.Code, got, tt.want)
		}
	}
	if got := len(errMissingKey.Body()); got != 146 {
		t.Errorf("MissingKey body: got %d bytes, want 146", got)
	}

	w := httptest.NewRecorder()
	errAccessDenied.WriteTo(w)
	if w.Code != http.StatusForbidden || w.Header().Get("Content-Type") != "text/xml" || w.Body.String() != string(errAccessDenied.Body()) {
		t.Errorf("WriteTo: got %d %q %q, want 403 text/xml and the body", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
}

func TestParsePublicKey(t *testing.T) {
	encode := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		pem     string
		wantErr string
	}{
		{"RSA 2048 PKIX", encode("PUBLIC KEY", pkix(t, &rsaPrivate().PublicKey)), ""},
		{"RSA 2048 PKCS1", encode("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaPrivate().PublicKey)), ""},
		{"ECDSA P-256", encode("PUBLIC KEY", pkix(t, &ecdsaPrivate().PublicKey)), ""},
		{"ECDSA P-384", encode("PUBLIC KEY", pkix(t, &p384.PublicKey)), "want P-256"},
		{"RSA 1024", encode("PUBLIC KEY", pkix(t, &rsa1024.PublicKey)), "want 2048"},
		{"not PEM", "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", "not PEM-encoded"},
		{"private key", encode("PRIVATE KEY", []byte{1}), "not a public key"},
		{"garbage", encode("PUBLIC KEY", []byte{1, 2, 3}), "public key:"},
	}
	for _, tt := range tests {
		k, err := ParsePublicKey("K1", tt.pem)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: got %v, want a key", tt.name, err)
		case tt.wantErr == "" && k.ID != "K1":
			t.Errorf("%s: got ID %q, want K1", tt.name, k.ID)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: got %v, want an error saying %q", tt.name, err, tt.wantErr)
		}
	}
}

func pkix(t testing.TB, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
