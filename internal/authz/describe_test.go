package authz

import (
	"context"
	"testing"

	"overcast"
	"overcast/internal/awsproto"
)

type fakeIdentities struct{ id *Identity }

func (f fakeIdentities) IdentityOf(context.Context, string) (*Identity, error)  { return f.id, nil }
func (f fakeIdentities) ManagedPolicy(context.Context, string) (*Policy, error) { return nil, nil }

type fakeSessions struct{}

func (fakeSessions) SessionOf(context.Context, string) (*Session, error) { return nil, nil }

// countedResources answers ResourceOf with its tags, counting the calls.
type countedResources struct {
	tags  map[string]string
	calls int
}

func (c *countedResources) ResourceOf(_ context.Context, arn string) (Resource, error) {
	c.calls++
	return Resource{Owner: "111122223333", Tags: c.tags}, nil
}

// TestDescribedResourcesAreNotReadAgain: what a table's Resources function
// hands over with Describe while naming a resource is what the evaluator
// weighs (here its tags, for aws:ResourceTag), without asking the service
// to read the resource again; a resource not described is asked for.
func TestDescribedResourcesAreNotReadAgain(t *testing.T) {
	const arn = "arn:aws:svc:us-east-1:111122223333:thing/a"
	allow := ParsePolicy("p", "inline", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"svc:Get","Resource":"*",
		"Condition":{"StringEquals":{"aws:ResourceTag/team":"bench"}}}]}`)
	tests := []struct {
		name      string
		describe  bool
		tags      map[string]string // what ResourceOf answers
		wantReads int
		wantErr   bool
	}{
		{"described", true, map[string]string{"team": "other"}, 0, false},
		{"not described", false, map[string]string{"team": "bench"}, 1, false},
		{"not described, other tag", false, map[string]string{"team": "other"}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := &countedResources{tags: tt.tags}
			table := &Table{Prefix: "svc", Rules: map[string]Rule{"Get": {Resources: func(ctx context.Context, _ Scope, _ any) []string {
				if tt.describe {
					Describe(ctx, arn, Resource{Owner: "111122223333", Tags: map[string]string{"team": "bench"}})
				}
				return []string{arn}
			}}}}
			e := NewEvaluator(Sources{Identities: fakeIdentities{&Identity{Policies: []Policy{allow}}}, Sessions: fakeSessions{},
				Resources: map[string]Resources{"svc": res}}, map[string]*Table{"svc": table})
			ctx := overcast.WithCaller(context.Background(), overcast.Caller{AccountID: "111122223333", Region: "us-east-1",
				Kind: overcast.PrincipalUser, ARN: "arn:aws:iam::111122223333:user/dev", AccessKeyID: "AKIAEXAMPLE"})
			call := &awsproto.Call{Service: &awsproto.Service{ID: "svc", SigningName: "svc"}, Operation: &awsproto.Operation{Name: "Get"}}
			_, err := e.Interceptor()(ctx, call, func(context.Context) (any, error) { return nil, nil })
			if (err != nil) != tt.wantErr {
				t.Errorf("authorized: err %v, want an error %v", err, tt.wantErr)
			}
			if res.calls != tt.wantReads {
				t.Errorf("ResourceOf called %d times, want %d", res.calls, tt.wantReads)
			}
		})
	}
	// Outside an authorization Describe does nothing.
	Describe(context.Background(), arn, Resource{})
}
