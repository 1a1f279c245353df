package awstest

// Strings is one string member of each of items, as field reads it, with
// nil as "": the IDs or names of what a call listed, to compare.
func Strings[T any](items []T, field func(T) *string) []string {
	var out []string
	for _, it := range items {
		s := ""
		if p := field(it); p != nil {
			s = *p
		}
		out = append(out, s)
	}
	return out
}
