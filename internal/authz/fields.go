package authz

import (
	"reflect"

	"overcast/internal/awsproto"
)

// StringField returns the string an input's *string field holds, "" when
// it has no such field or it is unset: what tables use for the names
// (Bucket, RepositoryName, UserName) many operations of a service share.
func StringField(in any, name string) string {
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return ""
	}
	f := v.Elem().FieldByName(name)
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() || f.Elem().Kind() != reflect.String {
		return ""
	}
	return f.Elem().String()
}

// Every returns rules with rule for each of svc's operations that rules
// does not name: for services whose operations all touch the resource
// their input names the same way (IAM's UserName, ECR's repositoryName).
func Every(svc *awsproto.Service, rule Rule, rules map[string]Rule) map[string]Rule {
	out := make(map[string]Rule, len(svc.Operations))
	for _, op := range svc.Operations {
		out[op.Name] = rule
	}
	for op, r := range rules {
		out[op] = r
	}
	return out
}
