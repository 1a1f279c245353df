package functions

import (
	"encoding/base64"
	"net/http"
	"strings"
)

// The conversions between net/http and the event's request and response,
// with CloudFront's rules: header names lowercase in the event and
// canonical (Example-Header-Name) on the wire; Cookie and Set-Cookie not
// among the headers but in cookies; a name that occurs more than once as
// Value plus MultiValue. Query string parameters and cookie values are kept
// as they were sent, percent-encoding included.

// NewRequest is the request object CloudFront builds from a viewer's
// request: its method, path (uri), raw query and headers.
func NewRequest(method, uri, rawQuery string, header http.Header) *Request {
	r := &Request{
		Method:      method,
		URI:         uri,
		QueryString: map[string]Value{},
		Headers:     make(map[string]Value, len(header)),
		Cookies:     map[string]Value{},
	}
	for _, pair := range strings.Split(rawQuery, "&") {
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		add(r.QueryString, name, Value{Value: value})
	}
	for name, values := range header {
		if http.CanonicalHeaderKey(name) == "Cookie" {
			for _, line := range values {
				addCookies(r.Cookies, line)
			}
			continue
		}
		for _, v := range values {
			add(r.Headers, strings.ToLower(name), Value{Value: v})
		}
	}
	return r
}

func addCookies(cookies map[string]Value, line string) {
	for _, c := range strings.Split(line, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(c), "=")
		if name != "" {
			add(cookies, name, Value{Value: value})
		}
	}
}

// add adds one occurrence of name: the second one turns Value into Value
// plus MultiValue, the first occurrence repeated in MultiValue.
func add(values map[string]Value, name string, v Value) {
	cur, ok := values[name]
	switch {
	case !ok:
		values[name] = v
		return
	case len(cur.MultiValue) == 0:
		cur.MultiValue = []Value{{Value: cur.Value, Attributes: cur.Attributes}}
	}
	cur.MultiValue = append(cur.MultiValue, v)
	values[name] = cur
}

// occurrences is every occurrence of a Value: MultiValue when there is one,
// else Value itself.
func occurrences(v Value) []Value {
	if len(v.MultiValue) > 0 {
		return v.MultiValue
	}
	return []Value{v}
}

// RawQuery is the query string of r, for the request to the origin and the
// cache key.
func (r *Request) RawQuery() string {
	var b strings.Builder
	for name, v := range r.QueryString {
		for _, o := range occurrences(v) {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(name)
			b.WriteByte('=')
			b.WriteString(o.Value)
		}
	}
	return b.String()
}

// Header is r's headers and cookies as an http.Header: canonical names, and
// the cookies in one Cookie header.
func (r *Request) Header() http.Header {
	h := headerOf(r.Headers, len(r.Headers)+1)
	var cookies []string
	for name, v := range r.Cookies {
		for _, o := range occurrences(v) {
			cookies = append(cookies, name+"="+o.Value)
		}
	}
	if len(cookies) > 0 {
		h["Cookie"] = []string{strings.Join(cookies, "; ")}
	}
	return h
}

func headerOf(values map[string]Value, size int) http.Header {
	h := make(http.Header, size)
	for name, v := range values {
		key := http.CanonicalHeaderKey(name)
		for _, o := range occurrences(v) {
			h[key] = append(h[key], o.Value)
		}
	}
	return h
}

// NewResponse is the response object CloudFront gives a viewer-response
// function: the status and headers from the cache or origin, the
// Set-Cookie headers as cookies with their attributes.
func NewResponse(statusCode int, header http.Header) *Response {
	r := &Response{
		StatusCode:        statusCode,
		StatusDescription: http.StatusText(statusCode),
		Headers:           make(map[string]Value, len(header)),
		Cookies:           map[string]Value{},
	}
	for name, values := range header {
		if http.CanonicalHeaderKey(name) == "Set-Cookie" {
			for _, line := range values {
				pair, attributes, _ := strings.Cut(line, ";")
				name, value, _ := strings.Cut(strings.TrimSpace(pair), "=")
				add(r.Cookies, name, Value{Value: value, Attributes: strings.TrimSpace(attributes)})
			}
			continue
		}
		for _, v := range values {
			add(r.Headers, strings.ToLower(name), Value{Value: v})
		}
	}
	return r
}

// Header is r's headers and cookies as an http.Header, the cookies as
// Set-Cookie headers.
func (r *Response) Header() http.Header {
	h := headerOf(r.Headers, len(r.Headers)+1)
	for name, v := range r.Cookies {
		for _, o := range occurrences(v) {
			line := name + "=" + o.Value
			if o.Attributes != "" {
				line += "; " + o.Attributes
			}
			h["Set-Cookie"] = append(h["Set-Cookie"], line)
		}
	}
	return h
}

// Bytes is the body's content, decoded when its encoding is base64.
func (b *Body) Bytes() ([]byte, error) {
	if b.Encoding == "base64" {
		return base64.StdEncoding.DecodeString(b.Data)
	}
	return []byte(b.Data), nil
}
