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
