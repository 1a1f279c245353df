package functions

import (
	"maps"
	"slices"

	"github.com/dop251/goja"
)

// valuesObject is a querystring, headers or cookies object as the handler
// sees it. Browsers send a dozen headers and a function reads one or two,
// so an entry becomes a JavaScript value only when the function touches it;
// the others are read back as they came, without a conversion.
type valuesObject struct {
	vm   *goja.Runtime
	orig map[string]Value
	// live holds the entries the function read or set.
	live map[string]goja.Value
	// deleted holds the entries of orig the function deleted.
	deleted map[string]bool
}

var _ goja.DynamicObject = (*valuesObject)(nil)

func newValuesObject(vm *goja.Runtime, orig map[string]Value) *goja.Object {
	return vm.NewDynamicObject(&valuesObject{vm: vm, orig: orig})
}

func (o *valuesObject) Get(key string) goja.Value {
	if v, ok := o.live[key]; ok {
		return v
	}
	orig, ok := o.orig[key]
	if !ok || o.deleted[key] {
		return nil
	}
	v := o.vm.ToValue(valueMap(orig))
	o.set(key, v)
	return v
}

func (o *valuesObject) Set(key string, v goja.Value) bool {
	o.set(key, v)
	return true
}

func (o *valuesObject) set(key string, v goja.Value) {
	if o.live == nil {
		o.live = map[string]goja.Value{}
	}
	o.live[key] = v
}

func (o *valuesObject) Has(key string) bool {
	if _, ok := o.live[key]; ok {
		return true
	}
	_, ok := o.orig[key]
	return ok && !o.deleted[key]
}

func (o *valuesObject) Delete(key string) bool {
	delete(o.live, key)
	if _, ok := o.orig[key]; ok {
		if o.deleted == nil {
			o.deleted = map[string]bool{}
		}
		o.deleted[key] = true
	}
	return true
}

func (o *valuesObject) Keys() []string {
	keys := make([]string, 0, len(o.orig)+len(o.live))
	for k := range o.orig {
		if _, ok := o.live[k]; !ok && !o.deleted[k] {
			keys = append(keys, k)
		}
	}
	keys = append(keys, slices.Collect(maps.Keys(o.live))...)
	slices.Sort(keys)
	return keys
}

// values reads the entries back. Untouched, the original map is returned
// as it is.
func (o *valuesObject) values(field string) (map[string]Value, error) {
	if len(o.live) == 0 && len(o.deleted) == 0 && o.orig != nil {
		return o.orig, nil
	}
	out := make(map[string]Value, len(o.orig)+len(o.live))
	for k, v := range o.orig {
		if !o.deleted[k] {
			out[k] = v
		}
	}
	live := make(map[string]any, len(o.live))
	for k, v := range o.live {
		delete(out, k)
		live[k] = v.Export()
	}
	if err := readEntries(out, live, field, o.orig); err != nil {
		return nil, err
	}
	return out, nil
}
