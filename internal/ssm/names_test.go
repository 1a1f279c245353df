package ssm

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"overcast/internal/awsproto"
	"overcast/internal/tabletest"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		code string // "" when valid
	}{
		{"plain", ""},
		{"with.dots-and_underscores", ""},
		{"/a/b/c", ""},
		{"/" + strings.Repeat("l/", 14) + "leaf", ""}, // 15 levels
		{strings.Repeat("x", 1011), ""},
		{strings.Repeat("x", 1012), "ValidationException"},
		{"/" + strings.Repeat("l/", 15) + "leaf", "HierarchyLevelLimitExceededException"},
		{"a/b", "ValidationException"},
		{"/a//b", "ValidationException"},
		{"/a/", "ValidationException"},
		{"a b", "ValidationException"},
		{"a:b", "ValidationException"},
		{"awsx", "ValidationException"},
		{"SSMx", "ValidationException"},
		{"/aws", "ValidationException"},
		{"/ssm/x", "ValidationException"},
		{"/Aws/x", "AccessDeniedException"},
		{"/awsome/x", "AccessDeniedException"}, // the prefix rule is a prefix rule
		{"/x/aws", ""},
		{"my-aws", ""},
	}
	for _, tt := range tests {
		err := validateName(tt.name)
		code := ""
		if err != nil {
			e, ok := awsproto.AsAPIError(err)
			if !ok {
				t.Fatalf("%q: got %v, want an API error", tt.name, err)
			}
			code = e.ErrorCode()
		}
		if code != tt.code {
			t.Errorf("validateName(%.40q): got %q (%v), want %q", tt.name, code, err, tt.code)
		}
	}
}

func TestParseRef(t *testing.T) {
	home := scope{Account: "000000000000", Region: "us-east-1"}
	type parsed struct {
		Scope    scope
		Names    []string
		Selector string
	}
	parse := func(in string) (parsed, bool) {
		r, ok := parseRef(home, in)
		if !ok {
			return parsed{}, false
		}
		return parsed{r.scope, r.names, r.selector}, true
	}
	tabletest.RunCommaOK(t, "parseRef", parse, map[string]parsed{
		"name":      {home, []string{"name"}, ""},
		"/a/b":      {home, []string{"/a/b"}, ""},
		"/a/b:3":    {home, []string{"/a/b"}, "3"},
		"/a/b:prod": {home, []string{"/a/b"}, "prod"},
		"arn:aws:ssm:eu-west-1:123456789012:parameter/a/b":   {scope{Account: "123456789012", Region: "eu-west-1"}, []string{"/a/b"}, ""},
		"arn:aws:ssm:us-east-1:000000000000:parameter/top":   {home, []string{"top", "/top"}, ""},
		"arn:aws:ssm:us-east-1:000000000000:parameter/a/b:7": {home, []string{"/a/b"}, "7"},
	}, "name:", "name:1:2", ":1", "arn:aws:ssm:us-east-1:000000000000:document/x",
		"arn:aws:s3:us-east-1:000000000000:parameter/x", "arn:aws:ssm:us-east-1:nope:parameter/x")
}

func TestSelectorVersion(t *testing.T) {
	tests := []struct {
		sel string
		v   int64
		isV bool
	}{
		{"3", 3, true},
		{"100", 100, true},
		{"prod", 0, false},
		{"", 0, false},
		{"3a", 0, false},
	}
	for _, tt := range tests {
		v, ok := selectorVersion(tt.sel)
		if v != tt.v || ok != tt.isV {
			t.Errorf("selectorVersion(%q): got %d %v, want %d %v", tt.sel, v, ok, tt.v, tt.isV)
		}
	}
}

func TestValidLabel(t *testing.T) {
	tests := map[string]bool{
		"prod": true, "Prod_1.2-x": true, "a": true,
		"9abc": false, "awsabc": false, "AWS": false, "ssmx": false, "abc/123": false, "with space": false, "": false,
	}
	for l, want := range tests {
		if got := validLabel(l); got != want {
			t.Errorf("validLabel(%q): got %v, want %v", l, got, want)
		}
	}
}

func TestApplyLabels(t *testing.T) {
	start := []label{{"a", 1}, {"b", 1}, {"c", 2}}
	got, invalid := applyLabels(start, 2, []string{"a", "c", "d", "9x", "9x"})
	want := []label{{"b", 1}, {"c", 2}, {"a", 2}, {"d", 2}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(label{})); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"9x"}, invalid); diff != "" {
		t.Errorf("invalid (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]label{{"a", 1}, {"b", 1}, {"c", 2}}, start, cmp.AllowUnexported(label{})); diff != "" {
		t.Errorf("applyLabels changed its input (-want +got):\n%s", diff)
	}
}

func TestPaths(t *testing.T) {
	tabletest.RunCommaOK(t, "normalizePath", tabletest.NoError(normalizePath), map[string]string{
		"/":          "/",
		"/a":         "/a",
		"/a/":        "/a",
		"/a/b.c-d_e": "/a/b.c-d_e",
	}, "a", "//", "/###")
	type namePath struct {
		name, path string
		recursive  bool
	}
	inPathOf := func(in namePath) bool { return inPath(in.name, in.path, in.recursive) }
	tabletest.Run(t, "inPath", inPathOf, map[namePath]bool{
		{"foo", "/", false}:             true,
		{"/foo", "/", false}:            true,
		{"/foo/bar", "/", false}:        false,
		{"/foo/bar", "/", true}:         true,
		{"/foo/bar", "/foo", false}:     true,
		{"/foo/bar/baz", "/foo", false}: false,
		{"/foo/bar/baz", "/foo", true}:  true,
		{"/foobar/x", "/foo", true}:     false,
		{"foo", "/foo", true}:           false,
	})
}

func TestChooseTier(t *testing.T) {
	std, adv, it := "Standard", "Advanced", "Intelligent-Tiering"
	tests := []struct {
		name      string
		requested *string
		old       string
		exists    bool
		size      int
		policies  bool
		want      string
		wantErr   bool
	}{
		{"default", nil, "", false, 10, false, std, false},
		{"explicit advanced", &adv, "", false, 10, false, adv, false},
		{"intelligent small", &it, "", false, 10, false, std, false},
		{"intelligent large", &it, "", false, 5000, false, adv, false},
		{"intelligent with policies", &it, "", false, 10, true, adv, false},
		{"standard too large", nil, "", false, 4097, false, "", true},
		{"advanced too large", &adv, "", false, 8193, false, "", true},
		{"overwrite keeps advanced", nil, adv, true, 10, false, adv, false},
		{"intelligent keeps advanced", &it, adv, true, 10, false, adv, false},
		{"no downgrade", &std, adv, true, 10, false, "", true},
		{"upgrade", &adv, std, true, 10, false, adv, false},
		{"policies need advanced", &std, "", false, 10, true, "", true},
	}
	for _, tt := range tests {
		got, err := chooseTier(tt.requested, tt.old, tt.exists, tt.size, tt.policies)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("%s: got %q, %v; want %q, error=%v", tt.name, got, err, tt.want, tt.wantErr)
		}
		var apiErr awsproto.APIError
		if err != nil && !errors.As(err, &apiErr) {
			t.Errorf("%s: %v is not an API error", tt.name, err)
		}
	}
}
