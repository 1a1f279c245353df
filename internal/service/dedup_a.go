package service

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
