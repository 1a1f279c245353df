package awsproto

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The shapes of a made-up service with one constraint of each kind, to
// check the same request in every protocol.
var (
	cName   = &Constraint{Min: new(3.0), Max: new(8.0), Pattern: `[a-z]+`}
	cCount  = &Constraint{Min: new(1.0), Max: new(10.0)}
	cRatio  = &Constraint{Min: new(0.0), Max: new(1.0)}
	cMode   = &Constraint{Enum: []string{"ON", "OFF"}}
	cTags   = &Constraint{Max: new(2.0)}
	cTag    = &Constraint{Min: new(1.0), Max: new(4.0)}
	cData   = &Constraint{Max: new(3.0)}
	cSecret = &Constraint{Min: new(2.0), Sensitive: true}
)

type checkInput struct {
	_      struct{}   `aws:"structure"`
	Name   *string    `aws:"Name,req"`
	Count  *int32     `aws:"Count"`
	Ratio  *float64   `aws:"Ratio"`
	Mode   *string    `aws:"Mode"`
	Tags   checkTags  `aws:"Tags"`
	Data   []byte     `aws:"Data"`
	Secret *string    `aws:"Secret"`
	Items  checkItems `aws:"Items"`
}

func (checkInput) AWSConstraints() map[string]*Constraint {
	return map[string]*Constraint{"Name": cName, "Count": cCount, "Ratio": cRatio, "Mode": cMode,
		"Tags": cTags, "Data": cData, "Secret": cSecret}
}

type checkTags []string

func (checkTags) AWSCollection() Collection { return Collection{Member: ElemTraits{Constraint: cTag}} }

type checkItem struct {
	_   struct{} `aws:"structure"`
	Key *string  `aws:"Key,req"`
}

type checkItems []checkItem

func checkService(protocol string) *Service {
	return &Service{ID: "check", ServiceID: "Check", APIVersion: "2020-01-01", Protocols: []string{protocol},
		JSONVersion: "1.1", TargetPrefix: "Check_20200101", XMLNamespace: "https://check.example.com/doc/2020-01-01/",
		Operations: []Operation{{Name: "Check", HTTPMethod: "POST", RequestURI: "/check",
			NewInput: func() any { return new(checkInput) },
			Call:     func(context.Context, any, any) (any, error) { return nil, nil }}}}
}

// encode writes a request of the Check operation in protocol, from
// members given as Go values: strings, ints, floats, []byte, []string and
// []map[string]string (a list of structures).
func encode(protocol string, members map[string]any) (body, contentType string) {
	switch protocol {
	case "json", "rest-json":
		b, _ := json.Marshal(members)
		return string(b), "application/x-amz-json-1.1"
	case "rest-xml":
		var b strings.Builder
		b.WriteString("<CheckRequest>")
		for _, name := range sortedNames(members) {
			fmt.Fprintf(&b, "<%s>", name)
			switch v := members[name].(type) {
			case []string:
				for _, s := range v {
					fmt.Fprintf(&b, "<member>%s</member>", s)
				}
			case []map[string]string:
				for _, m := range v {
					b.WriteString("<member>")
					for k, s := range m {
						fmt.Fprintf(&b, "<%s>%s</%s>", k, s, k)
					}
					b.WriteString("</member>")
				}
			case []byte:
				b.WriteString(base64.StdEncoding.EncodeToString(v))
			default:
				fmt.Fprint(&b, v)
			}
			fmt.Fprintf(&b, "</%s>", name)
		}
		b.WriteString("</CheckRequest>")
		return b.String(), "application/xml"
	}
	form := url.Values{"Action": {"Check"}, "Version": {"2020-01-01"}}
	list := ".member."
	if protocol == "ec2" {
		list = "."
	}
	for name, v := range members {
		switch v := v.(type) {
		case []string:
			for i, s := range v {
				form.Set(fmt.Sprint(name, list, i+1), s)
			}
		case []map[string]string:
			for i, m := range v {
				form.Set(fmt.Sprint(name, list, i+1), "")
				for k, s := range m {
					form.Set(fmt.Sprint(name, list, i+1, ".", k), s)
				}
			}
		case []byte:
			form.Set(name, base64.StdEncoding.EncodeToString(v))
		default:
			form.Set(name, fmt.Sprint(v))
		}
	}
	return form.Encode(), "application/x-www-form-urlencoded"
}

func sortedNames(m map[string]any) []string {
	var names []string
	for n := range m {
		names = append(names, n)
	}
	for i := range names {
		for j := i + 1; j < len(names); j++ {
			if names[j] < names[i] {
				names[i], names[j] = names[j], names[i]
			}
		}
	}
	return names
}

// TestValidationInEveryProtocol sends the same requests in each protocol:
// the problems found, their order and their wording do not depend on it;
// the code does, through the service's policy (here the protocol family's
// default, and EC2's for ec2, which leaves values to the service).
func TestValidationInEveryProtocol(t *testing.T) {
	codes := map[string]string{"json": "ValidationException", "rest-json": "ValidationException",
		"query": "ValidationError", "rest-xml": "InvalidArgument"}
	tests := []struct {
		name    string
		members map[string]any
		want    string // "" when valid
	}{
		{"valid", map[string]any{"Name": "abc", "Count": 10, "Ratio": 0.5, "Mode": "ON", "Tags": []string{"a", "ééé"},
			"Data": []byte("abc"), "Secret": "xy", "Items": []map[string]string{{"Key": "k"}}}, ""},
		{"missing", map[string]any{"Count": 1},
			"1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"},
		{"pattern before length", map[string]any{"Name": "AB"},
			"2 validation errors detected: Value 'AB' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z]+; " +
				"Value 'AB' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 3"},
		{"numbers and enums", map[string]any{"Name": "abc", "Count": 0, "Ratio": 1.5, "Mode": "MAYBE"},
			"3 validation errors detected: Value '0' at 'count' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
				"Value '1.5' at 'ratio' failed to satisfy constraint: Member must have value less than or equal to 1.0; " +
				"Value 'MAYBE' at 'mode' failed to satisfy constraint: Member must satisfy enum value set: [ON, OFF]"},
		{"a list's length, then its elements", map[string]any{"Name": "abc", "Tags": []string{"a", "b", "toolong"}},
			"2 validation errors detected: Value '[a, b, toolong]' at 'tags' failed to satisfy constraint: Member must have length less than or equal to 2; " +
				"Value '[a, b, toolong]' at 'tags' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 4, Member must have length greater than or equal to 1]"},
		{"UTF-16 code units", map[string]any{"Name": "abc", "Tags": []string{"😀😀😀"}},
			"1 validation error detected: Value '[😀😀😀]' at 'tags' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 4, Member must have length greater than or equal to 1]"},
		{"blobs and secrets", map[string]any{"Name": "abc", "Data": []byte("abcd"), "Secret": "x"},
			"2 validation errors detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=4 cap=4]' at 'data' failed to satisfy constraint: Member must have length less than or equal to 3; " +
				"Value at 'secret' failed to satisfy constraint: Member must have length greater than or equal to 2"},
		{"structures in a list", map[string]any{"Name": "abc", "Items": []map[string]string{{"Key": "k"}, {}}},
			"1 validation error detected: Value null at 'items.2.member.key' failed to satisfy constraint: Member must not be null"},
	}
	for _, protocol := range []string{"json", "rest-json", "query", "ec2", "rest-xml"} {
		h := NewHandler(NewBinding(checkService(protocol), struct{}{}, true), nil)
		for _, tt := range tests {
			t.Run(protocol+"/"+tt.name, func(t *testing.T) {
				want, code := tt.want, codes[protocol]
				if protocol == "ec2" && want != "" {
					want, code = "", ""
					switch tt.name {
					case "missing":
						want, code = "The request must contain the parameter Name", "MissingParameter"
					case "structures in a list":
						want, code = "The request must contain the parameter Key", "MissingParameter"
					}
				}
				body, ct := encode(protocol, tt.members)
				path := "/"
				if strings.HasPrefix(protocol, "rest") {
					path = "/check"
				}
				r := httptest.NewRequest("POST", path, strings.NewReader(body))
				r.Header.Set("Content-Type", ct)
				if protocol == "json" {
					r.Header.Set("X-Amz-Target", "Check_20200101.Check")
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				if want == "" {
					if rec.Code != 200 {
						t.Fatalf("got %d %s, want 200", rec.Code, rec.Body)
					}
					return
				}
				if rec.Code != 400 {
					t.Fatalf("got %d %s, want 400", rec.Code, rec.Body)
				}
				gotCode, gotMessage := wireError(rec.Body.String())
				if gotCode != code {
					t.Errorf("code: got %s, want %s", gotCode, code)
				}
				if diff := cmp.Diff(want, gotMessage); diff != "" {
					t.Errorf("message (-want +got):\n%s", diff)
				}
			})
		}
	}
}

var (
	jsonError = regexp.MustCompile(`"__type":"([^"]*)".*"message":"((?:[^"\\]|\\.)*)"`)
	xmlError  = regexp.MustCompile(`<Code>([^<]*)</Code><Message>([^<]*)</Message>`)
)

// wireError picks the code and message out of a JSON or XML error body.
func wireError(body string) (code, message string) {
	if m := jsonError.FindStringSubmatch(body); m != nil {
		var s string
		json.Unmarshal([]byte(`"`+m[2]+`"`), &s)
		return m[1], s
	}
	if m := xmlError.FindStringSubmatch(body); m != nil {
		r := strings.NewReplacer("&#39;", "'", "&#34;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">")
		return m[1], r.Replace(m[2])
	}
	// rest-json names the type in a header only; the body has the message.
	var e struct{ Message string }
	json.Unmarshal([]byte(body), &e)
	return "ValidationException", e.Message
}

func TestGoPattern(t *testing.T) {
	tests := []struct {
		java    string
		match   []string
		noMatch []string
	}{
		{`[\w+=,.@-]+`, []string{"alice+ops=1,x.y@z-w_v"}, []string{"", "a b", "élise"}},
		{`(\u002F)|(\u002F[\u0021-\u007E]+\u002F)`, []string{"/", "/a!~b/"}, []string{"a/", "/a", "/a b/"}},
		{`[\p{L}\p{Z}\p{N}_.:/=+\-@]+`, []string{"team:cost center/é"}, []string{"a*b"}},
		{`[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*`, []string{"a😀\t"}, []string{"\x01"}},
		{`\p{Print}+`, []string{"a b~"}, []string{"a\x01"}},
		{`[^\p{C}\p{IsWhitespace}]+`, []string{"abc"}, []string{"a b", "a\u00a0b"}},
		{`a\s+b`, []string{"a\vb", "a \tb"}, []string{"ab"}},
		{`a++b`, []string{"ab", "aab"}, []string{"b"}},
		{`.{1,100000}`, []string{"x"}, []string{""}},
		{`^[\w\d\s_.,\-:\[\]]+$`, []string{"a [b]"}, []string{"a*"}},
		{`[]a]+`, []string{"]a"}, []string{"b"}},
	}
	for _, tt := range tests {
		expr, err := GoPattern(tt.java)
		if err != nil {
			t.Errorf("GoPattern(%q): %v", tt.java, err)
			continue
		}
		re := regexp.MustCompile(expr)
		for _, s := range tt.match {
			if !re.MatchString(s) {
				t.Errorf("%q (as %q): %q does not match, want a match", tt.java, expr, s)
			}
		}
		for _, s := range tt.noMatch {
			if re.MatchString(s) {
				t.Errorf("%q (as %q): %q matches, want no match", tt.java, expr, s)
			}
		}
	}
	for _, java := range []string{
		`^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$`, // lookahead
		`[0-9A-Za-z\.\-_]*(?<!\.)`,                  // lookbehind
		`(a)\1`,                                     // backreference
		`[a-z&&[^x]]`,                               // intersection
		`[a[bc]]`,                                   // union
	} {
		if expr, err := GoPattern(java); err == nil {
			t.Errorf("GoPattern(%q) = %q, want an error", java, expr)
		}
	}
}

func TestJavaFormats(t *testing.T) {
	doubles := map[float64]string{1: "1.0", 0: "0.0", 0.5: "0.5", -2.25: "-2.25", 1e7: "1.0E7", 1.5e-4: "1.5E-4"}
	for f, want := range doubles {
		if got := javaDouble(f); got != want {
			t.Errorf("javaDouble(%v) = %q, want %q", f, got, want)
		}
	}
	lengths := map[string]int{"": 0, "abc": 3, "ééé": 3, "😀": 2, "a😀b": 4}
	for s, want := range lengths {
		if got := javaLength(s); got != want {
			t.Errorf("javaLength(%q) = %d, want %d", s, got, want)
		}
	}
}

// TestClassMatcher checks the fast path against the regexp it stands in
// for, on every ASCII character and a few strings.
func TestClassMatcher(t *testing.T) {
	for _, java := range []string{`[\w+=,.@-]+`, `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`, `^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$`,
		`[^:*]*`, `[\.\-_/#A-Za-z0-9]+`, `[\u0009\u000A\u000D\u0020-\u00FF]+`, `(?i)[a-f]+`, `[0-9]{2}`, `[a-z]{1,3}`} {
		expr, err := GoPattern(java)
		if err != nil {
			t.Fatal(err)
		}
		m := newClassMatcher(expr)
		if m == nil {
			t.Errorf("%q: no fast path, want one", java)
			continue
		}
		re := regexp.MustCompile(expr)
		inputs := []string{"", "abc", "abcd", "12", "123", "a b", "A-F", "é", "aé"}
		for c := range 128 {
			inputs = append(inputs, string(rune(c)), "a"+string(rune(c)))
		}
		for _, s := range inputs {
			if ok, decided := m.match(s); decided && ok != re.MatchString(s) {
				t.Errorf("%q on %q: fast path says %v, regexp %v", java, s, ok, !ok)
			}
		}
	}
	for _, java := range []string{`v[1-9][0-9]*`, `[a-z]+-[0-9]+`, `([a-z]{2})+`} {
		if expr, _ := GoPattern(java); newClassMatcher(expr) != nil {
			t.Errorf("%q: a fast path, want none", java)
		}
	}
}
