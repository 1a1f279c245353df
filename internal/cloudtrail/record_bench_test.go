package cloudtrail

import (
	"context"
	"testing"

	"overcast"
	"overcast/internal/api/sts"
	"overcast/internal/awsproto"
	"overcast/internal/service/servicetest"
)

// BenchmarkRecord is what recording one sts:GetCallerIdentity costs the
// writer, by stage.
func BenchmarkRecord(b *testing.B) {
	env := servicetest.Env(b)
	r := NewRecorder(env.Store, env.History, b.TempDir(), env.IDs, env.Clock.Now, env.Logger, nil)
	defer r.Close()
	op := operation(sts.Service, "GetCallerIdentity")
	caller := overcast.Caller{AccountID: "000000000000", Region: "us-east-1", AccessKeyID: "AKIAEXAMPLE", Kind: overcast.PrincipalUser,
		ARN: "arn:aws:iam::000000000000:user/bench", UserID: "AIDAEXAMPLE"}
	cl := call{category: managementEvent, c: &awsproto.Call{Service: sts.Service, Operation: op, Input: &sts.GetCallerIdentityRequest{}}, caller: caller,
		origin: overcast.Origin{SourceIP: "127.0.0.1", UserAgent: "bench", Time: env.Clock.Now()}, requestID: "req",
		out: &sts.GetCallerIdentityResponse{Account: new("000000000000"), Arn: new(caller.ARN), UserId: new(caller.UserID)}}
	scope := scopeOf(caller)
	batch := make([]pending, batchSize)
	for i := range batch {
		batch[i] = pending{scope: scope, ev: r.event(&cl, scope)}
	}
	b.Run("event", func(b *testing.B) {
		for b.Loop() {
			r.event(&cl, scope)
		}
	})
	events := make([]recorded, batchSize)
	for i := range events {
		events[i] = r.event(&cl, scope)
	}
	b.Run("encode/event", func(b *testing.B) {
		var size int
		for b.Loop() {
			e := newSegmentEncoder(scope)
			for i := range events {
				e.add(&events[i])
			}
			size = len(e.finish())
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batchSize), "ns/event")
		b.ReportMetric(float64(size)/batchSize, "bytes/event")
	})
	b.Run("batch/event", func(b *testing.B) {
		for b.Loop() {
			r.writeBatch(batch)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batchSize), "ns/event")
	})
	ctx := overcast.WithCaller(context.Background(), caller)
	next := func(context.Context) (any, error) { return cl.out, nil }
	b.Run("intercept", func(b *testing.B) {
		for b.Loop() {
			r.Intercept(ctx, cl.c, next)
		}
		r.Flush()
	})
	// Concurrent calls share the journal's writes.
	b.Run("intercept/parallel", func(b *testing.B) {
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r.Intercept(ctx, cl.c, next)
			}
		})
		r.Flush()
	})
}
