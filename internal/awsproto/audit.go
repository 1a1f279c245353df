package awsproto

import (
	"encoding/json"
	"reflect"
)

// hiddenValue stands in for a sensitive member in records of a call, as
// CloudTrail writes it.
const hiddenValue = "HIDDEN_DUE_TO_SECURITY_REASONS"

// AuditJSON is v, an operation's input or output, as CloudTrail records it
// in requestParameters and responseElements: every member that is set,
// named in lower camel case as the model's member name ("bucket",
// "userName"), sensitive members (secrets, tokens, keys) replaced by
// "HIDDEN_DUE_TO_SECURITY_REASONS", payloads (streams and blobs: object
// bodies, layer parts) left out, timestamps in ISO 8601. It is nil for a
// nil v and for a structure with nothing set, which CloudTrail writes as
// null.
func AuditJSON(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && rv.IsNil() {
		return nil
	}
	b := appendJSON(nil, planOf(rv.Type()), rv, "", auditRecord)
	if string(b) == "{}" || string(b) == "null" {
		return nil
	}
	return b
}
