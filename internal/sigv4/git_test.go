package sigv4

import (
	"testing"
)

// The passwords below are what `aws codecommit credential-helper get`
// printed (aws CLI v1 1.45 and v2 2.9) for key AKIDEXAMPLE / wJalrXUtnFEMI.
func TestGitPasswordMatchesCredentialHelper(t *testing.T) {
	tests := []struct {
		region, host, path, password string
	}{
		{"eu-west-1", "git-codecommit.eu-west-1.amazonaws.com.localhost", "/v1/repos/demo",
			"20261207T080211Z6b4ebbe70b54b7ea9b85ed2d853595098e4fee47964fad5750e12196ed344452"},
		{"us-east-1", "127.0.0.1", "/v1/repos/demo",
			"20261207T080212Z164925a20ab0852c110d595704460cec9b1e16298802af6d3ab5e2ff7c39ed5a"},
	}
	for _, tt := range tests {
		signed, ok := ParseGitPassword(tt.password)
		if !ok {
			t.Fatalf("ParseGitPassword(%q) refused it", tt.password)
		}
		if got := GitPassword("wJalrXUtnFEMI", tt.region, tt.host, tt.path, signed); got != tt.password {
			t.Errorf("GitPassword(%s, %s) = %s, want %s", tt.region, tt.host, got, tt.password)
		}
		if !VerifyGitPassword(tt.password, "wJalrXUtnFEMI", tt.region, tt.host, tt.path) {
			t.Errorf("VerifyGitPassword(%s) = false, want true", tt.password)
		}
		if VerifyGitPassword(tt.password, "other", tt.region, tt.host, tt.path) {
			t.Errorf("VerifyGitPassword with another secret = true, want false")
		}
	}
}

func TestParseGitPasswordRefusesOtherPasswords(t *testing.T) {
	for _, p := range []string{"", "hunter2", "20261207T080211X6b4ebbe70b54b7ea9b85ed2d853595098e4fee47964fad5750e12196ed344452",
		"20261307T080211Z6b4ebbe70b54b7ea9b85ed2d853595098e4fee47964fad5750e12196ed344452",
		"20261207T080211Zzz4ebbe70b54b7ea9b85ed2d853595098e4fee47964fad5750e12196ed344452"} {
		if _, ok := ParseGitPassword(p); ok {
			t.Errorf("ParseGitPassword(%q) accepted it", p)
		}
	}
}
