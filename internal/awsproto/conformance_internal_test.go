package awsproto

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast/internal/awsproto/botocore"
)

// The botocore protocol test vectors are the codec's conformance suite.
// Input cases give a serialized request and the parameters a client meant:
// the server must decode the request into exactly those parameters. Output
// cases give a result (or error) and the response AWS would send: the server
// encodes the result, and a client-side parser must read it back unchanged.
const protocolTests = "testdata/protocol-tests"

// skipped lists the cases overcast does not run, each with its reason.
// (botocore's own ignore list is for its client and is not applied: every
// other case runs.)
var skipped = map[string]string{}

func init() {
	reasons := map[string][]string{
		"a base path in the client's endpoint URL (example.com/custom) is client configuration, not part of the REST operation's path": {
			"RestJsonHostWithPath", "RestXmlHostWithPath"},
		"the vector omits the X-Amz-Target header, so the request names no operation": {
			"AwsJson10EndpointTrait", "AwsJson10EndpointTraitWithHostLabel", "AwsJson10HostWithPath"},
		"client-side precedence test: the params put one query key both in a named member and in the map of all query parameters; a server receives the key once and gives it to the named member": {
			"RestJsonAllQueryStringTypes", "RestJsonQueryStringEscaping", "RestJsonSupportsNaNFloatQueryValues",
			"RestJsonSupportsInfinityFloatQueryValues", "RestJsonSupportsNegativeInfinityFloatQueryValues",
			"RestJsonZeroAndFalseQueryValues", "RestJsonQueryPrecedence", "RestXmlQueryPrecedence"},
		"the vector lists only the Content-Encoding header, without the compressed body or routing headers; gzip request bodies are tested by TestGzipRequestBody": {
			"SDKAppliedContentEncoding_ec2Query", "SDKAppendsGzipAndIgnoresHttpProvidedEncoding_ec2Query",
			"SDKAppliedContentEncoding_awsJson1_1", "SDKAppendsGzipAndIgnoresHttpProvidedEncoding_awsJson1_1",
			"SDKAppliedContentEncoding_awsJson1_0", "SDKAppendsGzipAndIgnoresHttpProvidedEncoding_awsJson1_0",
			"SDKAppliedContentEncoding_awsQuery", "SDKAppendsGzipAndIgnoresHttpProvidedEncoding_awsQuery",
			"SDKAppliedContentEncoding_restJson1", "SDKAppendedGzipAfterProvidedEncoding_restJson1",
			"SDKAppliedContentEncoding_restXml", "SDKAppendedGzipAfterProvidedEncoding_restXml"},
		"the client generates the idempotency token the vector expects; the params leave it out, the server receives it": {
			"Ec2ProtocolIdempotencyTokenAutoFill", "QueryProtocolIdempotencyTokenAutoFill",
			"RestJsonQueryIdempotencyTokenAutoFill", "QueryIdempotencyTokenAutoFill"},
	}
	for reason, ids := range reasons {
		for _, id := range ids {
			skipped[id] = reason
		}
	}
}

type protoCase struct {
	ID         string             `json:"id"`
	Given      botocore.Operation `json:"given"`
	Params     json.RawMessage    `json:"params"`
	Serialized *struct {
		Method  string            `json:"method"`
		URI     string            `json:"uri"`
		Headers map[string]string `json:"headers"`
		Body    *string           `json:"body"`
		Host    string            `json:"host"`
	} `json:"serialized"`
	Result    json.RawMessage `json:"result"`
	ErrorCode string          `json:"errorCode"`
	Error     json.RawMessage `json:"error"`
	Response  *struct {
		StatusCode int               `json:"status_code"`
		Headers    map[string]string `json:"headers"`
		Body       string            `json:"body"`
	} `json:"response"`
}

type protoSuite struct {
	Description string `json:"description"`
	Metadata    struct {
		Protocol     string    `json:"protocol"`
		APIVersion   string    `json:"apiVersion"`
		JSONVersion  string    `json:"jsonVersion"`
		TargetPrefix string    `json:"targetPrefix"`
		XMLNamespace string    `json:"xmlNamespace"`
		QueryCompat  *struct{} `json:"awsQueryCompatible"`
	} `json:"metadata"`
	Shapes map[string]struct {
		Type  string `json:"type"`
		Error *struct {
			Code string `json:"code"`
		} `json:"error"`
	} `json:"shapes"`
	Cases []protoCase `json:"cases"`
}

type ignoreList struct {
	General struct {
		Input  struct{ Suites []string } `json:"input"`
		Output struct{ Suites []string } `json:"output"`
	} `json:"general"`
	Protocols map[string]struct {
		Input  struct{ Cases []string } `json:"input"`
		Output struct{ Cases []string } `json:"output"`
	} `json:"protocols"`
}

// RunProtocolConformance runs every case; types maps
// "<file>/<direction>/<suite>/<shape>" to the generated type of the shape
// (package prototest, which imports this one, so the test that calls this
// lives outside the package).
func RunProtocolConformance(t *testing.T, types map[string]reflect.Type) {
	protoTypes = types
	var ignore ignoreList
	readJSON(t, filepath.Join(protocolTests, "protocol-tests-ignore-list.json"), &ignore)
	type tally struct{ pass, fail, skip int }
	counts := map[string]*tally{}
	files, _ := filepath.Glob(filepath.Join(protocolTests, "*", "*.json"))
	if len(files) == 0 {
		t.Fatal("no protocol tests found")
	}
	for _, path := range files {
		base := strings.TrimSuffix(filepath.Base(path), ".json")
		dir := filepath.Base(filepath.Dir(path))
		if dir == "." {
			continue
		}
		var suites []protoSuite
		readJSON(t, path, &suites)
		for i, s := range suites {
			c := counts[s.Metadata.Protocol+"/"+dir]
			if c == nil {
				c = &tally{}
				counts[s.Metadata.Protocol+"/"+dir] = c
			}
			for _, tc := range s.Cases {
				reason := skipReason(tc)
				name := fmt.Sprintf("%s/%s/%s", base, dir, tc.ID)
				ok := t.Run(name, func(t *testing.T) {
					if reason != "" {
						t.Skip(reason)
					}
					key := fmt.Sprintf("%s/%s/%d/", base, dir, i)
					if dir == "input" {
						runInputCase(t, key, s, tc)
					} else {
						runOutputCase(t, key, s, tc)
					}
				})
				switch {
				case reason != "":
					c.skip++
				case ok:
					c.pass++
				default:
					c.fail++
				}
			}
		}
	}
	var total tally
	names := make([]string, 0, len(counts))
	for k := range counts {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		c := counts[k]
		t.Logf("%-26s pass %3d  fail %3d  skip %3d", k, c.pass, c.fail, c.skip)
		total.pass += c.pass
		total.fail += c.fail
		total.skip += c.skip
	}
	all := total.pass + total.fail + total.skip
	t.Logf("%-26s pass %3d  fail %3d  skip %3d  (%.1f%% of %d cases pass)", "total", total.pass, total.fail, total.skip,
		100*float64(total.pass)/float64(all), all)
	if float64(total.pass) < 0.95*float64(all) {
		t.Errorf("only %d of %d protocol cases pass; at least 95%% must", total.pass, all)
	}
}

func skipReason(tc protoCase) string {
	return skipped[tc.ID]
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func suiteService(s protoSuite, op Operation) *Service {
	return &Service{ID: "test", ServiceID: "Test", APIVersion: s.Metadata.APIVersion,
		Protocols: []string{s.Metadata.Protocol}, JSONVersion: s.Metadata.JSONVersion,
		TargetPrefix: s.Metadata.TargetPrefix, XMLNamespace: s.Metadata.XMLNamespace, QueryCompatible: s.Metadata.QueryCompat != nil,
		Operations: []Operation{op}}
}

func typeFor(t *testing.T, key, shape string) reflect.Type {
	t.Helper()
	rt, ok := protoTypes[key+shape]
	if !ok {
		t.Fatalf("no generated type for %s%s", key, shape)
	}
	return rt
}

func runInputCase(t *testing.T, key string, s protoSuite, tc protoCase) {
	op := Operation{Name: tc.Given.Name, HTTPMethod: tc.Given.HTTP.Method, RequestURI: tc.Given.HTTP.RequestURI}
	var got any
	called := false
	if tc.Given.Input != nil {
		rt := typeFor(t, key, tc.Given.Input.Shape)
		op.NewInput = func() any { return reflect.New(rt).Interface() }
	}
	op.Call = func(_ context.Context, _, in any) (any, error) {
		called = true
		got = in
		if in != nil {
			// Streams must be read while the request is alive.
			v := reflect.ValueOf(in).Elem()
			for _, m := range planOf(v.Type()).members {
				if m.t.kind == kindStream && !v.Field(m.index).IsNil() {
					b, _ := io.ReadAll(v.Field(m.index).Interface().(io.Reader))
					v.Field(m.index).Set(reflect.ValueOf(io.NopCloser(bytes.NewReader(b))))
				}
			}
		}
		return nil, nil
	}
	svc := suiteService(s, op)
	ser := tc.Serialized
	if target := ser.Headers["X-Amz-Target"]; svc.TargetPrefix == "" && target != "" {
		svc.TargetPrefix, _, _ = strings.Cut(target, ".")
	}
	h := NewHandler(NewBinding(svc, struct{}{}, true), nil)
	body := ""
	if ser.Body != nil {
		body = *ser.Body
	}
	if s.Metadata.Protocol == protoCBOR {
		body = fromBase64(t, body) // the vectors write CBOR bodies in base64
	}
	if ser.Headers["Content-MD5"] != "" && json.Valid([]byte(body)) {
		// The vector prints its JSON body indented, but its Content-MD5 is
		// of the compact body a client sends, which the server verifies.
		var compact bytes.Buffer
		if err := json.Compact(&compact, []byte(body)); err == nil {
			body = compact.String()
		}
	}
	uri := ser.URI
	if !strings.HasPrefix(uri, "/") {
		uri = "/" + uri
	}
	req := httptest.NewRequest(ser.Method, uri, strings.NewReader(body))
	for k, v := range ser.Headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if !called {
		t.Fatalf("operation not called: %d %s", rec.Code, rec.Body)
	}
	// A client omits empty lists, maps and structures, so on the server an
	// empty one and an absent one are the same input.
	want := dropEmpty(normalizeParams(decodeParams(t, tc.Params)))
	var gotParams any = map[string]any{}
	if got != nil {
		gotParams = toParams(planOf(reflect.TypeOf(got)), reflect.ValueOf(got))
	}
	if diff := cmp.Diff(want, dropEmpty(normalizeParams(gotParams)), cmp.Comparer(floatEqual)); diff != "" {
		t.Errorf("decoded input differs (-want +got):\n%s\nrequest: %s %s\n%s", diff, ser.Method, uri, body)
	}
}

var protoTypes map[string]reflect.Type

func runOutputCase(t *testing.T, key string, s protoSuite, tc protoCase) {
	proto := s.Metadata.Protocol
	op := Operation{Name: tc.Given.Name, HTTPMethod: tc.Given.HTTP.Method, RequestURI: tc.Given.HTTP.RequestURI,
		ResponseCode: tc.Given.HTTP.ResponseCode}
	var outType reflect.Type
	if tc.Given.Output != nil {
		outType = typeFor(t, key, tc.Given.Output.Shape)
		op.ResultWrapper = tc.Given.Output.ResultWrapper
		op.NewOutput = func() any { return reflect.New(outType).Interface() }
	}
	svc := suiteService(s, op)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(orDefault(op.HTTPMethod, "POST"), "/", nil)
	req = req.WithContext(WithRequestID(req.Context(), "request-id"))
	h := NewHandler(NewBinding(svc, struct{}{}, true), nil)

	if tc.ErrorCode != "" {
		errType := errorType(t, key, s, tc)
		ev := reflect.New(errType)
		setParams(t, planOf(errType), ev.Elem(), decodeParams(t, tc.Error))
		WriteError(rec, svc, proto, ev.Interface().(APIError), "request-id", false)
		resp := rec.Result()
		if resp.StatusCode != tc.Response.StatusCode {
			t.Errorf("status = %d, want %d", resp.StatusCode, tc.Response.StatusCode)
		}
		code, fields := parseErrorResponse(t, proto, resp, errType)
		if code != tc.ErrorCode {
			t.Errorf("error code = %q, want %q\n%s", code, tc.ErrorCode, rec.Body)
		}
		want := normalizeParams(decodeParams(t, tc.Error))
		if diff := cmp.Diff(want, normalizeParams(fields), cmp.Comparer(floatEqual)); diff != "" {
			t.Errorf("error fields differ (-want +got):\n%s\nresponse: %s", diff, rec.Body)
		}
		return
	}

	var out any
	if outType != nil {
		out = reflect.New(outType).Interface()
		setParams(t, planOf(outType), reflect.ValueOf(out).Elem(), decodeParams(t, tc.Result))
	}
	h.init()
	h.writeOutput(rec, req, proto, &op, out)
	resp := rec.Result()
	if resp.StatusCode != tc.Response.StatusCode {
		t.Errorf("status = %d, want %d", resp.StatusCode, tc.Response.StatusCode)
	}
	var got any = map[string]any{}
	if outType != nil {
		back := reflect.New(outType)
		parseResponse(t, proto, &op, resp, back)
		got = toParams(planOf(outType), back)
	}
	want := normalizeParams(decodeParams(t, tc.Result))
	if diff := cmp.Diff(want, normalizeParams(got), cmp.Comparer(floatEqual)); diff != "" {
		t.Errorf("result does not parse back (-want +got):\n%s\nresponse headers: %v\nbody: %s", diff, resp.Header, rec.Body)
	}
}

func errorType(t *testing.T, key string, s protoSuite, tc protoCase) reflect.Type {
	for _, e := range tc.Given.Errors {
		code := e.Shape
		if sh := s.Shapes[e.Shape]; sh.Error != nil && sh.Error.Code != "" {
			code = sh.Error.Code
		}
		if code == tc.ErrorCode || e.Shape == tc.ErrorCode {
			return typeFor(t, key, e.Shape)
		}
	}
	t.Fatalf("no error shape for code %s", tc.ErrorCode)
	return nil
}

func floatEqual(a, b float64) bool {
	return a == b || (math.IsNaN(a) && math.IsNaN(b)) || math.Abs(a-b) < 1e-6*math.Max(1, math.Abs(a))
}

func decodeParams(t *testing.T, raw json.RawMessage) any {
	if len(raw) == 0 {
		return map[string]any{}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// normalizeParams drops nulls and turns numbers into float64, so parameters
// from the test file and from a decoded value compare.
func normalizeParams(v any) any {
	return rebuild(v, func(leaf any) any {
		switch x := leaf.(type) {
		case json.Number:
			f, _ := x.Float64()
			return f
		case int64:
			return float64(x)
		case float32:
			return float64(x)
		}
		return leaf
	}, func(member any) bool { return member != nil })
}

// dropEmpty removes empty lists and maps from structure members.
func dropEmpty(v any) any {
	return rebuild(v, func(leaf any) any { return leaf }, func(member any) bool {
		l, isList := member.([]any)
		m, isMap := member.(map[string]any)
		return !(isList && len(l) == 0) && !(isMap && len(m) == 0)
	})
}

// rebuild copies a decoded JSON value bottom up, each leaf as leaf turns
// it, keeping of each map only the members (rebuilt) that keep accepts.
func rebuild(v any, leaf func(any) any, keep func(member any) bool) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if e = rebuild(e, leaf, keep); keep(e) {
				out[k] = e
			}
		}
		return out
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			out = append(out, rebuild(e, leaf, keep))
		}
		return out
	}
	return leaf(v)
}

// toParams renders a decoded value the way the test files write
// parameters: member names, epoch-second timestamps, blobs as text.
func toParams(t *typeInfo, v reflect.Value) any {
	name := func(m *member) (string, bool) { return m.name, true }
	return genericValue(t, v, name, paramScalar)
}

// paramScalar is a scalar as the test files write it.
func paramScalar(t *typeInfo, v reflect.Value) any {
	switch t.kind {
	case kindTime:
		tm := v.Interface().(time.Time)
		return float64(tm.UnixMilli()) / 1000
	case kindBlob:
		return string(v.Bytes())
	case kindStream:
		b, _ := io.ReadAll(v.Interface().(io.Reader))
		return string(b)
	case kindFloat:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return formatFloat(f, t.bits) // "NaN", "Infinity", as the test files write them
		}
		if t.bits == 32 {
			f, _ = json.Number(formatFloat(f, 32)).Float64()
		}
		return f
	case kindInt:
		return float64(v.Int())
	case kindBool:
		return v.Bool()
	case kindString:
		return v.String()
	case kindDocument:
		return normalizeParams(v.Interface())
	}
	return nil
}

// setParams is the inverse of toParams: it builds a value from test-file
// parameters.
func setParams(t *testing.T, ti *typeInfo, v reflect.Value, p any) {
	t.Helper()
	if p == nil {
		return
	}
	switch ti.kind {
	case kindStruct:
		obj := p.(map[string]any)
		for _, m := range ti.members {
			val, ok := obj[m.name]
			if !ok || val == nil {
				continue
			}
			setParams(t, m.t, alloc(v.Field(m.index)), val)
		}
	case kindList:
		arr := p.([]any)
		list := reflect.MakeSlice(ti.rtype, len(arr), len(arr))
		for i, e := range arr {
			setParams(t, ti.elem, list.Index(i), e)
		}
		v.Set(list)
	case kindMap:
		obj := p.(map[string]any)
		mv := reflect.MakeMap(ti.rtype)
		for k, e := range obj {
			ev := reflect.New(ti.elem.rtype).Elem()
			setParams(t, ti.elem, ev, e)
			mv.SetMapIndex(reflect.ValueOf(k).Convert(ti.rtype.Key()), ev)
		}
		v.Set(mv)
	case kindTime:
		f, _ := p.(json.Number).Float64()
		v.Set(reflect.ValueOf(epochTime(f)))
	case kindBlob:
		v.SetBytes([]byte(p.(string)))
	case kindStream:
		v.Set(reflect.ValueOf(io.NopCloser(strings.NewReader(p.(string)))))
	case kindDocument:
		v.Set(reflect.ValueOf(&p).Elem())
	case kindString:
		v.SetString(p.(string))
	case kindBool:
		v.SetBool(p.(bool))
	case kindInt:
		n, _ := p.(json.Number).Int64()
		v.SetInt(n)
	case kindFloat:
		switch x := p.(type) {
		case string:
			f, _ := parseFloat(x, 64)
			v.SetFloat(f)
		case json.Number:
			f, _ := x.Float64()
			v.SetFloat(f)
		}
	}
}

// parseResponse is the client side of the protocol, for the parse-back
// half of the output cases.
func parseResponse(t *testing.T, proto string, op *Operation, resp *http.Response, out reflect.Value) {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	ti := planOf(out.Type())
	v := out.Elem()
	switch proto {
	case "json":
		if err := decodeJSON(body, out, allMembers); err != nil {
			t.Fatalf("parse: %v\n%s", err, body)
		}
	case protoCBOR:
		if got := resp.Header.Get("Smithy-Protocol"); got != cborProtocolName {
			t.Errorf("Smithy-Protocol = %q, want %q", got, cborProtocolName)
		}
		if err := decodeCBOR(body, out); err != nil {
			t.Fatalf("parse: %v\n%x", err, body)
		}
	case "query", "ec2":
		root, err := parseXML(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("parse: %v\n%s", err, body)
		}
		n := root
		if proto == "query" {
			if n = root.child(orDefault(op.ResultWrapper, op.Name+"Result")); n == nil {
				t.Fatalf("no result wrapper in %s", body)
			}
		}
		if err := setXMLStruct(ti, v, n, allMembers); err != nil {
			t.Fatalf("parse: %v", err)
		}
	case "rest-json", "rest-xml":
		req := &http.Request{Header: resp.Header, URL: &url.URL{}}
		if err := decodeRESTBindings(ti, v, req, &route{}, nil); err != nil {
			t.Fatalf("parse headers: %v", err)
		}
		for _, m := range ti.members {
			if m.loc == inStatus {
				alloc(v.Field(m.index)).SetInt(int64(resp.StatusCode))
			}
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		if err := decodeRESTBody(ti, v, req, proto, responseBody); err != nil {
			t.Fatalf("parse body: %v\n%s", err, body)
		}
	}
}

// parseErrorResponse reads the error code and the modeled fields back.
func parseErrorResponse(t *testing.T, proto string, resp *http.Response, errType reflect.Type) (string, any) {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	ev := reflect.New(errType)
	ti := planOf(errType)
	var code string
	switch proto {
	case protoCBOR:
		var env map[string]any
		if err := cborDecMode.Unmarshal(body, &env); err != nil {
			t.Fatalf("error body: %v\n%x", err, body)
		}
		typ, _ := env["__type"].(string)
		_, code, _ = strings.Cut(typ, "#")
		if q := resp.Header.Get("x-amzn-query-error"); q != "" {
			code, _, _ = strings.Cut(q, ";")
		}
		if err := decodeCBOR(body, ev); err != nil {
			t.Fatalf("error body: %v", err)
		}
	case "json", "rest-json":
		code = resp.Header.Get("X-Amzn-Errortype")
		var env map[string]any
		if len(bytes.TrimSpace(body)) > 0 {
			if err := json.Unmarshal(body, &env); err != nil {
				t.Fatalf("error body: %v\n%s", err, body)
			}
		}
		if c, ok := env["__type"].(string); ok && code == "" {
			code = c
		}
		if i := strings.LastIndexByte(code, '#'); i >= 0 {
			code = code[i+1:]
		}
		code, _, _ = strings.Cut(code, ":")
		scope := allMembers
		if proto == "rest-json" {
			scope = responseBody
		}
		if q := resp.Header.Get("x-amzn-query-error"); q != "" {
			code, _, _ = strings.Cut(q, ";")
		}
		if err := decodeJSON(body, ev, scope); err != nil {
			t.Fatalf("error body: %v", err)
		}
		if proto == "rest-json" {
			req := &http.Request{Header: resp.Header, URL: &url.URL{}}
			if err := decodeRESTBindings(ti, ev.Elem(), req, &route{}, nil); err != nil {
				t.Fatalf("error headers: %v", err)
			}
		}
	default:
		root, err := parseXML(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("error body: %v\n%s", err, body)
		}
		n := root
		switch {
		case root.name == "Response":
			n = root.child("Errors").child("Error")
		case root.name == "ErrorResponse":
			n = root.child("Error")
		}
		code = n.child("Code").text.String()
		scope := allMembers
		if proto == "rest-xml" {
			scope = responseBody
		}
		if err := setXMLStruct(ti, ev.Elem(), n, scope); err != nil {
			t.Fatalf("error fields: %v", err)
		}
		if proto == "rest-xml" {
			req := &http.Request{Header: resp.Header, URL: &url.URL{}}
			if err := decodeRESTBindings(ti, ev.Elem(), req, &route{}, nil); err != nil {
				t.Fatalf("error headers: %v", err)
			}
		}
	}
	return code, toParams(ti, ev)
}

func fromBase64(t *testing.T, s string) string {
	t.Helper()
	b, err := decodeBase64(s)
	if err != nil && s != "" {
		t.Fatalf("CBOR body: %v", err)
	}
	return string(b)
}
