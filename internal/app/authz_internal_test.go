package app

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"overcast/internal/authz"
	"overcast/internal/awsproto"
	"overcast/internal/service"
)

// TestAuthzTables: every rule of every registered API's authorization
// table is for an operation of its model, and asking it what a call
// touches, whether the call is empty or has every field set (to names or
// to ARNs), never panics (the tables read inputs' fields by name).
func TestAuthzTables(t *testing.T) {
	m := New(Config{Addr: "127.0.0.1:0", DataDir: t.TempDir()})
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	scope := authz.Scope{Region: "us-east-1", AccountID: "123456789012"}
	tables := 0
	for _, s := range m.services {
		p, ok := s.(service.APIProvider)
		if !ok || p.API().Authz == nil {
			continue
		}
		tables++
		a := p.API()
		svc := a.Binding.Service()
		ops := svc.Operations
		// S3's browser POST uploads are served outside the model.
		if raw, ok := s.(interface{ RawOperations() []awsproto.Operation }); ok {
			ops = append(slices.Clip(ops), raw.RawOperations()...)
		}
		for op, rule := range a.Authz.Rules {
			i := slices.IndexFunc(ops, func(o awsproto.Operation) bool { return o.Name == op })
			if i < 0 {
				t.Errorf("%s: rule for %s, which is no operation of its model", svc.ID, op)
				continue
			}
			o := ops[i]
			for _, sample := range []string{"", "sample-name", "arn:aws:" + svc.ID + ":us-east-1:123456789012:thing/sample"} {
				var in any // operations without input (IAM's GetAccountSummary) have no NewInput
				if o.NewInput != nil {
					in = o.NewInput()
				}
				if sample != "" && in != nil {
					fill(reflect.ValueOf(in).Elem(), sample, 0)
				}
				func() {
					defer func() {
						if r := recover(); r != nil {
							t.Errorf("%s %s with %q: panic: %v", svc.ID, op, sample, r)
						}
					}()
					checks := a.Authz.Checks(context.Background(), op, scope, in)
					if len(checks) == 0 && !rule.Unauthorized {
						t.Errorf("%s %s: no checks", svc.ID, op)
					}
				}()
			}
		}
	}
	if tables == 0 {
		t.Fatal("no API has an authorization table")
	}
}

// fill sets every field of v, down to depth levels of nesting: strings to
// sample, numbers to 1, lists and maps to one filled element.
func fill(v reflect.Value, sample string, depth int) {
	if depth > 6 || !v.CanSet() {
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(sample)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), sample, depth+1)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), sample, depth+1)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, sample, depth+1)
		fill(e, sample, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i), sample, depth+1)
		}
	}
}
