package gitserver

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"overcast/internal/tabletest"
)

func TestParseGitCommand(t *testing.T) {
	// gitCommand is parseGitCommand's three results, as one value.
	type gitCommand struct {
		Service, Name string
		OK            bool
	}
	parse := func(command string) gitCommand {
		service, name, ok := parseGitCommand(command)
		return gitCommand{service, name, ok}
	}
	tabletest.Run(t, "parseGitCommand", parse, map[string]gitCommand{
		"git-upload-pack '/v1/repos/demo'":       {"git-upload-pack", "demo", true},
		"git-receive-pack '/v1/repos/my.repo-1'": {"git-receive-pack", "my.repo-1", true},
		"git-upload-pack 'v1/repos/demo'":        {"git-upload-pack", "demo", true}, // scp-style URLs drop the slash
		"git-upload-pack /v1/repos/demo/":        {"git-upload-pack", "demo", true},
		"git-upload-archive '/v1/repos/demo'":    {"", "", false},
		"sh -c id":                               {"", "", false},
		"git-upload-pack '/v1/repos/'":           {"", "", false},
		"git-upload-pack '/v1/repos/a/b'":        {"", "", false},
		"git-upload-pack '/etc/passwd'":          {"", "", false},
		"git-upload-pack '/v1/repos/../x'":       {"", "", false},
	})
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
	tabletest.Run(t, "regionOfHost", regionOfHost, map[string]string{
		"git-codecommit.eu-west-1.amazonaws.com":                     "eu-west-1",
		"git-codecommit.us-east-1.amazonaws.com.localhost":           "us-east-1",
		"git-codecommit-fips.us-gov-west-1.amazonaws.com":            "us-gov-west-1",
		"vpce-0123-abc.git-codecommit.ap-south-1.vpce.amazonaws.com": "ap-south-1",
		"127.0.0.1":   "",
		"example.com": "",
	})
}
