package functions

import (
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/dop251/goja"
)

// The event reaches the handler as Go maps that goja wraps rather than
// copies: building it costs a few map allocations instead of a JavaScript
// object per field, what the function changes lands in the maps, and what
// it adds is exported into them. What the handler returns is then plain Go
// (map[string]any, []any, string, int64, float64...) to read back.

// eventValue is ev as the maps the handler receives.
func eventValue(vm *goja.Runtime, ev *Event) map[string]any {
	o := map[string]any{
		"version": ev.Version,
		"context": map[string]any{
			"distributionDomainName": ev.Context.DistributionDomainName,
			"distributionId":         ev.Context.DistributionID,
			"eventType":              ev.Context.EventType,
			"requestId":              ev.Context.RequestID,
		},
		"viewer": map[string]any{"ip": ev.Viewer.IP},
	}
	if r := ev.Request; r != nil {
		o["request"] = map[string]any{
			"method":      r.Method,
			"uri":         r.URI,
			"querystring": newValuesObject(vm, r.QueryString),
			"headers":     newValuesObject(vm, r.Headers),
			"cookies":     newValuesObject(vm, r.Cookies),
		}
	}
	if r := ev.Response; r != nil {
		o["response"] = map[string]any{
			"statusCode":        int64(r.StatusCode),
			"statusDescription": r.StatusDescription,
			"headers":           newValuesObject(vm, r.Headers),
			"cookies":           newValuesObject(vm, r.Cookies),
		}
	}
	return o
}

func valueMap(v Value) map[string]any {
	o := map[string]any{"value": v.Value}
	if v.Attributes != "" {
		o["attributes"] = v.Attributes
	}
	if len(v.MultiValue) > 0 {
		multi := make([]any, len(v.MultiValue))
		for i, mv := range v.MultiValue {
			multi[i] = valueMap(mv)
		}
		o["multiValue"] = multi
	}
	return o
}

// result reads what the handler returned for ev. A viewer-request function
// returns the request (possibly changed) or a response to answer the
// viewer with (an object with a statusCode); a viewer-response function
// returns the response.
func result(ev *Event, v goja.Value) (*Result, error) {
	var returned any
	if v != nil {
		returned = v.Export()
	}
	o, ok := returned.(map[string]any)
	if !ok {
		return nil, invalidResult("expected the %s object, got %s", returnedKind(ev), describe(returned))
	}
	if status, ok := o["statusCode"]; ok && status != nil {
		resp, err := readResponse(o, ev.Response)
		return &Result{Response: resp}, err
	}
	if ev.Context.EventType == EventViewerResponse {
		return nil, invalidResult("the response has no statusCode")
	}
	req, err := readRequest(o, ev.Request)
	return &Result{Request: req}, err
}

func returnedKind(ev *Event) string {
	if ev.Context.EventType == EventViewerResponse {
		return "response"
	}
	return "request"
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "undefined or null"
	case int64, float64:
		return "a number"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("a %T", v)
}

func readRequest(o map[string]any, orig *Request) (*Request, error) {
	uri, ok := o["uri"].(string)
	if !ok {
		return nil, invalidResult("the request has no uri string")
	}
	// method is read-only: what the function sets is ignored.
	r := &Request{Method: orig.Method, URI: uri}
	if !strings.HasPrefix(r.URI, "/") {
		return nil, invalidResult("the uri %q does not begin with /", r.URI)
	}
	var err error
	if r.QueryString, err = readValues(o, "querystring", orig.QueryString); err != nil {
		return nil, err
	}
	if r.Headers, err = readValues(o, "headers", orig.Headers); err != nil {
		return nil, err
	}
	if r.Cookies, err = readValues(o, "cookies", orig.Cookies); err != nil {
		return nil, err
	}
	return r, nil
}

func readResponse(o map[string]any, orig *Response) (*Response, error) {
	var code int
	switch n := o["statusCode"].(type) {
	case int64:
		code = int(n)
	case float64:
		if n == math.Trunc(n) {
			code = int(n)
		}
	}
	if code < 100 || code > 599 {
		return nil, invalidResult("the statusCode %v is not an HTTP status code", o["statusCode"])
	}
	r := &Response{StatusCode: code}
	if d, ok := o["statusDescription"]; ok && d != nil {
		r.StatusDescription = fmt.Sprint(d)
	}
	var origHeaders, origCookies map[string]Value
	if orig != nil {
		origHeaders, origCookies = orig.Headers, orig.Cookies
	}
	var err error
	if r.Headers, err = readValues(o, "headers", origHeaders); err != nil {
		return nil, err
	}
	if r.Cookies, err = readValues(o, "cookies", origCookies); err != nil {
		return nil, err
	}
	if r.Body, err = readBody(o["body"]); err != nil {
		return nil, err
	}
	return r, nil
}

func readBody(v any) (*Body, error) {
	var b *Body
	switch v := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		b = &Body{Encoding: "text"}
		if d, ok := v["data"]; ok && d != nil {
			b.Data = fmt.Sprint(d)
		}
		if e, ok := v["encoding"]; ok && e != nil {
			b.Encoding = fmt.Sprint(e)
		}
	default:
		// The shortcut: the body's text itself.
		return &Body{Data: fmt.Sprint(v), Encoding: "text"}, nil
	}
	switch b.Encoding {
	case "text":
	case "base64":
		if _, err := base64.StdEncoding.DecodeString(b.Data); err != nil {
			return nil, invalidResult("the body is not valid base64")
		}
	default:
		return nil, invalidResult("the body encoding %q is neither text nor base64", b.Encoding)
	}
	return b, nil
}

// readValues reads the querystring, headers or cookies field of o. orig is
// what the event held, for CloudFront's multiValue rule: a changed
// multiValue array wins; otherwise a changed value replaces the first of
// the original values only.
func readValues(o map[string]any, field string, orig map[string]Value) (map[string]Value, error) {
	v := o[field]
	if obj, ok := v.(*goja.Object); ok {
		v = obj.Export()
	}
	switch v := v.(type) {
	case nil:
		return map[string]Value{}, nil
	case *valuesObject:
		return v.values(field)
	case map[string]any:
		out := make(map[string]Value, len(v))
		return out, readEntries(out, v, field, orig)
	}
	return nil, invalidResult("%s is not an object", field)
}

// readEntries adds entries, as the function left them, to out.
func readEntries(out map[string]Value, entries map[string]any, field string, orig map[string]Value) error {
	for name, entry := range entries {
		got, err := readValue(entry, field, name)
		if err != nil {
			return err
		}
		if field == "headers" {
			name = strings.ToLower(name)
		}
		out[name] = mergeMultiValue(got, orig[name])
	}
	return nil
}

func readValue(entry any, field, name string) (Value, error) {
	o, ok := entry.(map[string]any)
	if !ok || o["value"] == nil {
		return Value{}, invalidResult("%s.%s is not an object with a value", field, name)
	}
	v := Value{Value: text(o["value"])}
	if a, ok := o["attributes"]; ok && a != nil {
		v.Attributes = text(a)
	}
	multi, _ := o["multiValue"].([]any)
	for _, item := range multi {
		mv, err := readValue(item, field, name)
		if err != nil {
			return Value{}, err
		}
		v.MultiValue = append(v.MultiValue, mv)
	}
	return v, nil
}

func mergeMultiValue(got, orig Value) Value {
	if len(got.MultiValue) == 0 {
		return got
	}
	if !slices.EqualFunc(got.MultiValue, orig.MultiValue, sameValue) {
		got.Value, got.Attributes = got.MultiValue[0].Value, got.MultiValue[0].Attributes
		return got
	}
	multi := slices.Clone(got.MultiValue)
	multi[0].Value, multi[0].Attributes = got.Value, got.Attributes
	got.MultiValue = multi
	return got
}

func sameValue(a, b Value) bool {
	return a.Value == b.Value && a.Attributes == b.Attributes
}

// text is v as JavaScript's String(v) would have it, for the strings
// CloudFront expects where a function may have put a number.
func text(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}
