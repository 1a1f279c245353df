package oidc_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast/internal/clock"
	"overcast/internal/oidc"
	"overcast/internal/oidc/oidctest"
)

func TestVerifyAlgorithms(t *testing.T) {
	claims := map[string]any{"iss": "https://issuer.test", "sub": "repo:org/app:ref:refs/heads/main",
		"aud": []string{"sts.amazonaws.com", "other"}, "azp": "sts.amazonaws.com", "exp": 2000000000, "nbf": 1000000000,
		"iat": 1000000001, "amr": "authenticated"}
	for _, alg := range []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"} {
		t.Run(alg, func(t *testing.T) {
			k := oidctest.MustKey(t, "k1", alg)
			keys, err := oidc.ParseJWKS(oidctest.JWKS(k))
			if err != nil || len(keys) != 1 {
				t.Fatalf("ParseJWKS: got %d keys, %v; want 1", len(keys), err)
			}
			tok, err := oidc.Parse(k.MustSign(t, claims))
			if err != nil {
				t.Fatal(err)
			}
			if err := tok.Verify(keys[0].Public); err != nil {
				t.Errorf("Verify with the signing key: %v", err)
			}
			other := oidctest.MustKey(t, "k1", alg)
			otherKeys, _ := oidc.ParseJWKS(oidctest.JWKS(other))
			if err := tok.Verify(otherKeys[0].Public); !errors.Is(err, oidc.ErrSignature) {
				t.Errorf("Verify with another key: got %v, want ErrSignature", err)
			}
			c := tok.Claims
			got := []any{tok.KeyID, c.Issuer, c.Subject, c.Audience, c.AuthorizedParty, c.Expiry.Unix(), c.NotBefore.Unix(), c.IssuedAt.Unix(), c.AMR}
			want := []any{"k1", "https://issuer.test", "repo:org/app:ref:refs/heads/main", []string{"sts.amazonaws.com", "other"},
				"sts.amazonaws.com", int64(2000000000), int64(1000000000), int64(1000000001), []string{"authenticated"}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	k := oidctest.MustKey(t, "k", "ES256")
	good := k.MustSign(t, map[string]any{"sub": "x"})
	tests := map[string]string{
		"not a JWT":         "opaque-access-token",
		"two parts":         "eyJhbGciOiJub25lIn0.e30",
		"bad base64":        "!!.e30.sig",
		"no alg":            "e30.e30.",
		"sub not a string":  k.MustSign(t, map[string]any{"sub": 7}),
		"exp not a number":  k.MustSign(t, map[string]any{"exp": "tomorrow"}),
		"aud not strings":   k.MustSign(t, map[string]any{"aud": []int{1}}),
		"signature garbled": good[:len(good)-3] + "!!!",
	}
	for name, raw := range tests {
		if _, err := oidc.Parse(raw); !errors.Is(err, oidc.ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
	// An unsigned token ("alg": "none") parses but never verifies.
	tok, err := oidc.Parse("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := oidc.ParseJWKS(oidctest.JWKS(k))
	if err := tok.Verify(keys[0].Public); !errors.Is(err, oidc.ErrSignature) {
		t.Errorf("alg none: got %v, want ErrSignature", err)
	}
}

func TestKeysDiscoveryCacheAndRotation(t *testing.T) {
	ctx := context.Background()
	first := oidctest.MustKey(t, "first", "RS256")
	iss := oidctest.NewIssuer(t, first)
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	keys := &oidc.Keys{Client: trusting(t, iss.CAFile), Now: clk.Now}

	if _, err := keys.Key(ctx, iss.URL, "", "first"); err != nil {
		t.Fatalf("first key: %v", err)
	}
	if _, err := keys.Key(ctx, iss.URL, "", "first"); err != nil {
		t.Fatalf("first key again: %v", err)
	}
	if got := iss.FetchCount(); got != 1 {
		t.Errorf("after two lookups of one key: %d fetches, want 1 (cached)", got)
	}

	// The issuer rotates: a token naming the new key fetches the set anew.
	second := oidctest.MustKey(t, "second", "ES256")
	iss.Publish(first, second)
	if _, err := keys.Key(ctx, iss.URL, "", "second"); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	if _, err := keys.Key(ctx, iss.URL, "", "unknown"); !errors.Is(err, oidc.ErrNoKey) {
		t.Errorf("unknown kid: got %v, want ErrNoKey", err)
	}
	if got := iss.FetchCount(); got != 3 {
		t.Errorf("after a rotation and an unknown kid: %d fetches, want 3", got)
	}

	// A cached set is used for MaxAge (an hour), then fetched again.
	clk.Advance(2 * time.Hour)
	if _, err := keys.Key(ctx, iss.URL, "", "first"); err != nil {
		t.Fatal(err)
	}
	if got := iss.FetchCount(); got != 4 {
		t.Errorf("after the cache aged: %d fetches, want 4", got)
	}
}

func TestKeysUntrustedOrUnreachable(t *testing.T) {
	ctx := context.Background()
	iss := oidctest.NewIssuer(t, oidctest.MustKey(t, "k", "RS256"))
	keys := &oidc.Keys{Client: http.DefaultClient, Now: time.Now}
	// The test issuer's certificate is not one the system trusts.
	if _, err := keys.Key(ctx, iss.URL, "", "k"); !errors.Is(err, oidc.ErrUnreachable) {
		t.Errorf("untrusted certificate: got %v, want ErrUnreachable", err)
	}
	if _, err := keys.Key(ctx, "https://127.0.0.1:1", "", "k"); !errors.Is(err, oidc.ErrUnreachable) {
		t.Errorf("closed port: got %v, want ErrUnreachable", err)
	}
}

func TestKeysFromConfiguredFile(t *testing.T) {
	k := oidctest.MustKey(t, "", "ES384")
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, oidctest.JWKS(k), 0o600); err != nil {
		t.Fatal(err)
	}
	keys := &oidc.Keys{Client: http.DefaultClient, Now: time.Now}
	// The issuer is never asked: its keys are where the file URL says.
	pub, err := keys.Key(context.Background(), "https://unreachable.invalid", "file://"+path, "")
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := oidc.Parse(k.MustSign(t, map[string]any{"sub": "x"}))
	if err := tok.Verify(pub); err != nil {
		t.Errorf("Verify with the configured key: %v", err)
	}
}

func trusting(t *testing.T, caFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}
