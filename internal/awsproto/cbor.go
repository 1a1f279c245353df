package awsproto

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// Smithy RPC v2 CBOR: POST {prefix}/service/<service>/operation/<op>, the
// input and output as CBOR maps, "Smithy-Protocol: rpc-v2-cbor" on the
// request and on every response (Go's SDK rejects a response without it).
const (
	protoCBOR        = "smithy-rpc-v2-cbor"
	cborProtocolName = "rpc-v2-cbor"
	cborContentType  = "application/cbor"
)

var (
	cborDecMode = func() cbor.DecMode {
		m, err := cbor.DecOptions{
			DefaultMapType: reflect.TypeFor[map[string]any](),
			IntDec:         cbor.IntDecConvertSigned,
		}.DecMode()
		if err != nil {
			panic(err)
		}
		return m
	}()
	cborEncMode = func() cbor.EncMode {
		// Maps in a stable order; floats keep the width of their shape (no
		// half floats, which some clients do not read); timestamps are tag 1.
		m, err := cbor.EncOptions{Sort: cbor.SortBytewiseLexical, Time: cbor.TimeUnixDynamic, TimeTag: cbor.EncTagRequired}.EncMode()
		if err != nil {
			panic(err)
		}
		return m
	}()
)

// CBORTarget reads the service and operation an RPC v2 request names in
// the last four segments of its path: service/<service>/operation/<op>.
// The service is the model's service shape (the JSON protocols' target
// prefix), bare or namespaced (com.amazonaws.cloudwatch.Granite...).
func CBORTarget(path string) (service, operation string, ok bool) {
	segs := strings.Split(strings.TrimSuffix(path, "/"), "/")
	if len(segs) < 4 {
		return "", "", false
	}
	segs = segs[len(segs)-4:]
	if segs[0] != "service" || segs[2] != "operation" || strings.Contains(segs[3], ".") {
		return "", "", false
	}
	service = segs[1]
	if i := strings.LastIndexByte(service, '.'); i >= 0 {
		service = service[i+1:]
	}
	return service, segs[3], true
}

// cborOperation finds the operation an RPC v2 request names.
func (h *Handler) cborOperation(r *http.Request) (*Operation, error) {
	svc, name, ok := CBORTarget(r.URL.Path)
	op := h.byName[name]
	if !ok || r.Method != http.MethodPost || svc != h.svc.TargetPrefix || op == nil {
		return nil, &Error{Code: "UnknownOperationException", Status: http.StatusNotFound,
			Message: fmt.Sprintf("%s has no operation for %s %s.", h.svc.ServiceID, r.Method, r.URL.Path)}
	}
	return op, nil
}

func (h *Handler) decodeCBORRequest(r *http.Request) (*Operation, any, error) {
	op, err := h.cborOperation(r)
	if err != nil {
		return nil, nil, err
	}
	return h.decodeRPCBody(r, op, protoCBOR, func(body []byte, in any) error {
		return decodeCBOR(body, reflect.ValueOf(in))
	})
}

// decodeCBOR decodes a CBOR document into the structure v points to. The
// document is read into generic values and turned into what the JSON
// decoder reads (numbers as json.Number, blobs as base64, timestamps as
// epoch seconds), so that both protocols share one walk over the plan.
func decodeCBOR(body []byte, v reflect.Value) error {
	if len(body) == 0 {
		return nil
	}
	var doc any
	if err := cborDecMode.Unmarshal(body, &doc); err != nil {
		return fmt.Errorf("the request body is not valid CBOR: %v", err)
	}
	if doc == nil {
		return nil
	}
	j, err := cborToJSONValue(doc)
	if err != nil {
		return err
	}
	return setJSON(planOf(v.Type()), alloc(v), j, tsUnix, allMembers)
}

// cborToJSONValue converts a generic CBOR value to the generic JSON value
// setJSON reads.
func cborToJSONValue(c any) (any, error) {
	switch x := c.(type) {
	case nil, bool, string:
		return x, nil
	case int64:
		return json.Number(strconv.FormatInt(x, 10)), nil
	case uint64:
		return json.Number(strconv.FormatUint(x, 10)), nil
	case float32:
		return cborFloat(float64(x)), nil
	case float64:
		return cborFloat(x), nil
	case []byte:
		return encodeBase64(x), nil
	case time.Time:
		return json.Number(formatEpoch(x.Round(time.Millisecond))), nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			var err error
			if out[i], err = cborToJSONValue(e); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			var err error
			if out[k], err = cborToJSONValue(e); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected CBOR value of type %T", c)
}

// cborFloat is a float as the JSON decoder takes it: a number, or the
// strings JSON uses for NaN and the infinities.
func cborFloat(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return formatFloat(f, 64)
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
}

// encodeCBOR is v (of plan t) as a CBOR document.
func encodeCBOR(t *typeInfo, v reflect.Value) []byte {
	b, err := cborEncMode.Marshal(cborValue(t, v))
	if err != nil {
		// Every value cborValue makes is encodable; this is a bug.
		panic(fmt.Sprintf("awsproto: encoding CBOR: %v", err))
	}
	return b
}

// cborValue renders v (of plan t) as generic values for the CBOR encoder.
// Event streams are not part of a CBOR document.
func cborValue(t *typeInfo, v reflect.Value) any {
	name := func(m *member) (string, bool) { return m.wireName(), m.t.kind != kindStream }
	return genericValue(t, v, name, cborScalar)
}

// genericValue renders v (of plan t) as generic values: structures as
// maps of their set members under the names name gives (those it refuses
// left out), lists as []any, maps as map[string]any, and everything else
// as leaf renders it.
func genericValue(t *typeInfo, v reflect.Value, name func(*member) (string, bool), leaf func(*typeInfo, reflect.Value) any) any {
	v = elemOf(v)
	if !v.IsValid() {
		return nil
	}
	switch t.kind {
	case kindStruct:
		out := map[string]any{}
		for _, m := range t.members {
			n, ok := name(m)
			if f := v.Field(m.index); ok && isSet(f) {
				out[n] = genericValue(m.t, f, name, leaf)
			}
		}
		return out
	case kindList:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = genericValue(t.elem, v.Index(i), name, leaf)
		}
		return out
	case kindMap:
		out := make(map[string]any, v.Len())
		for _, k := range v.MapKeys() {
			out[k.String()] = genericValue(t.elem, v.MapIndex(k), name, leaf)
		}
		return out
	}
	return leaf(t, v)
}

// cborScalar is a scalar as the CBOR encoder takes it.
func cborScalar(t *typeInfo, v reflect.Value) any {
	switch t.kind {
	case kindDocument, kindString:
		if t.kind == kindString {
			return v.String()
		}
		return v.Interface()
	case kindBool:
		return v.Bool()
	case kindInt:
		return v.Int()
	case kindFloat:
		if t.bits == 32 {
			return float32(v.Float())
		}
		return v.Float()
	case kindTime:
		return v.Interface().(time.Time).Round(time.Millisecond)
	case kindBlob:
		return v.Bytes()
	}
	return nil
}

// encodeCBORError is the RPC v2 error document: the members of a modeled
// exception (t, v), "__type" naming the error's shape absolutely, and the
// message.
func encodeCBORError(svc *Service, e APIError, t *typeInfo, v reflect.Value, typ string) []byte {
	doc := map[string]any{}
	if t != nil {
		doc = cborValue(t, v).(map[string]any)
	}
	doc["__type"] = cborShapeID(svc, typ)
	hasMessage := false
	for k := range doc {
		hasMessage = hasMessage || strings.EqualFold(k, "message")
	}
	if !hasMessage && e.ErrorMessage() != "" {
		doc["message"] = e.ErrorMessage()
	}
	b, err := cborEncMode.Marshal(doc)
	if err != nil {
		panic(fmt.Sprintf("awsproto: encoding CBOR: %v", err))
	}
	return b
}

// cborShapeID is the absolute shape ID of an error: AWS services live in
// the namespace com.amazonaws.<service>. Clients key on the name after '#'.
func cborShapeID(svc *Service, name string) string {
	ns := "com.amazonaws.overcast"
	if svc != nil && svc.ID != "" {
		ns = "com.amazonaws." + svc.ID
	}
	return ns + "#" + name
}

func encodeCBOROutput(out any) []byte {
	v := reflect.ValueOf(out)
	if out == nil || (v.Kind() == reflect.Pointer && v.IsNil()) {
		return encodeCBOR(planOf(reflect.TypeFor[struct{}]()), reflect.ValueOf(struct{}{}))
	}
	return encodeCBOR(planOf(v.Type()), v)
}
