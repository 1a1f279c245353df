package awsproto

import (
	"maps"
	"net/http"
	"reflect"
	"slices"
)

// DecodeRequest decodes and validates r as the handler does before calling
// the service, for tests and benchmarks outside the package.
func DecodeRequest(h *Handler, r *http.Request) (any, error) {
	h.init()
	_, in, err := h.decode(r, h.Protocol(r))
	return in, err
}

// Validate checks a decoded request as the handler does.
func Validate(h *Handler, r *http.Request, in any) error {
	h.init()
	return validate(in, &h.policy)
}

// HasValidationPolicy reports whether the service has a row in
// validationPolicies.
func HasValidationPolicy(id string) bool {
	_, ok := validationPolicies[id]
	return ok
}

// UncheckedPatterns lists, sorted, the patterns of the constraints in the
// shapes of in that RE2 cannot express.
func UncheckedPatterns(in any) []string {
	set := map[string]bool{}
	seen := map[*typeInfo]bool{}
	note := func(ck *check) {
		if ck != nil && ck.c.Pattern != "" && ck.re == nil && ck.kind == kindString {
			set[ck.c.Pattern] = true
		}
	}
	var visit func(t *typeInfo)
	visit = func(t *typeInfo) {
		if t == nil || seen[t] {
			return
		}
		seen[t] = true
		note(t.elemCheck)
		note(t.keyCheck)
		visit(t.elem)
		for _, m := range t.members {
			note(m.check)
			visit(m.t)
		}
	}
	visit(planOf(reflect.TypeOf(in)))
	return slices.Sorted(maps.Keys(set))
}
