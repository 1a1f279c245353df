package secretsmanager

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"overcast"
	api "overcast/internal/api/secretsmanager"
)

// ValueFrom is a parsed ECS secret reference:
//
//	arn:aws:secretsmanager:region:account:secret:name-AbCdEf[:json-key[:version-stage[:version-id]]]
//
// or a bare secret name in the task's account and region. Empty fields
// take their defaults: the whole value, AWSCURRENT.
type ValueFrom struct {
	Account, Region string
	SecretID        string // the ARN without the suffix fields, or the name
	JSONKey         string
	VersionStage    string
	VersionID       string
}

// ParseValueFrom parses an ECS valueFrom that names a Secrets Manager
// secret; account and region apply to bare names.
func ParseValueFrom(account, region, s string) (ValueFrom, error) {
	v := ValueFrom{Account: account, Region: region, SecretID: s}
	if !strings.HasPrefix(s, "arn:") {
		if s == "" || strings.Contains(s, ":") {
			return v, fmt.Errorf("secretsmanager: %q is neither a secret name nor a secret ARN", s)
		}
		return v, nil
	}
	parts := strings.Split(s, ":")
	a, ok := overcast.ParseARN(strings.Join(parts[:min(len(parts), 7)], ":"))
	if !ok || len(parts) < 7 || len(parts) > 10 || a.Service != "secretsmanager" || parts[5] != "secret" || parts[6] == "" {
		return v, fmt.Errorf("secretsmanager: %q is not a secret ARN (arn:aws:secretsmanager:region:account:secret:name[:json-key:version-stage:version-id])", s)
	}
	v.Account, v.Region = a.AccountID, a.Region
	v.SecretID = strings.Join(parts[:7], ":")
	field := func(i int) string {
		if i < len(parts) {
			return parts[i]
		}
		return ""
	}
	v.JSONKey, v.VersionStage, v.VersionID = field(7), field(8), field(9)
	return v, nil
}

// ResolveSecret returns the value an ECS valueFrom names (see ValueFrom),
// for injecting into a container: the secret string, or one top-level key
// of it when it is a JSON object. Errors are the API's where one applies
// (ResourceNotFoundException, InvalidRequestException).
func (s *Service) ResolveSecret(ctx context.Context, account, region, valueFrom string) (string, error) {
	ref, err := ParseValueFrom(account, region, valueFrom)
	if err != nil {
		return "", err
	}
	var versionID, stage *string
	if ref.VersionID != "" {
		versionID = &ref.VersionID
	}
	if ref.VersionStage != "" {
		stage = &ref.VersionStage
	}
	got, err := s.getValue(ctx, scope{Account: ref.Account, Region: ref.Region}, ref.SecretID, versionID, stage)
	if err != nil {
		return "", err
	}
	value := ""
	switch {
	case got.SecretString != nil:
		value = *got.SecretString
	default:
		value = string(got.SecretBinary)
	}
	if ref.JSONKey == "" {
		return value, nil
	}
	var doc map[string]json.RawMessage
	if got.SecretString == nil || json.Unmarshal([]byte(value), &doc) != nil {
		return "", api.NewInvalidRequestException("The secret %s is not a JSON object, so its key %s can't be read.", *got.Name, ref.JSONKey)
	}
	raw, ok := doc[ref.JSONKey]
	if !ok {
		return "", api.NewResourceNotFoundException("The secret %s has no JSON key %s.", *got.Name, ref.JSONKey)
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return str, nil
	}
	// Numbers, booleans and nested objects are injected as their JSON text.
	return string(raw), nil
}
