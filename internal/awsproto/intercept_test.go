package awsproto

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestInterceptors: interceptors in the request's context run outermost
// first around the implementation, see the decoded input, and one that
// refuses a call keeps it from the implementation and answers its error.
func TestInterceptors(t *testing.T) {
	var trace []string
	record := func(name string) Interceptor {
		return func(ctx context.Context, c *Call, next func(context.Context) (any, error)) (any, error) {
			trace = append(trace, name+" before "+c.Operation.Name+" "+*c.Input.(*echoInput).Name)
			out, err := next(ctx)
			trace = append(trace, name+" after")
			return out, err
		}
	}
	refuse := func(ctx context.Context, c *Call, next func(context.Context) (any, error)) (any, error) {
		if *c.Input.(*echoInput).Name == "secret" {
			return nil, &Error{Code: "AccessDeniedException", Status: 403, Message: "not for you"}
		}
		return next(ctx)
	}
	h := NewHandler(NewBinding(echoService("json"), struct{}{}, true), nil)
	serve := func(name string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/", strings.NewReader(`{"Name":"`+name+`"}`))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "Echo_20200101.Echo")
		req = req.WithContext(WithInterceptors(req.Context(), record("outer"), refuse, record("inner")))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	if rec := serve("a"); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"Name":"a"`) {
		t.Errorf("allowed call: %d %s", rec.Code, rec.Body)
	}
	if rec := serve("secret"); rec.Code != 403 || !strings.Contains(rec.Body.String(), "AccessDeniedException") {
		t.Errorf("refused call: %d %s", rec.Code, rec.Body)
	}
	want := []string{"outer before Echo a", "inner before Echo a", "inner after", "outer after",
		"outer before Echo secret", "outer after"}
	if diff := cmp.Diff(want, trace); diff != "" {
		t.Errorf("trace (-want +got):\n%s", diff)
	}
}
