package awstest

import (
	"context"
	"testing"
)

// Call makes one SDK call that must succeed: awstest.Call(t, c.CreateSecret, in).
func Call[I, O, Opt any](t testing.TB, op func(context.Context, I, ...Opt) (O, error), in I) O {
	t.Helper()
	out, err := op(context.Background(), in)
	if err != nil {
		t.Fatalf("%T: %v", in, err)
	}
	return out
}

// NextPage fetches a paginator's next page, which must succeed.
func NextPage[O, Opt any](t testing.TB, p interface {
	NextPage(context.Context, ...Opt) (O, error)
}) O {
	t.Helper()
	out, err := p.NextPage(context.Background())
	if err != nil {
		t.Fatalf("next page: %v", err)
	}
	return out
}
