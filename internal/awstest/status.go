package awstest

import "net/http"

// An AWS error code comes with one HTTP status, the same for every
// operation of a service: these build the APIError a test expects from the
// code and the message alone, so that a table of errors states each status
// once, by name, as the service's error reference does.
var (
	// BadRequest is a client error at HTTP 400: all of the JSON
	// services' errors (ECR, SSM, Logs, Secrets Manager) and most of the
	// query and XML ones'.
	BadRequest = withStatus(http.StatusBadRequest)
	// Forbidden is an error at HTTP 403: AccessDenied, and a request whose
	// credentials or signature AWS does not accept.
	Forbidden = withStatus(http.StatusForbidden)
	// NotFound is an error at HTTP 404: IAM's NoSuchEntity, S3's NoSuch*.
	NotFound = withStatus(http.StatusNotFound)
	// Conflict is an error at HTTP 409: IAM's DeleteConflict,
	// EntityAlreadyExists and LimitExceeded, S3's bucket conflicts.
	Conflict = withStatus(http.StatusConflict)
)

func withStatus(status int) func(code, message string) APIError {
	return func(code, message string) APIError {
		return APIError{Code: code, Status: status, Message: message}
	}
}
