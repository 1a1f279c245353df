package awsproto

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type echoInput struct {
	_     struct{} `aws:"structure"`
	Name  *string  `aws:"Name,req"`
	Count *int32   `aws:"Count"`
}

type echoOutput struct {
	_    struct{} `aws:"structure"`
	Name *string  `aws:"Name"`
}

type notFound struct {
	_       struct{} `aws:"structure,error=NoSuchThing,status=404"`
	Message *string  `aws:"message"`
}

func (e *notFound) ErrorCode() string    { return "NoSuchThing" }
func (e *notFound) HTTPStatusCode() int  { return 404 }
func (e *notFound) ErrorMessage() string { return *e.Message }
func (e *notFound) Error() string        { return ErrorString(e) }

// echoService answers Echo with its input, fails Missing with a modeled
// error and Boom with a panic.
func echoService(protocol string) *Service {
	newIn := func() any { return new(echoInput) }
	return &Service{ID: "echo", ServiceID: "Echo", APIVersion: "2020-01-01", Protocols: []string{protocol},
		JSONVersion: "1.1", TargetPrefix: "Echo_20200101", XMLNamespace: "https://echo.example.com/doc/2020-01-01/",
		Operations: []Operation{
			{Name: "Echo", HTTPMethod: "POST", RequestURI: "/echo", NewInput: newIn,
				Call: func(_ context.Context, _, in any) (any, error) {
					return &echoOutput{Name: in.(*echoInput).Name}, nil
				}},
			{Name: "Missing", HTTPMethod: "POST", RequestURI: "/missing", NewInput: newIn,
				Call: func(_ context.Context, _, in any) (any, error) {
					return nil, &notFound{Message: new("no thing called " + *in.(*echoInput).Name)}
				}},
			{Name: "Boom", HTTPMethod: "POST", RequestURI: "/boom", NewInput: newIn,
				Call: func(_ context.Context, _, in any) (any, error) { panic("boom") }},
		}}
}

func TestHandlerErrors(t *testing.T) {
	// The panic case logs a stack trace; keep test output readable.
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	tests := []struct {
		name, protocol, path, target, contentType, body string
		wantStatus                                      int
		wantInBody                                      []string
	}{
		{"json ok", "json", "/", "Echo_20200101.Echo", "application/x-amz-json-1.1", `{"Name":"a"}`, 200, []string{`{"Name":"a"}`}},
		{"json malformed", "json", "/", "Echo_20200101.Echo", "application/x-amz-json-1.1", `{"Name":`, 400, []string{`"__type":"SerializationException"`}},
		{"json wrong type", "json", "/", "Echo_20200101.Echo", "application/x-amz-json-1.1", `{"Name":1}`, 400, []string{`SerializationException`}},
		{"json missing required", "json", "/", "Echo_20200101.Echo", "application/x-amz-json-1.1", `{}`, 400,
			[]string{`ValidationException`, `Value null at 'name' failed to satisfy constraint: Member must not be null`}},
		{"json unknown operation", "json", "/", "Echo_20200101.Nope", "application/x-amz-json-1.1", `{}`, 400, []string{`UnknownOperationException`}},
		{"json modeled error", "json", "/", "Echo_20200101.Missing", "application/x-amz-json-1.1", `{"Name":"x"}`, 404,
			[]string{`"__type":"NoSuchThing"`, `"message":"no thing called x"`}},
		{"json panic", "json", "/", "Echo_20200101.Boom", "application/x-amz-json-1.1", `{"Name":"x"}`, 500, []string{`InternalFailure`}},
		{"query ok", "query", "/", "", "application/x-www-form-urlencoded", `Action=Echo&Version=2020-01-01&Name=a`, 200,
			[]string{`<EchoResponse xmlns="https://echo.example.com/doc/2020-01-01/"><EchoResult><Name>a</Name></EchoResult><ResponseMetadata><RequestId>`}},
		{"query malformed", "query", "/", "", "application/x-www-form-urlencoded", `Action=Echo&Name=%zz`, 400, []string{`<Code>MalformedQueryString</Code>`}},
		{"query missing required", "query", "/", "", "application/x-www-form-urlencoded", `Action=Echo`, 400,
			[]string{`<Code>ValidationError</Code>`, `Value null at &#39;name&#39;`}},
		{"query bad integer", "query", "/", "", "application/x-www-form-urlencoded", `Action=Echo&Name=a&Count=x`, 400, []string{`<Code>ValidationError</Code>`}},
		{"query unknown action", "query", "/", "", "application/x-www-form-urlencoded", `Action=Nope`, 400, []string{`<Code>InvalidAction</Code>`}},
		{"query modeled error", "query", "/", "", "application/x-www-form-urlencoded", `Action=Missing&Name=x`, 404,
			[]string{`<Type>Sender</Type><Code>NoSuchThing</Code><Message>no thing called x</Message>`}},
		{"rest-xml malformed", "rest-xml", "/echo", "", "application/xml", `<Echo><Name>a</Nam></Echo>`, 400, []string{`<Code>MalformedXML</Code>`}},
		{"rest-xml deep", "rest-xml", "/echo", "", "application/xml", strings.Repeat("<a>", 300) + strings.Repeat("</a>", 300), 400, []string{`MalformedXML`}},
		{"rest-json unknown path", "rest-json", "/nowhere", "", "application/json", `{}`, 404, []string{`UnknownOperationException`}},
		{"rest-json ok", "rest-json", "/echo", "", "application/json", `{"Name":"a"}`, 200, []string{`{"Name":"a"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHandler(NewBinding(echoService(tt.protocol), struct{}{}, true), nil)
			req := httptest.NewRequest("POST", tt.path, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.contentType)
			if tt.target != "" {
				req.Header.Set("X-Amz-Target", tt.target)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			// REST-JSON names the error in a header only.
			got := rec.Header().Get("X-Amzn-ErrorType") + " " + rec.Body.String()
			for _, want := range tt.wantInBody {
				if !strings.Contains(got, want) {
					t.Errorf("response %s does not contain %s", got, want)
				}
			}
			if rec.Header().Get("x-amzn-RequestId") == "" && rec.Header().Get("x-amz-request-id") == "" {
				t.Errorf("no request ID header in %v", rec.Header())
			}
		})
	}
}

func TestGzipRequestBody(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte("Action=Echo&Version=2020-01-01&Name=zipped"))
	zw.Close()
	h := NewHandler(NewBinding(echoService("query"), struct{}{}, true), nil)
	req := httptest.NewRequest("POST", "/", &buf)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Content-Encoding", "gzip")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "<Name>zipped</Name>") {
		t.Fatalf("got %d %s, want the unzipped name echoed", rec.Code, rec.Body)
	}
}

func TestBodyTooLarge(t *testing.T) {
	h := NewHandler(NewBinding(echoService("json"), struct{}{}, true), nil)
	req := httptest.NewRequest("POST", "/", strings.NewReader(`{"Name":"`+strings.Repeat("a", MaxBodySize)+`"}`))
	req.Header.Set("X-Amz-Target", "Echo_20200101.Echo")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d, want 413", rec.Code)
	}
}

func TestEpochFormat(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{{1398796238, "1398796238"}, {1398796238.123, "1398796238.123"}, {1398796238.5, "1398796238.5"}}
	for _, tt := range tests {
		if got := formatEpoch(epochTime(tt.in)); got != tt.want {
			t.Errorf("formatEpoch(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
	got := splitHeaderList(`a, "b,c", "d\"e"`, false)
	if diff := cmp.Diff([]string{"a", "b,c", `d"e`}, got); diff != "" {
		t.Errorf("splitHeaderList (-want +got):\n%s", diff)
	}
}
