package service

import "slices"

// Deref is the value p points to, or T's zero value when p is nil: what
// an optional request member the caller left out stands for.
func Deref[T any](p *T) T {
	var v T
	if p != nil {
		v = *p
	}
	return v
}

// DerefOr is the value p points to, or def when p is nil: a request
// member's value, or what stands when the caller leaves it out.
func DerefOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// OmitZero points to v, or is nil when v is T's zero value: a response
// member a record leaves empty is left out of the answer, as AWS does.
func OmitZero[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// Distinct is s without repeats, in the order each first appears: the
// names a request lists, each answered once.
func Distinct[T comparable](s []T) []T {
	var out []T
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// Map is f applied to each element of in, in order: how a handler turns a
// record's list into the API's shapes and back. The result is never nil,
// so an empty list is answered as an empty list, not left out.
func Map[S ~[]E, E, T any](in S, f func(E) T) []T {
	out := make([]T, 0, len(in))
	for _, e := range in {
		out = append(out, f(e))
	}
	return out
}
