package awstest

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"overcast/internal/service/servicetest"
)

// WaitFor polls cond until it holds, failing the test after 10 seconds:
// the way to wait for background work (a controller's reconcile, an event
// delivered) without sleeping a guessed duration.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	servicetest.WaitFor(t, what, cond)
}

// APIError is an AWS error a test expects. Empty fields are not checked;
// Message is matched as a substring.
type APIError struct {
	Code    string
	Status  int
	Message string
	// NoMessage wants an error that carries no message at all, as some of
	// AWS's do (SSM's ParameterNotFound).
	NoMessage bool
}

// WantAPIError reports (with t.Errorf) unless err is the AWS error want, as
// the SDK surfaces it; it returns whether it was.
func WantAPIError(t testing.TB, err error, want APIError) bool {
	t.Helper()
	if err == nil {
		t.Errorf("got no error, want %s", want)
		return false
	}
	got := APIError{Code: ErrorCode(err), Status: HTTPStatus(err)}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		got.Message = ae.ErrorMessage()
	}
	if (want.Code != "" && got.Code != want.Code) || (want.Status != 0 && got.Status != want.Status) ||
		!strings.Contains(got.Message, want.Message) || (want.NoMessage && got.Message != "") {
		t.Errorf("got %s, want %s", got, want)
		return false
	}
	return true
}

func (e APIError) String() string {
	s := e.Code
	if e.Status != 0 {
		s += " (HTTP " + strconv.Itoa(e.Status) + ")"
	}
	if e.Message != "" {
		s += ` "` + e.Message + `"`
	}
	if e.NoMessage {
		s += " with no message"
	}
	return s
}

// ErrorCode is the AWS error code of err, or "" when it has none.
func ErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// HTTPStatus is the HTTP status of a failed SDK call, or 0.
func HTTPStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// FreePort is a loopback port nothing listens on now, for a listener a
// test asks overcast to open (a load balancer's, say).
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
