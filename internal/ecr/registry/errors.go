package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Code is an error code of the distribution spec, with the HTTP status the
// spec (or, where it is silent, distribution's reference implementation)
// gives it.
type Code string

const (
	CodeBlobUnknown         Code = "BLOB_UNKNOWN"
	CodeBlobUploadInvalid   Code = "BLOB_UPLOAD_INVALID"
	CodeBlobUploadUnknown   Code = "BLOB_UPLOAD_UNKNOWN"
	CodeDigestInvalid       Code = "DIGEST_INVALID"
	CodeManifestBlobUnknown Code = "MANIFEST_BLOB_UNKNOWN"
	CodeManifestInvalid     Code = "MANIFEST_INVALID"
	CodeManifestUnknown     Code = "MANIFEST_UNKNOWN"
	CodeNameInvalid         Code = "NAME_INVALID"
	CodeNameUnknown         Code = "NAME_UNKNOWN"
	CodeSizeInvalid         Code = "SIZE_INVALID"
	CodeUnauthorized        Code = "UNAUTHORIZED"
	CodeDenied              Code = "DENIED"
	CodeUnsupported         Code = "UNSUPPORTED"
	CodeTooManyRequests     Code = "TOOMANYREQUESTS"
	// CodeTagInvalid is docker's (and ECR's) code for a tag that cannot be
	// written, such as an immutable one.
	CodeTagInvalid Code = "TAG_INVALID"
	// CodeRangeInvalid is a chunk that does not start where the upload
	// stands: 416, as the spec requires.
	CodeRangeInvalid Code = "RANGE_INVALID"
	// CodePaginationNumberInvalid is distribution's code for a bad n.
	CodePaginationNumberInvalid Code = "PAGINATION_NUMBER_INVALID"
)

var statuses = map[Code]int{
	CodeBlobUnknown:             http.StatusNotFound,
	CodeBlobUploadInvalid:       http.StatusBadRequest,
	CodeBlobUploadUnknown:       http.StatusNotFound,
	CodeDigestInvalid:           http.StatusBadRequest,
	CodeManifestBlobUnknown:     http.StatusBadRequest,
	CodeManifestInvalid:         http.StatusBadRequest,
	CodeManifestUnknown:         http.StatusNotFound,
	CodeNameInvalid:             http.StatusBadRequest,
	CodeNameUnknown:             http.StatusNotFound,
	CodeSizeInvalid:             http.StatusBadRequest,
	CodeUnauthorized:            http.StatusUnauthorized,
	CodeDenied:                  http.StatusForbidden,
	CodeUnsupported:             http.StatusMethodNotAllowed,
	CodeTooManyRequests:         http.StatusTooManyRequests,
	CodeTagInvalid:              http.StatusBadRequest,
	CodeRangeInvalid:            http.StatusRequestedRangeNotSatisfiable,
	CodePaginationNumberInvalid: http.StatusBadRequest,
}

// Error is a registry error: what the client sees in the errors envelope.
type Error struct {
	Code    Code
	Message string
	Detail  any
	// Cause is the backend's error this words, for an Auditor that words
	// it otherwise.
	Cause error
}

func (e *Error) Error() string { return fmt.Sprintf("registry: %s: %s", e.Code, e.Message) }

func (e *Error) Unwrap() error { return e.Cause }

// Status is the HTTP status the error is answered with.
func (e *Error) Status() int {
	if s, ok := statuses[e.Code]; ok {
		return s
	}
	return http.StatusBadRequest
}

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// envelope is the spec's error body.
type envelope struct {
	Errors []envelopeError `json:"errors"`
}

type envelopeError struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

// writeError answers err: an *Error as itself, anything else as a 500
// without details (the caller logs it).
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Code: "UNKNOWN", Message: "internal server error"}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		json.NewEncoder(w).Encode(envelope{Errors: []envelopeError{{Code: e.Code, Message: e.Message}}})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if r.Method == http.MethodHead {
		w.WriteHeader(e.Status())
		return
	}
	w.WriteHeader(e.Status())
	json.NewEncoder(w).Encode(envelope{Errors: []envelopeError{{Code: e.Code, Message: e.Message, Detail: e.Detail}}})
}
