package iam

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	api "overcast/internal/api/iam"
)

func TestConstraints(t *testing.T) {
	tests := []struct {
		name string
		c    constraint
		in   string
		want string // "" when valid
	}{
		{"user name", userNameType, "alice+ops=1,x.y@z-w_v", ""},
		{"user name 64", userNameType, strings.Repeat("a", 64), ""},
		{"user name 65", userNameType, strings.Repeat("a", 65), "Member must have length less than or equal to 64"},
		{"user name empty", userNameType, "", "Member must have length greater than or equal to 1"},
		{"user name space", userNameType, "al ice", `Member must satisfy regular expression pattern: [\w+=,.@-]+`},
		{"user name slash", userNameType, "a/b", `Member must satisfy regular expression pattern: [\w+=,.@-]+`},
		{"user name unicode", userNameType, "élise", `Member must satisfy regular expression pattern: [\w+=,.@-]+`},
		{"existing user name 128", existingUserNameType, strings.Repeat("a", 128), ""},
		{"group name 128", groupNameType, strings.Repeat("g", 128), ""},
		{"group name 129", groupNameType, strings.Repeat("g", 129), "Member must have length less than or equal to 128"},
		{"role name 65", roleNameType, strings.Repeat("r", 65), "Member must have length less than or equal to 64"},
		{"policy name 128", policyNameType, strings.Repeat("p", 128), ""},
		{"path root", pathType, "/", ""},
		{"path nested", pathType, "/division_abc/sub-division/", ""},
		{"path printable", pathType, "/a!~b/", ""},
		{"path no leading slash", pathType, "a/", `Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)`},
		{"path no trailing slash", pathType, "/a", `Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)`},
		{"path with space", pathType, "/a b/", `Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)`},
		{"path 512", pathType, "/" + strings.Repeat("a", 510) + "/", ""},
		{"path 513", pathType, "/" + strings.Repeat("a", 511) + "/", "Member must have length less than or equal to 512"},
		{"policy path", policyPathType, "/team/app/", ""},
		{"policy path bang", policyPathType, "/te!am/", `Member must satisfy regular expression pattern: ((/[A-Za-z0-9\.,\+@=_-]+)*)/`},
		{"path prefix", pathPrefixType, "/div", ""},
		{"path prefix relative", pathPrefixType, "div", `Member must satisfy regular expression pattern: \u002F[\u0021-\u007F]*`},
		{"tag key", tagKeyType, "team:cost center/é", ""},
		{"tag key bad", tagKeyType, "a*b", `Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`},
		{"tag value empty", tagValueType, "", ""},
		{"version id", versionIDType, "v12", ""},
		{"version id bad", versionIDType, "v0", `Member must satisfy regular expression pattern: v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.check(tt.in); got != tt.want {
				t.Errorf("check(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidatorMessage(t *testing.T) {
	var v validator
	v.str("userName", new("bad name"), userNameType)
	v.str("path", new("/ok/"), pathType)
	v.num("maxItems", new(int32(0)), 1, 1000)
	err := v.err()
	want := `2 validation errors detected: Value 'bad name' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+; Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1`
	if err == nil || err.Error() != "ValidationError: "+want {
		t.Fatalf("got %v, want ValidationError: %s", err, want)
	}

	var one validator
	one.str("roleName", new(strings.Repeat("r", 65)), roleNameType)
	if got, want := one.err().Error(), "ValidationError: 1 validation error detected: Value '"+strings.Repeat("r", 65)+"' at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}

	var none validator
	none.str("userName", nil, userNameType)
	if err := none.err(); err != nil {
		t.Errorf("absent member: got %v, want nil", err)
	}
}

func TestValidatorTags(t *testing.T) {
	var v validator
	v.tags(api.TagListType{{Key: new("ok"), Value: new("v")}, {Key: new("bad*"), Value: new("v")}})
	want := []string{`Value 'bad*' at 'tags.2.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`}
	if diff := cmp.Diff(want, v.problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
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
