package gitserver

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseGitCommand(t *testing.T) {
	tests := []struct {
		command, service, name string
		ok                     bool
	}{
		{"git-upload-pack '/v1/repos/demo'", "git-upload-pack", "demo", true},
		{"git-receive-pack '/v1/repos/my.repo-1'", "git-receive-pack", "my.repo-1", true},
		{"git-upload-pack 'v1/repos/demo'", "git-upload-pack", "demo", true}, // scp-style URLs drop the slash
		{"git-upload-pack /v1/repos/demo/", "git-upload-pack", "demo", true},
		{"git-upload-archive '/v1/repos/demo'", "", "", false},
		{"sh -c id", "", "", false},
		{"git-upload-pack '/v1/repos/'", "", "", false},
		{"git-upload-pack '/v1/repos/a/b'", "", "", false},
		{"git-upload-pack '/etc/passwd'", "", "", false},
		{"git-upload-pack '/v1/repos/../x'", "", "", false},
	}
	for _, tt := range tests {
		service, name, ok := parseGitCommand(tt.command)
		if service != tt.service || name != tt.name || ok != tt.ok {
			t.Errorf("parseGitCommand(%q) = %q, %q, %v; want %q, %q, %v", tt.command, service, name, ok, tt.service, tt.name, tt.ok)
		}
	}
}

func TestRefChanges(t *testing.T) {
	before := map[string]string{"refs/heads/main": "a1", "refs/heads/gone": "b1", "refs/tags/v1": "c1"}
	after := map[string]string{"refs/heads/main": "a2", "refs/tags/v1": "c1", "refs/heads/new": "d1"}
	want := []RefChange{
		{Ref: "refs/heads/gone", Old: "b1"},
		{Ref: "refs/heads/main", Old: "a1", New: "a2"},
		{Ref: "refs/heads/new", New: "d1"},
	}
	if diff := cmp.Diff(want, refChanges(before, after)); diff != "" {
		t.Errorf("refChanges (-want +got):\n%s", diff)
	}
}

func TestRegionOfHost(t *testing.T) {
	tests := map[string]string{
		"git-codecommit.eu-west-1.amazonaws.com":                     "eu-west-1",
		"git-codecommit.us-east-1.amazonaws.com.localhost":           "us-east-1",
		"git-codecommit-fips.us-gov-west-1.amazonaws.com":            "us-gov-west-1",
		"vpce-0123-abc.git-codecommit.ap-south-1.vpce.amazonaws.com": "ap-south-1",
		"127.0.0.1":   "",
		"example.com": "",
	}
	for host, want := range tests {
		if got := regionOfHost(host); got != want {
			t.Errorf("regionOfHost(%q) = %q, want %q", host, got, want)
		}
	}
}
