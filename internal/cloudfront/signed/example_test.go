package signed_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign"

	"overcast/internal/cloudfront/signed"
)

// The edge checks a behaviour that restricts viewer access before it
// looks in its cache: the trusted keys are parsed once per deployment,
// the Verifier is shared by every request.
func ExampleVerifier_Check() {
	private, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&private.PublicKey)
	key, err := signed.ParsePublicKey("K2JCJMDEHXQW5F", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
	if err != nil {
		panic(err)
	}
	trusted := map[string]signed.Key{key.ID: key}
	now := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	verifier := signed.NewVerifier(func() time.Time { return now })

	edge := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		err := verifier.Check(r, signed.ResourceURL(r, "https", r.Host), net.ParseIP(host), trusted)
		var denied *signed.Denied
		if errors.As(err, &denied) {
			denied.WriteTo(w)
			return
		}
		io.WriteString(w, "the private file")
	})

	const file = "https://d111111abcdef8.cloudfront.net/private/a.txt"
	signedURL, _ := sign.NewURLSigner(key.ID, private).Sign(file, now.Add(time.Hour))
	for _, u := range []string{signedURL, file} {
		w := httptest.NewRecorder()
		edge.ServeHTTP(w, httptest.NewRequest(http.MethodGet, u, nil))
		fmt.Println(w.Code, w.Body)
	}
	// Output:
	// 200 the private file
	// 403 <?xml version="1.0" encoding="UTF-8"?><Error><Code>MissingKey</Code><Message>Missing Key-Pair-Id query parameter or cookie value</Message></Error>
}
