package authz

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type getThing struct{ Name *string }

func TestTableChecks(t *testing.T) {
	table := &Table{Prefix: "things", Rules: map[string]Rule{
		"GetThing":  {Resources: Named("things", "thing/", func(in *getThing) *string { return in.Name })},
		"HeadThing": {Action: "GetThing", Resources: Named("things", "thing/", func(in *getThing) *string { return in.Name })},
		"CopyThing": {Action: "PutThing", Also: []Rule{{Action: "other:Read"}}},
		"Login":     {Unauthorized: true},
	}}
	scope := Scope{Region: "us-east-1", AccountID: "123456789012"}
	tests := []struct {
		op   string
		in   any
		want []Check
	}{
		{"GetThing", &getThing{Name: new("a")}, []Check{{Action: "things:GetThing", Resources: []string{"arn:aws:things:us-east-1:123456789012:thing/a"}}}},
		{"GetThing", &getThing{Name: new("arn:aws:things:eu-west-1:210987654321:thing/b")}, []Check{{Action: "things:GetThing", Resources: []string{"arn:aws:things:eu-west-1:210987654321:thing/b"}}}},
		{"GetThing", &getThing{}, []Check{{Action: "things:GetThing", Resources: []string{"*"}}}},
		{"HeadThing", &getThing{Name: new("a")}, []Check{{Action: "things:GetThing", Resources: []string{"arn:aws:things:us-east-1:123456789012:thing/a"}}}},
		{"CopyThing", &getThing{}, []Check{{Action: "things:PutThing", Resources: []string{"*"}}, {Action: "other:Read", Resources: []string{"*"}}}},
		{"ListThings", nil, []Check{{Action: "things:ListThings", Resources: []string{"*"}}}},
		{"Login", nil, nil},
	}
	for _, tt := range tests {
		got := table.Checks(context.Background(), tt.op, scope, tt.in)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Checks(%s) (-want +got):\n%s", tt.op, diff)
		}
	}
}
