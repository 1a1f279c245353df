package functions

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrorStatus is the status CloudFront answers a viewer with when a
// function fails, whatever the cause (an exception, an invalid return
// value, a limit).
const ErrorStatus = http.StatusServiceUnavailable

// ErrCodeTooLarge is returned by Compile for code over MaxCodeSize bytes;
// the API reports it as FunctionSizeLimitExceeded.
var ErrCodeTooLarge = fmt.Errorf("functions: the function code is larger than %d bytes", MaxCodeSize)

// ErrUnknownRuntime is returned by Compile for a runtime other than
// Runtime1 and Runtime2; the API reports it as InvalidArgument.
var ErrUnknownRuntime = errors.New("functions: unknown runtime")

// SyntaxError is returned by Compile for code CloudFront's runtime would not
// accept: a syntax error, syntax the runtime does not support (let and const
// in cloudfront-js-1.0), or no handler function. The API reports it as
// InvalidArgument.
type SyntaxError struct {
	Message string
}

func (e *SyntaxError) Error() string { return e.Message }

// RuntimeError is a run that threw an exception or returned something
// CloudFront cannot use. Message is what TestFunction reports in
// FunctionErrorMessage.
type RuntimeError struct {
	Message string
}

func (e *RuntimeError) Error() string { return e.Message }

// ResultType is the x-edge-result-type CloudFront logs, and puts in
// X-Cache ("<type> from cloudfront"), for such a request.
func (e *RuntimeError) ResultType() string { return "FunctionExecutionError" }

// LimitError is a run stopped because it went over its time or memory
// limit.
type LimitError struct {
	Limit   string // "time" or "memory"
	Message string
}

func (e *LimitError) Error() string { return e.Message }

// ResultType is the x-edge-result-type CloudFront logs, and puts in
// X-Cache, for a function over its limits.
func (e *LimitError) ResultType() string { return "FunctionThrottledError" }

func invalidResult(format string, args ...any) *RuntimeError {
	return &RuntimeError{Message: "The function returned an invalid value: " + fmt.Sprintf(format, args...)}
}
