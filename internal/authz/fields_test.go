package authz

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

type tag struct{ Key, Value *string }

type (
	tagList   struct{ Tags []tag }
	tagMap    struct{ Tags map[string]string }
	tagKeys   struct{ TagKeys []string }
	keyList   struct{ Tags []string }
	itemsTags struct{ Tags *struct{ Items []tag } }
	untagged  struct{ Name *string }
)

func TestRequestTags(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want map[string][]string
	}{
		{"list of pairs", &tagList{Tags: []tag{{Key: new("team"), Value: new("web")}, {Key: new("env"), Value: new("prod")}}},
			map[string][]string{"aws:RequestTag/team": {"web"}, "aws:RequestTag/env": {"prod"}, "aws:TagKeys": {"team", "env"}}},
		{"map", &tagMap{Tags: map[string]string{"team": "web"}}, map[string][]string{"aws:RequestTag/team": {"web"}, "aws:TagKeys": {"team"}}},
		{"keys to remove", &tagKeys{TagKeys: []string{"team"}}, map[string][]string{"aws:TagKeys": {"team"}}},
		{"keys as Tags", &keyList{Tags: []string{"team"}}, map[string][]string{"aws:TagKeys": {"team"}}},
		{"CloudFront's items", &itemsTags{Tags: &struct{ Items []tag }{Items: []tag{{Key: new("team"), Value: new("web")}}}},
			map[string][]string{"aws:RequestTag/team": {"web"}, "aws:TagKeys": {"team"}}},
		{"no tags", &untagged{Name: new("a")}, nil},
		{"nil", nil, nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, RequestTags(tt.in)); diff != "" {
			t.Errorf("%s: RequestTags (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestRef(t *testing.T) {
	type in struct {
		Names []string
		Name  *string
	}
	s := Scope{Region: "us-east-1", AccountID: "123456789012"}
	thing := func(s Scope, name string) string { return s.ARN("things", "thing/"+name) }
	got := Ref("Names", thing)(t.Context(), s, &in{Names: []string{"a", "", "arn:aws:things:eu-west-1:210987654321:thing/b"}})
	want := []string{"arn:aws:things:us-east-1:123456789012:thing/a", "arn:aws:things:eu-west-1:210987654321:thing/b"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Ref(Names) (-want +got):\n%s", diff)
	}
	if got := Ref("Name", thing)(t.Context(), s, &in{}); got != nil {
		t.Errorf("Ref(Name) of an unset name: got %v, want none", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("Ref of a field the input does not have: no panic, want one")
		}
	}()
	Ref("Missing", thing)(t.Context(), s, &in{})
}
