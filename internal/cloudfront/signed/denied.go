package signed

import (
	"net/http"
	"strconv"
)

// Denied is CloudFront's refusal of a request that a behaviour requires
// to be signed. The viewer gets 403 with Body.
type Denied struct {
	Code    string
	Message string
}

// The refusals CloudFront answers with, as a viewer sees them. They are
// shared: callers must not change them.
var (
	errMissingKey = &Denied{"MissingKey", "Missing Key-Pair-Id query parameter or cookie value"}
	errUnknownKey = &Denied{"InvalidKey", "Unknown Key"}
	// errMalformedPolicy: the policy does not decode, is not a policy, or
	// neither a policy nor an expiry was sent.
	errMalformedPolicy = &Denied{"MalformedPolicy", "Malformed Policy"}
	// errMalformedSignature: the signature is not CloudFront's base64.
	errMalformedSignature = &Denied{"MalformedSignature", "Could not unencode Signature"}
	// errAccessDenied covers everything else: a signature that does not
	// verify, an expired or not yet valid policy, another viewer address,
	// another resource. CloudFront does not say which.
	errAccessDenied = &Denied{"AccessDenied", "Access denied"}
)

// ContentType is the Content-Type of Body.
const ContentType = "text/xml"

func (d *Denied) Error() string {
	return "cloudfront: signed request denied: " + d.Code + ": " + d.Message
}

// Body is CloudFront's error document, byte for byte: one line, no
// trailing newline.
func (d *Denied) Body() []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + d.Code +
		`</Code><Message>` + d.Message + `</Message></Error>`)
}

// WriteTo answers the viewer: 403 with Body. Headers the edge adds to
// every answer (X-Cache, Via, ...) must be set on w before.
func (d *Denied) WriteTo(w http.ResponseWriter) {
	body := d.Body()
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusForbidden)
	w.Write(body)
}
