package functions

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNewRequestFromHTTP(t *testing.T) {
	header := http.Header{
		"Host":   {"www.example.com"},
		"Accept": {"application/json", "text/html"},
		"Cookie": {"a=1; b=two", "a=3"},
	}
	got := NewRequest("GET", "/media/index.mpd", "ID=42&mv=val1&mv=val2%2Cval3&NoValue=", header)
	want := &Request{
		Method: "GET",
		URI:    "/media/index.mpd",
		QueryString: map[string]Value{
			"ID":      {Value: "42"},
			"mv":      {Value: "val1", MultiValue: []Value{{Value: "val1"}, {Value: "val2%2Cval3"}}},
			"NoValue": {Value: ""},
		},
		Headers: map[string]Value{
			"host":   {Value: "www.example.com"},
			"accept": {Value: "application/json", MultiValue: []Value{{Value: "application/json"}, {Value: "text/html"}}},
		},
		Cookies: map[string]Value{
			"a": {Value: "1", MultiValue: []Value{{Value: "1"}, {Value: "3"}}},
			"b": {Value: "two"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}

	back := got.Header()
	for _, name := range []string{"Host", "Accept"} {
		if !slices.Equal(back[name], header[name]) {
			t.Errorf("header %s: got %q, want %q", name, back[name], header[name])
		}
	}
	if q := NewRequest("GET", "/", got.RawQuery(), nil).QueryString; !cmp.Equal(q, want.QueryString) {
		t.Errorf("RawQuery %q does not parse back to the query string", got.RawQuery())
	}
	if c := NewRequest("GET", "/", "", back).Cookies; !cmp.Equal(c, want.Cookies, cmp.Comparer(sameOccurrences)) {
		t.Errorf("Cookie %q does not parse back to the cookies", back["Cookie"])
	}
}

// sameOccurrences compares values regardless of the order of occurrences a
// map iteration gave.
func sameOccurrences(a, b Value) bool {
	key := func(v Value) []string {
		var k []string
		for _, o := range occurrences(v) {
			k = append(k, o.Value)
		}
		slices.Sort(k)
		return k
	}
	return slices.Equal(key(a), key(b))
}

func TestResponseHTTPRoundTrip(t *testing.T) {
	header := http.Header{
		"Content-Type": {"text/html"},
		"Set-Cookie":   {"ID=id1234; Expires=Wed, 05 Apr 2021 07:28:00 GMT", "plain=1"},
	}
	got := NewResponse(200, header)
	want := &Response{
		StatusCode:        200,
		StatusDescription: "OK",
		Headers:           map[string]Value{"content-type": {Value: "text/html"}},
		Cookies: map[string]Value{
			"ID":    {Value: "id1234", Attributes: "Expires=Wed, 05 Apr 2021 07:28:00 GMT"},
			"plain": {Value: "1"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	back := got.Header()
	slices.Sort(back["Set-Cookie"])
	if diff := cmp.Diff(header, back); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
}

func TestBodyBytes(t *testing.T) {
	for _, b := range []Body{{Data: "aGk=", Encoding: "base64"}, {Data: "hi", Encoding: "text"}} {
		got, err := b.Bytes()
		if err != nil || string(got) != "hi" {
			t.Errorf("%+v: got %q, %v; want hi", b, got, err)
		}
	}
}

// The edge's path for a viewer-request function: the viewer's request as
// an event, the function run, the result back as what goes to the origin.
func TestRunOnHTTPRequest(t *testing.T) {
	p := mustCompile(t, Runtime2, `function handler(event) {
    const request = event.request;
    request.uri = request.uri.endsWith('/') ? request.uri + 'index.html' : request.uri;
    request.headers['x-viewer-country'] = { value: request.headers['cloudfront-viewer-country'].value };
    request.cookies['seen'] = { value: '1' };
    return request;
}`)
	header := http.Header{"Cloudfront-Viewer-Country": {"FR"}, "Cookie": {"session=abc"}}
	ev := &Event{
		Version: "1.0",
		Context: Context{EventType: EventViewerRequest},
		Request: NewRequest("GET", "/blog/", "page=2", header),
	}
	res, err := p.Run(t.Context(), ev)
	if err != nil {
		t.Fatal(err)
	}
	got := res.Request.Header()
	got["Cookie"] = []string{strings.Join(slices.Sorted(slices.Values(strings.Split(got["Cookie"][0], "; "))), "; ")}
	want := http.Header{
		"Cloudfront-Viewer-Country": {"FR"},
		"X-Viewer-Country":          {"FR"},
		"Cookie":                    {"seen=1; session=abc"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if res.Request.URI != "/blog/index.html" || res.Request.RawQuery() != "page=2" {
		t.Errorf("got %s?%s, want /blog/index.html?page=2", res.Request.URI, res.Request.RawQuery())
	}
}
