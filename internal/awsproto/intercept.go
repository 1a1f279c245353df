package awsproto

import "context"

// Call is one decoded call on its way to a service's implementation.
type Call struct {
	Service   *Service
	Operation *Operation
	Input     any
	// Refused is a call the codec refused (a body that does not parse,
	// a parameter that fails validation): Input is what could be read of
	// it, maybe nil, and next returns the refusal. Interceptors see it
	// so that CloudTrail records it, as AWS records such calls with their
	// error; one that acts on calls (authorization) passes it on.
	Refused bool
	// Authorized is a call a data plane served and authorized by its own
	// rules (docker's pulls from the registry, as ECR's BatchGetImage),
	// run through the interceptors to be recorded: one that authorizes
	// passes it on.
	Authorized bool
}

// Interceptor runs around every call a Handler decodes: IAM authorization
// refuses a call before the implementation sees it, CloudTrail records what
// it answered. It calls next to go on, or returns an error (written as the
// operation's error) without calling it.
type Interceptor func(ctx context.Context, c *Call, next func(ctx context.Context) (any, error)) (any, error)

type interceptorsKey struct{}

// WithInterceptors returns ctx carrying interceptors that every Handler
// serving a request with it runs, outermost first. They travel in the
// request's context, not in the Handler, because a service may serve a
// request through a Handler of its own (S3 readdresses virtual-hosted
// requests) and each of those must be intercepted the same way.
func WithInterceptors(ctx context.Context, is ...Interceptor) context.Context {
	if len(is) == 0 {
		return ctx
	}
	return context.WithValue(ctx, interceptorsKey{}, is)
}

// intercepted runs call through the interceptors in ctx.
func intercepted(ctx context.Context, c *Call, call func(ctx context.Context) (any, error)) (any, error) {
	is, _ := ctx.Value(interceptorsKey{}).([]Interceptor)
	next := call
	for i := len(is) - 1; i >= 0; i-- {
		inner, in := next, is[i]
		next = func(ctx context.Context) (any, error) { return in(ctx, c, inner) }
	}
	return next(ctx)
}

// Intercept runs a call that a RawServer serves itself (S3's browser POST
// uploads, which the model has no operation for) through the interceptors
// in ctx, as the Handler runs the model's calls: authorization may refuse
// it and CloudTrail records it like any other.
func Intercept(ctx context.Context, c *Call, call func(ctx context.Context) (any, error)) (any, error) {
	return intercepted(ctx, c, call)
}
