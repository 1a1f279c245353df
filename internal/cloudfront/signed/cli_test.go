package signed

import (
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCheckAWSCLISignedURLs: URLs made by `aws cloudfront sign` (aws CLI
// v1 and v2, whichever are installed) pass, canned and custom.
func TestCheckAWSCLISignedURLs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the aws CLI")
	}
	var clis []string
	for _, name := range []string{"aws", "/usr/bin/aws"} {
		if path, err := exec.LookPath(name); err == nil && !slices.Contains(clis, path) {
			clis = append(clis, path)
		}
	}
	if len(clis) == 0 {
		t.Skip("no aws CLI installed")
	}
	keyFile := filepath.Join(t.TempDir(), "private.pem")
	der := x509.MarshalPKCS1PrivateKey(rsaPrivate()) // the form CLI v1 reads
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	keys := trustedKeys(t)
	cases := []struct {
		name  string
		extra []string
	}{
		{"canned", nil},
		{"custom", []string{"--date-greater-than", "2020-01-01", "--ip-address", "192.0.2.0/24"}},
	}
	// Each CLI takes seconds to start: with two, each signs one kind.
	for i := range max(len(clis), len(cases)) {
		cli, tt := clis[i%len(clis)], cases[i%len(cases)]
		args := append([]string{"cloudfront", "sign", "--url", page, "--key-pair-id", rsaKeyID,
			"--private-key", "file://" + keyFile, "--date-less-than", "2099-01-01"}, tt.extra...)
		cmd := exec.Command(cli, args...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "AWS_DEFAULT_REGION=us-east-1"}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %s: %v", cli, strings.Join(args, " "), err)
		}
		signedURL := strings.TrimSpace(string(out))
		r := get(signedURL)
		v := NewVerifier(func() time.Time { return now })
		if err := v.Check(r, ResourceURL(r, "https", r.Host), net.ParseIP(viewer), keys); err != nil {
			t.Errorf("%s, %s URL %s: got %v, want it served", cli, tt.name, signedURL, err)
		}
	}
}
