package iam

import (
	"fmt"
	"net/http"
	"strings"

	api "overcast/internal/api/iam"
	"overcast/internal/awsproto"
)

// The codec checks requests against IAM's model (lengths, patterns, enums)
// before they reach the service. What is left here are the rules the
// model cannot state, worded as AWS words them.

// validationError is IAM's answer to a request it refuses as invalid.
func validationError(msg string) error {
	return &awsproto.Error{Code: "ValidationError", Status: http.StatusBadRequest, Message: msg}
}

// constraintError is one failed constraint in AWS's validation wording.
func constraintError(member, value, constraint string) error {
	return validationError(awsproto.ValidationMessage([]string{fmt.Sprintf(
		"Value '%s' at '%s' failed to satisfy constraint: %s", value, member, constraint)}))
}

// accountAliasPattern is the model's, which the codec cannot check: RE2
// has no lookahead.
const accountAliasPattern = `^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$`

// validAccountAlias is accountAliasPattern spelled out.
func validAccountAlias(s string) bool {
	if len(s) < 3 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// quotaExceeded is IAM's LimitExceeded for one of its quotas, by the name
// AWS gives it in the message.
func quotaExceeded(name string, quota int) error {
	return api.NewLimitExceededException("Cannot exceed quota for %s: %d", name, quota)
}
