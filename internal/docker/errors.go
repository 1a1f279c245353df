package docker

import (
	"context"
	"errors"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// Kinds of failure callers branch on, with errors.Is. Every error an Engine
// returns is an *Error that keeps the engine's own message.
var (
	// ErrNotFound: no such container, image, network, volume or exec.
	ErrNotFound = errors.New("docker: not found")
	// ErrConflict: the name is taken, or the object is in a state that
	// forbids the call: a running container removed without force, a
	// stopped one killed, a volume still mounted, a network with endpoints,
	// a container connected twice to one network.
	ErrConflict = errors.New("docker: conflict")
	// ErrUnavailable: no engine answers at the Engine's host.
	ErrUnavailable = errors.New("docker: engine unavailable")
	// ErrInvalid: the engine (or this package) rejected a parameter.
	ErrInvalid = errors.New("docker: invalid argument")
	// ErrUnauthorized: a registry refused the credentials, or asked for some.
	ErrUnauthorized = errors.New("docker: unauthorized")
	// ErrBuildFailed: a build step failed; the message is the engine's.
	ErrBuildFailed = errors.New("docker: build failed")
)

// Error is an engine failure: which operation, which kind (one of the Err
// sentinels, or nil when none fits), and the engine's error.
type Error struct {
	Op   string
	Kind error
	Err  error
}

func (e *Error) Error() string { return "docker: " + e.Op + ": " + e.Err.Error() }

// Unwrap exposes both the kind and the cause, so errors.Is matches the
// sentinel as well as context.Canceled and the like.
func (e *Error) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

// wrap classifies err from the client; nil stays nil.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var de *Error
	if errors.As(err, &de) {
		return err
	}
	return &Error{Op: op, Kind: kindOf(err), Err: err}
}

// kindOf maps the client's error classes (containerd's errdefs, which the
// client derives from the engine's HTTP status) to ours.
func kindOf(err error) error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The caller's own doing; errors.Is(err, ctx.Err()) already works.
		return nil
	case client.IsErrConnectionFailed(err), cerrdefs.IsUnavailable(err):
		return ErrUnavailable
	case cerrdefs.IsNotFound(err):
		return ErrNotFound
	case cerrdefs.IsConflict(err), cerrdefs.IsAlreadyExists(err):
		return ErrConflict
	case cerrdefs.IsPermissionDenied(err):
		// The engine's 403 means "not in this state": a network that still
		// has endpoints, an endpoint that already exists, a predefined
		// network. Registry refusals come as 401 or inside a pull.
		return ErrConflict
	case cerrdefs.IsInvalidArgument(err):
		return ErrInvalid
	case cerrdefs.IsUnauthorized(err):
		return ErrUnauthorized
	}
	return nil
}

// invalid is this package's own rejection of a spec, before any engine call.
func invalid(op, msg string) error {
	return &Error{Op: op, Kind: ErrInvalid, Err: errors.New(msg)}
}
