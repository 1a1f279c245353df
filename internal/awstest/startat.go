package awstest

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"overcast/internal/clock"
)

// StartAt runs overcast on a fake clock that starts at `at`, for a test
// that moves time itself (timers, expiries, retention).
func StartAt(t testing.TB, at time.Time, opts ...Option) (*Server, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(at)
	return Start(t, append(opts, Clock(clk))...), clk
}

// StartClient is StartAt with the one SDK client the test talks to, made
// by that service's NewFromConfig:
//
//	srv, c, clk := awstest.StartClient(t, at, sns.NewFromConfig)
func StartClient[C, O any](t testing.TB, at time.Time, newClient func(aws.Config, ...func(O)) C, opts ...Option) (*Server, C, *clock.Fake) {
	t.Helper()
	srv, clk := StartAt(t, at, opts...)
	return srv, newClient(srv.Config()), clk
}
