package authz

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"overcast/internal/awsproto"
)

// The helpers here read an input's fields by name, so that a table's
// rules are one line each across the many operations that name their
// resource the same way (ResourceArn, Cluster, QueueUrl). A name the
// input does not have is a mistake in the table: they panic, and
// internal/app's test calls every rule of every table to find it.

// Field is the string field name of in, a generated request (a pointer
// to its struct): "" when it is unset or in is nil.
func Field(in any, name string) string {
	f := field(in, name)
	if !f.IsValid() {
		return ""
	}
	if f.Kind() == reflect.Pointer {
		if f.IsNil() {
			return ""
		}
		f = f.Elem()
	}
	if f.Kind() != reflect.String {
		panic(fmt.Sprintf("authz: field %s of %T is not a string", name, in))
	}
	return f.String()
}

// Fields is the strings of in's field name, a list of them or one.
func Fields(in any, name string) []string {
	f := field(in, name)
	if !f.IsValid() {
		return nil
	}
	if f.Kind() != reflect.Slice {
		if s := Field(in, name); s != "" {
			return []string{s}
		}
		return nil
	}
	if f.Type().Elem().Kind() != reflect.String {
		panic(fmt.Sprintf("authz: field %s of %T is not a list of strings", name, in))
	}
	out := make([]string, 0, f.Len())
	for i := range f.Len() {
		out = append(out, f.Index(i).String())
	}
	return out
}

func field(in any, name string) reflect.Value {
	v := reflect.ValueOf(in)
	if !v.IsValid() || (v.Kind() == reflect.Pointer && v.IsNil()) {
		return reflect.Value{}
	}
	v = reflect.Indirect(v)
	if v.Kind() != reflect.Struct {
		panic(fmt.Sprintf("authz: %T is not a request", in))
	}
	f := v.FieldByName(name)
	if !f.IsValid() {
		panic(fmt.Sprintf("authz: %T has no field %s", in, name))
	}
	return f
}

// Ref is Rule.Resources for an input that names its resources in its
// field name (one or a list): arn of each, or the name itself when it is
// already an ARN. A nil arn takes names as ARNs.
func Ref(name string, arn func(s Scope, name string) string) func(context.Context, Scope, any) []string {
	return func(_ context.Context, s Scope, in any) []string {
		var out []string
		for _, n := range Fields(in, name) {
			switch {
			case n == "":
			case strings.HasPrefix(n, "arn:") || arn == nil:
				out = append(out, n)
			default:
				out = append(out, arn(s, n))
			}
		}
		return out
	}
}

// ResourceARN is Rule.Resources for the many operations that name their
// resource by ARN in ResourceArn (TagResource, ListTagsForResource).
var ResourceARN = Ref("ResourceArn", nil)

// HasField reports whether in, a generated request, has a field name:
// for the rules shared by inputs that name their resource in different
// fields.
func HasField(in any, name string) bool {
	v := reflect.Indirect(reflect.ValueOf(in))
	return v.Kind() == reflect.Struct && v.FieldByName(name).IsValid()
}

// Union is Rule.Resources for an input that names its resources in
// several ways (SNS's Publish: TopicArn or TargetArn): all of them.
func Union(of ...func(context.Context, Scope, any) []string) func(context.Context, Scope, any) []string {
	return func(ctx context.Context, s Scope, in any) []string {
		var out []string
		for _, f := range of {
			out = append(out, f(ctx, s, in)...)
		}
		return out
	}
}

// RequestTags are the aws:RequestTag/<key> and aws:TagKeys condition keys
// of a call that tags what it creates or names (the same for every
// service): from its Tags field, a map of them or a list of Key/Value
// pairs (CloudFront's under Items), or a list of keys alone, and from its
// TagKeys. Nil for a call with no tags.
func RequestTags(in any) map[string][]string {
	v := reflect.Indirect(reflect.ValueOf(in))
	if v.Kind() != reflect.Struct {
		return nil
	}
	keys := map[string][]string{}
	add := func(k string, value *string) {
		if value != nil {
			keys["aws:RequestTag/"+k] = []string{*value}
		}
		if !slices.Contains(keys["aws:TagKeys"], k) {
			keys["aws:TagKeys"] = append(keys["aws:TagKeys"], k)
		}
	}
	tags := reflect.Indirect(v.FieldByName("Tags"))
	if tags.Kind() == reflect.Struct {
		tags = tags.FieldByName("Items")
	}
	switch tags.Kind() {
	case reflect.Map:
		if tags.Type().Key().Kind() == reflect.String {
			for _, k := range tags.MapKeys() {
				add(k.String(), stringOf(tags.MapIndex(k)))
			}
		}
	case reflect.Slice:
		for i := range tags.Len() {
			t := reflect.Indirect(tags.Index(i))
			switch t.Kind() {
			case reflect.String:
				add(t.String(), nil)
			case reflect.Struct:
				if k := stringOf(t.FieldByName("Key")); k != nil {
					add(*k, stringOf(t.FieldByName("Value")))
				}
			}
		}
	}
	if tagKeys := v.FieldByName("TagKeys"); tagKeys.Kind() == reflect.Slice && tagKeys.Type().Elem().Kind() == reflect.String {
		for i := range tagKeys.Len() {
			add(tagKeys.Index(i).String(), nil)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	return keys
}

// stringOf is v's string, through a pointer; nil when it has none.
func stringOf(v reflect.Value) *string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.String {
		return nil
	}
	s := v.String()
	return &s
}

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
