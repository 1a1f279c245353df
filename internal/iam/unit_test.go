package iam

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	api "overcast/internal/api/iam"
)

func TestCheckTagKeys(t *testing.T) {
	if err := checkTagKeys(api.TagListType{{Key: new("Env"), Value: new("a")}, {Key: new("env"), Value: new("b")}}); err == nil {
		t.Error("duplicate keys differing in case: got nil, want InvalidInput")
	}
}

func TestValidAccountAlias(t *testing.T) {
	tests := map[string]bool{
		"my-company": true, "abc": true, "a1-b2-c3": true, "ab": false, "-abc": false, "abc-": false,
		"a--b": false, "ABC": false, "a_b": false, strings.Repeat("a", 63): true, strings.Repeat("a", 64): false,
	}
	for in, want := range tests {
		if got := validAccountAlias(in); got != want {
			t.Errorf("validAccountAlias(%q): got %v, want %v", in, got, want)
		}
	}
}

func TestIDFormats(t *testing.T) {
	s, _, _ := newTestService(t)
	tests := []struct {
		name string
		gen  func() string
		re   string
	}{
		{"user", func() string { return s.newID(userIDPrefix) }, `^AIDA[A-Z0-9]{17}$`},
		{"role", func() string { return s.newID(roleIDPrefix) }, `^AROA[A-Z0-9]{17}$`},
		{"group", func() string { return s.newID(groupIDPrefix) }, `^AGPA[A-Z0-9]{17}$`},
		{"policy", func() string { return s.newID(policyIDPrefix) }, `^ANPA[A-Z0-9]{17}$`},
		{"instance profile", func() string { return s.newID(instanceProfileIDPrefix) }, `^AIPA[A-Z0-9]{17}$`},
		{"access key", s.newAccessKeyID, `^AKIA[A-Z0-9]{16}$`},
		{"secret", s.newSecretAccessKey, `^[A-Za-z0-9+/]{40}$`},
		{"stable policy", func() string { return stableID(policyIDPrefix, "/x") }, `^ANPA[A-Z0-9]{17}$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			re := regexp.MustCompile(tt.re)
			seen := map[string]bool{}
			for range 100 {
				id := tt.gen()
				if !re.MatchString(id) {
					t.Fatalf("got %q, want it to match %s", id, tt.re)
				}
				seen[id] = true
			}
			if tt.name != "stable policy" && len(seen) != 100 {
				t.Errorf("got %d distinct IDs of 100, want 100", len(seen))
			}
		})
	}
	if a, b := stableID(policyIDPrefix, "/AdministratorAccess"), stableID(policyIDPrefix, "/AdministratorAccess"); a != b {
		t.Errorf("stableID: got %q then %q, want the same", a, b)
	}
}

func TestPageSlice(t *testing.T) {
	items := []string{"e", "a", "d", "b", "c"}
	key := func(s string) string { return s }
	var got [][]string
	pg := page{max: 2}
	for {
		p, next := pageSlice(items, key, pg)
		got = append(got, p)
		if next == "" {
			break
		}
		var err error
		if pg, err = newPage(&next, new(int32(2))); err != nil {
			t.Fatal(err)
		}
	}
	want := [][]string{{"a", "b"}, {"c", "d"}, {"e"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	if _, err := newPage(new("!!not base64!!"), nil); err == nil {
		t.Error("bad marker: got nil, want ValidationError")
	}
}
