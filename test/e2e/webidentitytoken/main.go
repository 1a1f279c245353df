// Command webidentitytoken mints an OpenID Connect ID token for the e2e
// tests of AssumeRoleWithWebIdentity: it signs the token with a new key
// and writes the key set that verifies it to a file, which the test's IAM
// OIDC provider names with its overcast:jwks-uri tag.
//
//	webidentitytoken -jwks keys.json -iss https://ci.example -aud sts.amazonaws.com -sub repo:org/app:ref:refs/heads/main
package main

import (
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"time"

	"overcast/internal/oidc/oidctest"
)

func main() {
	jwks := flag.String("jwks", "", "where to write the key set that verifies the token")
	iss := flag.String("iss", "", "issuer (iss)")
	aud := flag.String("aud", "sts.amazonaws.com", "audience (aud)")
	sub := flag.String("sub", "", "subject (sub)")
	expires := flag.Duration("expires", 10*time.Minute, "lifetime from now; negative for a token already expired")
	flag.Parse()
	if err := run(*jwks, *iss, *aud, *sub, *expires); err != nil {
		fmt.Fprintln(os.Stderr, "webidentitytoken:", err)
		os.Exit(1)
	}
}

func run(jwks, iss, aud, sub string, expires time.Duration) error {
	if jwks == "" || iss == "" || sub == "" {
		return fmt.Errorf("-jwks, -iss and -sub are required")
	}
	// A new key ID each run: the verifier, finding a key ID its cached key
	// set lacks, reads the set again.
	id := make([]byte, 8)
	rand.Read(id)
	key, err := oidctest.NewKey(hex.EncodeToString(id), "ES256")
	if err != nil {
		return err
	}
	if err := os.WriteFile(jwks, oidctest.JWKS(key), 0o644); err != nil {
		return err
	}
	now := time.Now()
	token, err := key.Sign(map[string]any{"iss": iss, "sub": sub, "aud": aud,
		"iat": now.Unix(), "exp": now.Add(expires).Unix()})
	if err != nil {
		return err
	}
	fmt.Println(token)
	return nil
}
