// Package authztest checks a service's authorization table: the action
// and resources each operation's call is checked for.
package authztest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"overcast/internal/authz"
)

// Scope is where the calls of a Case are made.
var Scope = authz.Scope{Region: "us-east-1", AccountID: "123456789012"}

// Case is one call and the first check it must pass: Action when set,
// and Resources (["*"] for none), with Context when set.
type Case struct {
	Name      string // tells apart the cases of one operation
	Op        string
	In        any
	Action    string
	Resources []string
	Context   map[string][]string
}

// Run checks every case's call against table, in Scope.
func Run(t *testing.T, table *authz.Table, cases []Case) {
	t.Helper()
	for _, c := range cases {
		checks := table.Checks(context.Background(), c.Op, Scope, c.In)
		if len(checks) == 0 {
			t.Errorf("%s %s: no checks, want %v", c.Op, c.Name, c.Resources)
			continue
		}
		got := checks[0]
		if c.Action != "" && got.Action != c.Action {
			t.Errorf("%s %s: action: got %s, want %s", c.Op, c.Name, got.Action, c.Action)
		}
		if diff := cmp.Diff(c.Resources, got.Resources); diff != "" {
			t.Errorf("%s %s: resources (-want +got):\n%s", c.Op, c.Name, diff)
		}
		if c.Context != nil {
			if diff := cmp.Diff(c.Context, got.Context); diff != "" {
				t.Errorf("%s %s: context (-want +got):\n%s", c.Op, c.Name, diff)
			}
		}
	}
}
