package awsproto

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// APIError is an error that has an AWS error code. Generated exception
// shapes implement it, and so does *Error; any other error a service returns
// becomes an InternalFailure (500) and is logged, never shown to the client.
type APIError interface {
	error
	ErrorCode() string
	ErrorMessage() string
	HTTPStatusCode() int
}

// Error is an AWS error that no model declares: the common errors every
// service can return (ValidationError, AccessDenied, Throttling, ...).
type Error struct {
	Code    string
	Message string
	Status  int
	// Header is added to the response; S3, for example, reports some
	// errors' details in headers.
	Header http.Header
	// Fields are extra elements of an S3 error document (BucketName, Key,
	// Condition, ...), written after Message in this order.
	Fields []Field
}

var _ APIError = (*Error)(nil)

func (e *Error) Error() string        { return ErrorString(e) }
func (e *Error) ErrorCode() string    { return e.Code }
func (e *Error) ErrorMessage() string { return e.Message }
func (e *Error) HTTPStatusCode() int  { return e.Status }

// Errorf returns an *Error with a formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Status: status}
}

// ErrorString is the text of an API error: "Code: message".
func ErrorString(e APIError) string {
	if m := e.ErrorMessage(); m != "" {
		return e.ErrorCode() + ": " + m
	}
	return e.ErrorCode()
}

// NotImplemented is what the generated UnimplementedServer returns: the
// operation exists in AWS's model but overcast does not serve it yet.
func NotImplemented(operation string) error {
	return &Error{Code: "NotImplemented", Status: http.StatusNotImplemented,
		Message: fmt.Sprintf("The operation %s is not implemented by overcast yet.", operation)}
}

// AsAPIError returns err as an APIError when it is one (or wraps one).
func AsAPIError(err error) (APIError, bool) {
	var e APIError
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// InternalFailure is sent for errors that are overcast's fault; the detail
// goes to the log, the client gets the request ID to quote.
func InternalFailure() *Error {
	return &Error{Code: "InternalFailure", Status: http.StatusInternalServerError,
		Message: "The request processing has failed because of an unknown error, exception or failure."}
}

// Overloaded is sent for a write that kept losing races with other
// requests' writes (store.ErrConflict after the retries): the request was
// fine and may well succeed again, so the client gets the throttling error
// its SDK retries with backoff, S3's SlowDown or everyone else's
// ServiceUnavailable, not an InternalFailure.
func Overloaded(svcID string) *Error {
	if svcID == "s3" {
		return &Error{Code: "SlowDown", Status: http.StatusServiceUnavailable,
			Message: "Please reduce your request rate."}
	}
	return &Error{Code: "ServiceUnavailable", Status: http.StatusServiceUnavailable,
		Message: "The service is unavailable. Please try again later."}
}

// serializationError reports a request the codec could not decode, with the
// code each protocol family uses for it.
func serializationError(protocol string, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	switch protocol {
	case "query", "ec2":
		return &Error{Code: "MalformedQueryString", Message: msg, Status: http.StatusBadRequest}
	case "rest-xml":
		return &Error{Code: "MalformedXML", Message: msg, Status: http.StatusBadRequest}
	default:
		return &Error{Code: "SerializationException", Message: msg, Status: http.StatusBadRequest}
	}
}

// validationError reports a missing or invalid parameter, with the code
// each protocol family uses for it.
func validationError(protocol, msg string) *Error {
	switch protocol {
	case "query":
		return &Error{Code: "ValidationError", Message: msg, Status: http.StatusBadRequest}
	case "ec2":
		return &Error{Code: "InvalidParameterValue", Message: msg, Status: http.StatusBadRequest}
	case "rest-xml":
		return &Error{Code: "InvalidArgument", Message: msg, Status: http.StatusBadRequest}
	default:
		return &Error{Code: "ValidationException", Message: msg, Status: http.StatusBadRequest}
	}
}

// ValidationMessage words constraint failures the way AWS's request
// validation does: "1 validation error detected: X", or "2 validation
// errors detected: X; Y". Services that check more than the codec does use
// it too, so every message has the same shape.
func ValidationMessage(problems []string) string {
	if len(problems) == 1 {
		return "1 validation error detected: " + problems[0]
	}
	return fmt.Sprintf("%d validation errors detected: %s", len(problems), strings.Join(problems, "; "))
}
