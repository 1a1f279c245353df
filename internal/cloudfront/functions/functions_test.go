package functions

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func mustCompile(t testing.TB, runtime, code string) *Program {
	t.Helper()
	p, err := Compile(runtime, []byte(code))
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

func viewerRequest(uri string) *Event {
	return &Event{
		Version: "1.0",
		Context: Context{DistributionDomainName: "d111111abcdef8.cloudfront.net", DistributionID: "EDFDVBD6EXAMPLE", EventType: EventViewerRequest, RequestID: "req-1"},
		Viewer:  Viewer{IP: "198.51.100.11"},
		Request: &Request{
			Method:      "GET",
			URI:         uri,
			QueryString: map[string]Value{"id": {Value: "42"}},
			Headers: map[string]Value{
				"host":                      {Value: "www.example.com"},
				"cloudfront-viewer-country": {Value: "DE"},
				"accept": {Value: "text/html", MultiValue: []Value{
					{Value: "text/html"}, {Value: "application/json"},
				}},
			},
			Cookies: map[string]Value{"session": {Value: "abc"}},
		},
	}
}

func viewerResponse() *Event {
	ev := viewerRequest("/index.html")
	ev.Context.EventType = EventViewerResponse
	ev.Response = &Response{
		StatusCode:        200,
		StatusDescription: "OK",
		Headers:           map[string]Value{"content-type": {Value: "text/html"}},
		Cookies:           map[string]Value{},
	}
	return ev
}

// The functions of CloudFront's documented examples, as users write them.
const (
	addIndexHTML = `function handler(event) {
    var request = event.request;
    var uri = request.uri;
    if (uri.endsWith('/')) {
        request.uri += 'index.html';
    } else if (!uri.includes('.')) {
        request.uri += '/index.html';
    }
    return request;
}`
	redirectByCountry = `function handler(event) {
    var headers = event.request.headers;
    var country = headers['cloudfront-viewer-country'] ? headers['cloudfront-viewer-country'].value : 'US';
    return {
        statusCode: 302,
        statusDescription: 'Found',
        headers: { 'location': { value: 'https://www.example.com/' + country.toLowerCase() + '/index.html' } }
    };
}`
	securityHeaders = `function handler(event) {
    var response = event.response;
    var headers = response.headers;
    headers['strict-transport-security'] = { value: 'max-age=63072000; includeSubdomains; preload' };
    headers['x-content-type-options'] = { value: 'nosniff' };
    headers['x-frame-options'] = { value: 'DENY' };
    return response;
}`
	cookiesAndQueryString = `function handler(event) {
    var request = event.request;
    request.cookies['consent'] = { value: 'true' };
    delete request.cookies['session'];
    request.querystring['lang'] = { value: request.headers['cloudfront-viewer-country'].value.toLowerCase() };
    delete request.querystring['id'];
    request.headers['accept'].multiValue[1].value = 'text/plain';
    request.method = 'POST';
    return request;
}`
	setCookieOnResponse = `function handler(event) {
    var response = event.response;
    response.cookies['visited'] = { value: 'yes', attributes: 'Path=/; Secure' };
    response.statusCode = 203;
    response.statusDescription = 'Non-Authoritative Information';
    response.body = 'replaced';
    return response;
}`
	runtime2Features = `import_unused: {}
const crypto = require('crypto');
const querystring = require('querystring');
const sign = (s) => crypto.createHmac('sha256', 'secret').update(s).digest('hex');
async function handler(event) {
    const request = event.request;
    let token = await Promise.resolve(sign(request.uri));
    const query = querystring.parse('a=1&a=2&b=x+y');
    request.headers['x-token'] = { value: token };
    request.headers['x-query'] = { value: ` + "`${query.a.join('|')}:${query.b}`" + ` };
    request.headers['x-base64'] = { value: Buffer.from('hello').toString('base64') };
    request.headers['x-md5'] = { value: crypto.createHash('md5').update('hello').digest('hex') };
    return request;
}`
)

func TestRunDocumentedExamples(t *testing.T) {
	addIndex := func(uri string) *Request {
		r := viewerRequest("").Request
		r.URI = uri
		return r
	}
	tests := []struct {
		name    string
		runtime string
		code    string
		event   *Event
		want    *Result
	}{
		{"index.html for a directory", Runtime1, addIndexHTML, viewerRequest("/docs/"), &Result{Request: addIndex("/docs/index.html")}},
		{"index.html for a path without extension", Runtime1, addIndexHTML, viewerRequest("/docs"), &Result{Request: addIndex("/docs/index.html")}},
		{"a file is left alone", Runtime1, addIndexHTML, viewerRequest("/app.js"), &Result{Request: addIndex("/app.js")}},
		{"redirect", Runtime1, redirectByCountry, viewerRequest("/"), &Result{Response: &Response{
			StatusCode:        302,
			StatusDescription: "Found",
			Headers:           map[string]Value{"location": {Value: "https://www.example.com/de/index.html"}},
			Cookies:           map[string]Value{},
		}}},
		{"security headers", Runtime1, securityHeaders, viewerResponse(), &Result{Response: &Response{
			StatusCode:        200,
			StatusDescription: "OK",
			Headers: map[string]Value{
				"content-type":              {Value: "text/html"},
				"strict-transport-security": {Value: "max-age=63072000; includeSubdomains; preload"},
				"x-content-type-options":    {Value: "nosniff"},
				"x-frame-options":           {Value: "DENY"},
			},
			Cookies: map[string]Value{},
		}}},
		{"cookies, query string and multiValue; method is read-only", Runtime1, cookiesAndQueryString, viewerRequest("/"), &Result{Request: &Request{
			Method:      "GET",
			URI:         "/",
			QueryString: map[string]Value{"lang": {Value: "de"}},
			Headers: map[string]Value{
				"host":                      {Value: "www.example.com"},
				"cloudfront-viewer-country": {Value: "DE"},
				"accept": {Value: "text/html", MultiValue: []Value{
					{Value: "text/html"}, {Value: "text/plain"},
				}},
			},
			Cookies: map[string]Value{"consent": {Value: "true"}},
		}}},
		{"response cookies with attributes, status and body", Runtime2, setCookieOnResponse, viewerResponse(), &Result{Response: &Response{
			StatusCode:        203,
			StatusDescription: "Non-Authoritative Information",
			Headers:           map[string]Value{"content-type": {Value: "text/html"}},
			Cookies:           map[string]Value{"visited": {Value: "yes", Attributes: "Path=/; Secure"}},
			Body:              &Body{Data: "replaced", Encoding: "text"},
		}}},
		{"runtime 2.0: async, const/let, arrows, templates, crypto, querystring, Buffer", Runtime2, runtime2Features, viewerRequest("/a"), &Result{Request: func() *Request {
			r := addIndex("/a")
			mac := hmac.New(sha256.New, []byte("secret"))
			mac.Write([]byte("/a"))
			r.Headers["x-token"] = Value{Value: hex.EncodeToString(mac.Sum(nil))}
			r.Headers["x-query"] = Value{Value: "1|2:x y"}
			r.Headers["x-base64"] = Value{Value: "aGVsbG8="}
			r.Headers["x-md5"] = Value{Value: "5d41402abc4b2a76b9719d911017c592"}
			return r
		}()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, tt.runtime, tt.code)
			got, err := p.Run(context.Background(), tt.event)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got.ComputeUtilization < 1 || got.ComputeUtilization > 100 {
				t.Errorf("got ComputeUtilization %d, want 1-100", got.ComputeUtilization)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(Result{}, "ComputeUtilization", "Logs")); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompileSyntaxByRuntime(t *testing.T) {
	tests := []struct {
		name    string
		runtime string
		code    string
		wantErr bool
	}{
		{"1.0 var", Runtime1, `function handler(e) { var r = e.request; return r; }`, false},
		{"1.0 arrow functions (documented for 1.0)", Runtime1, `var f = (r) => r; function handler(e) { return f(e.request); }`, false},
		{"1.0 template literals (documented for 1.0)", Runtime1, "function handler(e) { e.request.uri = `/${'a'}`; return e.request; }", false},
		{"1.0 let", Runtime1, `function handler(e) { let r = e.request; return r; }`, true},
		{"1.0 const", Runtime1, `const x = 1; function handler(e) { return e.request; }`, true},
		{"1.0 async", Runtime1, `async function handler(e) { return e.request; }`, true},
		{"1.0 await", Runtime1, `function handler(e) { return e.request; } async function f() { await 1; }`, true},
		{"1.0 class", Runtime1, `class A {} function handler(e) { return e.request; }`, true},
		{"2.0 let, const, async, class", Runtime2, `class A {} const x = 1; async function handler(e) { let r = await e.request; return r; }`, false},
		{"syntax error", Runtime2, `function handler(e) { return e.request`, true},
		{"no handler", Runtime2, `function handle(e) { return e.request; }`, true},
		{"handler is not a function", Runtime2, `var handler = 1;`, true},
		{"code loops while loading", Runtime2, `for (;;) {} function handler(e) { return e.request; }`, true},
		{"code throws while loading", Runtime2, `throw new Error('x'); function handler(e) { return e.request; }`, true},
		{"strict mode", Runtime1, `function handler(e) { undeclared = 1; return e.request; }`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(tt.runtime, []byte(tt.code))
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error: %v", err, tt.wantErr)
			}
			var syntax *SyntaxError
			if err != nil && !errors.As(err, &syntax) {
				t.Errorf("got %T, want *SyntaxError", err)
			}
		})
	}
}

func TestCompileRejectsSizeAndRuntime(t *testing.T) {
	code := "function handler(e) { return e.request; }\n//" + strings.Repeat("x", MaxCodeSize)
	if _, err := Compile(Runtime2, []byte(code)); !errors.Is(err, ErrCodeTooLarge) {
		t.Errorf("code of %d bytes: got %v, want ErrCodeTooLarge", len(code), err)
	}
	if _, err := Compile("cloudfront-js-3.0", []byte(addIndexHTML)); !errors.Is(err, ErrUnknownRuntime) {
		t.Errorf("unknown runtime: got %v, want ErrUnknownRuntime", err)
	}
}

func TestRunStrictModeThrows(t *testing.T) {
	p := mustCompile(t, Runtime1, `function handler(e) { undeclared = 1; return e.request; }`)
	_, err := p.Run(context.Background(), viewerRequest("/"))
	var re *RuntimeError
	if !errors.As(err, &re) || !strings.Contains(re.Message, "ReferenceError") {
		t.Errorf("got %v, want a ReferenceError", err)
	}
}

func TestRunFailures(t *testing.T) {
	tests := []struct {
		name      string
		code      string
		wantLimit string // "" for a *RuntimeError
		wantIn    string
	}{
		{"infinite loop", `function handler(e) { while (true) {} }`, "time", "compute time"},
		{"infinite loop swallowing exceptions", `function handler(e) { for (;;) { try { throw 1; } catch (x) {} } }`, "time", "compute time"},
		{"one huge string", `function handler(e) { return 'x'.repeat(1e9); }`, "memory", "memory"},
		{"huge padStart", `function handler(e) { return ''.padStart(1e9); }`, "memory", "memory"},
		{"huge array", `function handler(e) { return new Array(1e9).fill(0); }`, "memory", "memory"},
		{"huge typed array", `function handler(e) { return new Uint8Array(1e10); }`, "memory", "memory"},
		{"huge join", `function handler(e) { var a = []; a.length = 1e8; return a.join('xxxxxxxx'); }`, "memory", "memory"},
		{"growing without bound", `function handler(e) { var a = []; for (;;) a.push({n: 'some text ' + a.length}); }`, "", ""},
		{"catching the memory error does not help", `function handler(e) { try { 'x'.repeat(1e9); } catch (x) {} return e.request; }`, "memory", "memory"},
		{"catastrophic regular expression", `function handler(e) { /^(a+)+(?=b)b$/.test('a'.repeat(40)); return e.request; }`, "time", "compute time"},
		{"thrown error", `function handler(e) { throw new Error('boom'); }`, "", "Error: boom"},
		{"returns nothing", `function handler(e) {}`, "", "invalid value"},
		{"returns garbage", `function handler(e) { return 42; }`, "", "invalid value"},
		{"uri without slash", `function handler(e) { e.request.uri = 'x'; return e.request; }`, "", "does not begin with /"},
		{"header without value", `function handler(e) { e.request.headers['x-a'] = 'b'; return e.request; }`, "", "headers.x-a"},
		{"bad status", `function handler(e) { return {statusCode: 'teapot'}; }`, "", "statusCode"},
		{"bad base64 body", `function handler(e) { return {statusCode: 200, body: {data: '!!', encoding: 'base64'}}; }`, "", "base64"},
		{"rejected promise", `async function handler(e) { throw new TypeError('nope'); }`, "", "nope"},
		{"endless recursion", `function f() { return f(); } function handler(e) { return f(); }`, "", "call stack"},
		{"eval", `function handler(e) { return eval('e.request'); }`, "", "EvalError"},
		{"Function constructor", `function handler(e) { return new Function('return 1')(); }`, "", "EvalError"},
		{"Function constructor by the back door", `function handler(e) { return (() => 1).constructor('return 1')(); }`, "", "EvalError"},
		{"timers", `function handler(e) { setTimeout(function () {}, 1); return e.request; }`, "", "setTimeout is not defined"},
		{"no file system", `function handler(e) { require('fs'); return e.request; }`, "", "Cannot find module 'fs'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, Runtime2, tt.code)
			res, err := p.Run(context.Background(), viewerRequest("/"))
			var limit *LimitError
			var re *RuntimeError
			switch {
			case tt.name == "growing without bound":
				// Out of time or of memory, whichever comes first.
				if !errors.As(err, &limit) {
					t.Fatalf("got %v, want a *LimitError", err)
				}
				return
			case tt.wantLimit != "":
				if !errors.As(err, &limit) || limit.Limit != tt.wantLimit {
					t.Fatalf("got %#v, want a *LimitError on %s", err, tt.wantLimit)
				}
				if limit.ResultType() != "FunctionThrottledError" {
					t.Errorf("got result type %q, want FunctionThrottledError", limit.ResultType())
				}
				if res.ComputeUtilization != 100 {
					t.Errorf("got ComputeUtilization %d, want 100", res.ComputeUtilization)
				}
			default:
				if !errors.As(err, &re) {
					t.Fatalf("got %#v, want a *RuntimeError", err)
				}
				if re.ResultType() != "FunctionExecutionError" {
					t.Errorf("got result type %q, want FunctionExecutionError", re.ResultType())
				}
			}
			if !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("got message %q, want it to contain %q", err.Error(), tt.wantIn)
			}
			// A failed run leaves the program usable.
			ok := mustCompile(t, Runtime2, addIndexHTML)
			if _, err := ok.Run(context.Background(), viewerRequest("/")); err != nil {
				t.Errorf("a run after the failure: %v", err)
			}
		})
	}
}

func TestRunAfterLimitReusesProgram(t *testing.T) {
	p := mustCompile(t, Runtime2, `function handler(e) { if (e.request.uri === '/loop') { for (;;) {} } return e.request; }`)
	if _, err := p.Run(context.Background(), viewerRequest("/loop")); err == nil {
		t.Fatal("the looping run succeeded")
	}
	res, err := p.Run(context.Background(), viewerRequest("/ok"))
	if err != nil || res.Request.URI != "/ok" {
		t.Fatalf("got %+v, %v; want the request back", res, err)
	}
}

func TestRunStopsWhenContextIsDone(t *testing.T) {
	p := mustCompile(t, Runtime2, `function handler(e) { for (;;) {} }`)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Run(ctx, viewerRequest("/")); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestRunLogsAndFrozenClock(t *testing.T) {
	p := mustCompile(t, Runtime1, `function handler(e) {
    var a = Date.now();
    for (var i = 0; i < 1000; i++) {}
    console.log('same time:', Date.now() === a, {uri: e.request.uri});
    console.log(e.context.eventType, e.context.distributionId, e.viewer.ip);
    return e.request;
}`)
	res, err := p.Run(context.Background(), viewerRequest("/x"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`same time: true {"uri":"/x"}`, "viewer-request EDFDVBD6EXAMPLE 198.51.100.11"}
	if diff := cmp.Diff(want, res.Logs); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}
}

func TestRuntimeDifferences(t *testing.T) {
	// crypto's digest() without an encoding: a byte string in 1.0, a
	// Buffer in 2.0. Buffer only exists in 2.0.
	code := `function handler(e) {
    var d = require('crypto').createHash('sha1').update('abc').digest();
    console.log(typeof d, d.length, typeof Buffer);
    return e.request;
}`
	for runtime, want := range map[string]string{Runtime1: "string 20 undefined", Runtime2: "object 20 function"} {
		res, err := mustCompile(t, runtime, code).Run(context.Background(), viewerRequest("/"))
		if err != nil {
			t.Fatalf("%s: %v", runtime, err)
		}
		if diff := cmp.Diff([]string{want}, res.Logs); diff != "" {
			t.Errorf("%s logs (-want +got):\n%s", runtime, diff)
		}
	}
}

// The memory guards wrap Array and the typed arrays: the language around
// them must behave as before.
func TestGuardedBuiltinsStillBehave(t *testing.T) {
	p := mustCompile(t, Runtime2, `function handler(e) {
    console.log([] instanceof Array, Array.isArray(Array(3)), Array(3).length, [1, 2].map((x) => x * 2) instanceof Array);
    console.log(new Uint8Array(2) instanceof Uint8Array, Uint8Array.from([1, 2]).length, Array.from({length: 2}).length);
    console.log(Buffer.from('héllo').toString('hex'), Buffer.from('68c3a96c6c6f', 'hex').toString(), Buffer.from('aGk', 'base64url').toString());
    console.log(Buffer.from('a') instanceof Uint8Array, Buffer.isBuffer(Buffer.alloc(2)), Buffer.concat([Buffer.from('a'), Buffer.from('b')]).toString());
    console.log('ab'.repeat(2), 'a'.padStart(3, '-'), [1, 2].join('+'), [0, 0].fill(7).join());
    return e.request;
}`)
	res, err := p.Run(context.Background(), viewerRequest("/"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"true true 3 true",
		"true 2 2",
		"68c3a96c6c6f héllo hi",
		"true true ab",
		"abab --a 1+2 7,7",
	}
	if diff := cmp.Diff(want, res.Logs); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}
}

func TestRunConcurrently(t *testing.T) {
	p := mustCompile(t, Runtime2, addIndexHTML)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				uri := "/d" + strconv.Itoa(i*100+j) + "/"
				res, err := p.Run(context.Background(), viewerRequest(uri))
				if err != nil || res.Request.URI != uri+"index.html" {
					t.Errorf("got %+v, %v; want %sindex.html", res, err, uri)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestTestFunctionOutput checks Test against the TestFunction example of
// CloudFront's documentation: a redirect generated by a viewer-request
// function, tested with the documented minimal event object.
func TestTestFunctionOutput(t *testing.T) {
	code := `function handler(event) {
    return {
        statusCode: 302,
        statusDescription: 'Found',
        headers: {
            'cloudfront-functions': { value: 'generated-by-CloudFront-Functions' },
            'location': { value: 'https://aws.amazon.com/cloudfront/' }
        }
    };
}`
	event := `{
    "version": "1.0",
    "context": {"eventType": "viewer-request"},
    "viewer": {"ip": "198.51.100.11"},
    "request": {"method": "GET", "uri": "/example.png", "headers": {"host": {"value": "example.org"}}}
}`
	got, err := Test(context.Background(), Runtime1, []byte(code), []byte(event))
	if err != nil {
		t.Fatal(err)
	}
	const wantOutput = `{"response":{"headers":{"cloudfront-functions":{"value":"generated-by-CloudFront-Functions"},"location":{"value":"https://aws.amazon.com/cloudfront/"}},"statusDescription":"Found","cookies":{},"statusCode":302}}`
	var gotJSON, wantJSON any
	if err := json.Unmarshal([]byte(got.FunctionOutput), &gotJSON); err != nil {
		t.Fatalf("FunctionOutput %q: %v", got.FunctionOutput, err)
	}
	json.Unmarshal([]byte(wantOutput), &wantJSON)
	if diff := cmp.Diff(wantJSON, gotJSON); diff != "" {
		t.Errorf("FunctionOutput (-want +got):\n%s", diff)
	}
	if got.FunctionErrorMessage != "" || got.FunctionExecutionLogs == nil || len(got.FunctionExecutionLogs) != 0 {
		t.Errorf("got error message %q and logs %#v, want none and []", got.FunctionErrorMessage, got.FunctionExecutionLogs)
	}
	if u, err := strconv.Atoi(got.ComputeUtilization); err != nil || u < 1 || u > 100 {
		t.Errorf("got ComputeUtilization %q, want a number from 1 to 100", got.ComputeUtilization)
	}
}

func TestTestFunctionRequestOutputAndErrors(t *testing.T) {
	event := `{"version":"1.0","context":{"eventType":"viewer-request"},"viewer":{"ip":"1.2.3.4"},"request":{"method":"GET","uri":"/docs/","querystring":{"a":{"value":"1"}}}}`
	got, err := Test(context.Background(), Runtime1, []byte(`function handler(e) { console.log('rewriting ' + e.request.uri); return e.request; }`), []byte(event))
	if err != nil {
		t.Fatal(err)
	}
	wantOutput := `{"request":{"method":"GET","uri":"/docs/","querystring":{"a":{"value":"1"}},"headers":{},"cookies":{}}}`
	if got.FunctionOutput != wantOutput {
		t.Errorf("got FunctionOutput %s, want %s", got.FunctionOutput, wantOutput)
	}
	if diff := cmp.Diff([]string{"rewriting /docs/"}, got.FunctionExecutionLogs); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}

	got, err = Test(context.Background(), Runtime2, []byte(`function handler(e) { console.log('before'); throw new Error('boom'); }`), []byte(event))
	if err != nil {
		t.Fatal(err)
	}
	if got.FunctionOutput != "" || !strings.HasPrefix(got.FunctionErrorMessage, "Error: boom") || len(got.FunctionExecutionLogs) != 1 {
		t.Errorf("got %+v, want no output, the error and the log line", got)
	}

	badEvents := []string{`{`, `{"context":{"eventType":"origin-request"},"request":{"uri":"/"}}`, `{"context":{"eventType":"viewer-request"}}`, `{"context":{"eventType":"viewer-response"},"request":{"uri":"/"}}`}
	for _, ev := range badEvents {
		var eventErr *EventError
		if _, err := Test(context.Background(), Runtime2, []byte(addIndexHTML), []byte(ev)); !errors.As(err, &eventErr) {
			t.Errorf("event %s: got %v, want an *EventError", ev, err)
		}
	}
	var syntax *SyntaxError
	if _, err := Test(context.Background(), Runtime1, []byte(`let x`), []byte(event)); !errors.As(err, &syntax) {
		t.Errorf("got %v, want a *SyntaxError", err)
	}
}

func TestEventJSONShape(t *testing.T) {
	ev := viewerResponse()
	ev.Response.Cookies["id"] = Value{Value: "1", Attributes: "Secure"}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"version":"1.0"`, `"eventType":"viewer-response"`, `"distributionId":"EDFDVBD6EXAMPLE"`, `"viewer":{"ip":"198.51.100.11"}`, `"querystring":{"id":{"value":"42"}}`, `"multiValue":[{"value":"text/html"}`, `"statusCode":200`, `"cookies":{"id":{"value":"1","attributes":"Secure"}}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("event JSON %s lacks %s", b, want)
		}
	}
}

// The complete event object of CloudFront's documentation parses, and a
// function sees its multi-valued cookies with their attributes.
func TestTestFunctionDocumentedEvent(t *testing.T) {
	event := `{
  "version": "1.0",
  "context": {"distributionDomainName": "d111111abcdef8.cloudfront.net", "distributionId": "EDFDVBD6EXAMPLE", "eventType": "viewer-response", "requestId": "EXAMPLE=="},
  "viewer": {"ip": "198.51.100.11"},
  "request": {
    "method": "GET", "uri": "/media/index.mpd",
    "querystring": {"ID": {"value": "42"}, "querymv": {"value": "val1", "multiValue": [{"value": "val1"}, {"value": "val2,val3"}]}},
    "headers": {"host": {"value": "video.example.com"}},
    "cookies": {"Cookie1": {"value": "value1"}}
  },
  "response": {
    "statusCode": 200, "statusDescription": "OK",
    "headers": {"content-type": {"value": "application/json"}},
    "cookies": {
      "ID": {"value": "id1234", "attributes": "Expires=Wed, 05 Apr 2021 07:28:00 GMT"},
      "Cookie1": {"value": "val1", "attributes": "Secure; Path=/", "multiValue": [
        {"value": "val1", "attributes": "Secure; Path=/"},
        {"value": "val2", "attributes": "Path=/cat"}
      ]}
    }
  }
}`
	code := `function handler(event) {
    var c = event.response.cookies.Cookie1;
    console.log(event.request.querystring.querymv.multiValue[1].value, c.multiValue[1].attributes);
    c.value = 'changed';
    return event.response;
}`
	got, err := Test(context.Background(), Runtime1, []byte(code), []byte(event))
	if err != nil || got.FunctionErrorMessage != "" {
		t.Fatalf("got %+v, %v", got, err)
	}
	if diff := cmp.Diff([]string{"val2,val3 Path=/cat"}, got.FunctionExecutionLogs); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}
	var out struct{ Response Response }
	if err := json.Unmarshal([]byte(got.FunctionOutput), &out); err != nil {
		t.Fatal(err)
	}
	wantCookie := Value{Value: "changed", Attributes: "Secure; Path=/", MultiValue: []Value{
		{Value: "changed", Attributes: "Secure; Path=/"},
		{Value: "val2", Attributes: "Path=/cat"},
	}}
	if diff := cmp.Diff(wantCookie, out.Response.Cookies["Cookie1"]); diff != "" {
		t.Errorf("a changed value replaces the first of the multiValue only (-want +got):\n%s", diff)
	}
}
