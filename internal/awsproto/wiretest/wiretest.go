// Package wiretest reads AWS error responses the way the SDKs do, for
// the tests of what writes them (awsproto's handler, the gateway).
package wiretest

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
)

// ReadError reads the code and message of an error response in proto's
// envelope ("json", "rest-json", "query", "rest-xml" or "ec2"). It fails
// when the body does not parse as that envelope or names no code, and
// when a JSON body's __type is not its X-Amzn-ErrorType header.
func ReadError(proto string, h http.Header, body []byte) (code, message string, err error) {
	switch proto {
	case "json", "rest-json":
		var doc struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			return "", "", fmt.Errorf("%s body %q: %v", proto, body, err)
		}
		code, message = h.Get("X-Amzn-ErrorType"), doc.Message
		if proto == "json" && doc.Type != code {
			return code, message, fmt.Errorf("__type %q differs from X-Amzn-ErrorType %q", doc.Type, code)
		}
		// A JSON service compatible with its query past names the query
		// protocol's code here, which SDKs prefer.
		if q := h.Get("x-amzn-query-error"); q != "" {
			code, _, _ = strings.Cut(q, ";")
		}
	case "ec2":
		var doc struct {
			Code    string `xml:"Errors>Error>Code"`
			Message string `xml:"Errors>Error>Message"`
		}
		if err := xml.Unmarshal(body, &doc); err != nil {
			return "", "", fmt.Errorf("ec2 body %q: %v", body, err)
		}
		code, message = doc.Code, doc.Message
	default:
		// query and rest-xml wrap Error in ErrorResponse; S3 sends it bare.
		var doc struct {
			XMLName xml.Name
			Error   struct{ Code, Message string }
			Code    string
			Message string
		}
		if err := xml.Unmarshal(body, &doc); err != nil {
			return "", "", fmt.Errorf("%s body %q: %v", proto, body, err)
		}
		switch doc.XMLName.Local {
		case "ErrorResponse":
			code, message = doc.Error.Code, doc.Error.Message
		case "Error":
			code, message = doc.Code, doc.Message
		default:
			return "", "", fmt.Errorf("%s body has root <%s>", proto, doc.XMLName.Local)
		}
	}
	if code == "" {
		return "", message, fmt.Errorf("%s error without a code: %q", proto, body)
	}
	return code, message, nil
}
