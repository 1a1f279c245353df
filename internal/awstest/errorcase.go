package awstest

import (
	"context"
	"testing"
)

// ErrorCase is one row of a service's error table: a call that must fail
// the way AWS's does.
type ErrorCase struct {
	Name string
	Call func(context.Context) error
	Want APIError
}

// Fails makes an SDK call a row of an error table, dropping its output:
// awstest.Fails(c.GetRole, &iam.GetRoleInput{...}).
func Fails[I, O, Opt any](op func(context.Context, I, ...Opt) (O, error), in I) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := op(ctx, in)
		return err
	}
}

// RunErrorCases runs each case as a subtest, in order (a row may rely on
// what an earlier one left), checking its error with WantAPIError.
func RunErrorCases(t *testing.T, cases []ErrorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			WantAPIError(t, tc.Call(context.Background()), tc.Want)
		})
	}
}
